/**
 * What a heartbeat says: the executor's active runs and whether it is draining (the snapshot the main
 * thread keeps the heartbeat thread supplied with), plus the time and load when the beat is sent.
 */
import { availableParallelism, loadavg } from 'node:os';
import type { RedisPayloadInput } from '@kisjobs/protocol';

export interface HeartbeatSnapshot {
  readonly runIds: readonly string[];
  readonly draining: boolean;
}

/** The heartbeat payload for a snapshot, now. */
export function heartbeatOf(instanceId: string, snapshot: HeartbeatSnapshot): RedisPayloadInput<'heartbeat'> {
  const load = (loadavg()[0] ?? 0) / Math.max(1, availableParallelism());
  return {
    instanceId,
    at: new Date().toISOString(),
    activeRuns: snapshot.runIds.length,
    load: Math.round(Math.max(0, load) * 1000) / 1000,
    runIds: snapshot.runIds.slice(0, 10_000),
    draining: snapshot.draining,
  };
}

/** Whether two snapshots say the same (the same runs in the same order, the same draining flag). */
export function sameSnapshot(a: HeartbeatSnapshot, b: HeartbeatSnapshot | undefined): boolean {
  if (b === undefined || a.draining !== b.draining || a.runIds.length !== b.runIds.length) return false;
  return a.runIds.every((id, i) => id === b.runIds[i]);
}
