/**
 * CPU time by process over a span of the pipeline benchmark, to say where the CPU of one run goes: this
 * process (the scheduler's dispatcher and ingestion, and the trigger callers), the executor child (all its
 * threads), the raw BullMQ worker child, every Postgres process and every Redis server on the machine.
 * Postgres and Redis are counted machine-wide (their backends come and go), so another program using them
 * at the same time shows up in those two columns.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { procUsage } from '../schedule/measure.js';

export type CpuParts = Readonly<Record<string, number>>;

function processesNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function cpuMsOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += procUsage(pid).cpuMs;
    } catch {
      // gone meanwhile: its time is lost to the ledger (backends of this benchmark live throughout)
    }
  }
  return total;
}

/** A snapshot of the CPU ms used so far by each part; `since` gives the difference to a later one. */
export function cpuSnapshot(children: Readonly<Record<string, number | undefined>>): CpuParts {
  const own = process.cpuUsage();
  const parts: Record<string, number> = { 'scheduler + bench': (own.user + own.system) / 1000 };
  for (const [name, pid] of Object.entries(children)) {
    if (pid !== undefined) parts[name] = cpuMsOf([pid]);
  }
  parts.postgres = cpuMsOf(processesNamed('postgres'));
  parts.redis = cpuMsOf(processesNamed('redis-server'));
  return parts;
}

/** CPU ms per unit of work (run or job) of each part between two snapshots. */
export function cpuPerUnit(before: CpuParts, after: CpuParts, units: number): CpuParts {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) out[name] = (value - (before[name] ?? 0)) / units;
  return out;
}
