/**
 * The detector's memory between sweeps: suspects waiting for the ingestion guard, pending suspects
 * waiting for their confirming second look, when each pending run's queue was last probed, and what was
 * reported when (a run still not final is reported again after `reportAgainMs`, so a failed or lost
 * callback is repaired without reporting the same run every second).
 */
import type { ActiveRun, LostCause, StrandedRun } from './types.js';

export interface Suspect {
  readonly run: ActiveRun;
  readonly cause: LostCause;
  readonly reason: string;
  /**
   * Found from an offline executor's last heartbeat (a run it had taken, `started` never sent): the sweep
   * cannot see that itself, so only a live heartbeat listing the run, or the run ending, clears it.
   */
  readonly sticky: boolean;
  /** Redis time (ms) of the observation; events written before it must be ingested before reporting. */
  observedAt: number | undefined;
}

export interface SweepStateOptions {
  readonly confirmMs: number;
  readonly probeIntervalMs: number;
  readonly reportAgainMs: number;
}

export class SweepState {
  readonly #o: SweepStateOptions;
  readonly #suspects = new Map<string, Suspect>();
  readonly #firstSeen = new Map<string, { cause: LostCause; at: number }>();
  readonly #probedAt = new Map<string, number>();
  readonly #probeEvery = new Map<string, number>();
  readonly #reportedAt = new Map<string, number>();
  readonly #strandedAt = new Map<string, number>();

  constructor(options: SweepStateOptions) {
    this.#o = options;
  }

  get suspectCount(): number {
    return this.#suspects.size;
  }

  /** A certain suspect (executor offline, heartbeats): reported once the ingestion guard passes. */
  suspect(run: ActiveRun, cause: LostCause, reason: string, sticky = false): void {
    const existing = this.#suspects.get(run.id);
    if (existing !== undefined && existing.cause === cause) return;
    this.#suspects.set(run.id, { run, cause, reason, sticky, observedAt: undefined });
  }

  /** A suspect that needs a second look with the same finding at least `confirmMs` later. */
  suspectConfirmed(run: ActiveRun, cause: LostCause, reason: string): void {
    const first = this.#firstSeen.get(run.id);
    if (first === undefined || first.cause !== cause) {
      this.#firstSeen.set(run.id, { cause, at: performance.now() });
      return;
    }
    if (performance.now() - first.at >= this.#o.confirmMs) this.suspect(run, cause, reason);
  }

  /** The run looks fine now. A sticky suspect stays unless `force` (a live heartbeat lists the run). */
  clear(runId: string, force = false): void {
    if (force || this.#suspects.get(runId)?.sticky !== true) this.#suspects.delete(runId);
    this.#firstSeen.delete(runId);
  }

  /**
   * Redis was reset: what was suspected from its missing keys proves nothing. Drops every suspect but the
   * sticky ones (taken from a heartbeat before the reset; a live heartbeat listing the run still clears
   * them) and every first look waiting for its confirmation.
   */
  forgetSuspicions(): void {
    for (const [id, suspect] of this.#suspects) if (!suspect.sticky) this.#suspects.delete(id);
    this.#firstSeen.clear();
  }

  /** Whether the run's queue may be probed now (and records that it is). */
  probeDue(runId: string): boolean {
    const last = this.#probedAt.get(runId);
    const every = this.#firstSeen.has(runId)
      ? this.#o.confirmMs
      : (this.#probeEvery.get(runId) ?? this.#o.probeIntervalMs);
    const now = performance.now();
    if (last !== undefined && now - last < every) return false;
    this.#probedAt.set(runId, now);
    return true;
  }

  /** The run's job waits in its queue, as it should: look again less and less often (up to a minute). */
  probedWaiting(runId: string): void {
    const every = this.#probeEvery.get(runId) ?? this.#o.probeIntervalMs;
    this.#probeEvery.set(runId, Math.min(60_000, every * 2));
  }

  /** Stamps new suspects with the time of the observation that made them. */
  observed(redisNowMs: number): void {
    for (const suspect of this.#suspects.values()) suspect.observedAt ??= redisNowMs;
  }

  /** Suspects whose observation is older than the oldest event still waiting in the events stream. */
  ready(oldestEventMs: number | undefined): { ready: Suspect[]; deferred: number } {
    const ready: Suspect[] = [];
    let deferred = 0;
    for (const suspect of this.#suspects.values()) {
      if (suspect.observedAt === undefined) continue;
      if (oldestEventMs === undefined || oldestEventMs > suspect.observedAt) ready.push(suspect);
      else deferred += 1;
    }
    return { ready, deferred };
  }

  /** The run as re-read now is still as it was when suspected, and was not reported lately. */
  stillLost(suspect: Suspect, row: ActiveRun | undefined): boolean {
    const id = suspect.run.id;
    const reportedAt = this.#reportedAt.get(id);
    const same =
      row !== undefined &&
      row.status === suspect.run.status &&
      row.executorInstanceId === suspect.run.executorInstanceId;
    const recent = reportedAt !== undefined && performance.now() - reportedAt < this.#o.reportAgainMs;
    if (same && !recent) return true;
    this.#suspects.delete(id);
    return false;
  }

  reported(runIds: readonly string[]): void {
    const now = performance.now();
    for (const id of runIds) {
      this.#reportedAt.set(id, now);
      this.clear(id, true);
    }
  }

  /** Stranded runs not reported within `reportAgainMs`, now marked reported. */
  unreportedStranded(runs: readonly StrandedRun[]): StrandedRun[] {
    const now = performance.now();
    return runs.filter((run) => {
      const at = this.#strandedAt.get(run.runId);
      if (at !== undefined && now - at < this.#o.reportAgainMs) return false;
      this.#strandedAt.set(run.runId, now);
      return true;
    });
  }

  /** Forgets every run that is not active any more. */
  retain(activeRunIds: ReadonlySet<string>): void {
    for (const map of [
      this.#suspects,
      this.#firstSeen,
      this.#probedAt,
      this.#probeEvery,
      this.#reportedAt,
      this.#strandedAt,
    ]) {
      for (const id of map.keys()) if (!activeRunIds.has(id)) map.delete(id);
    }
  }
}
