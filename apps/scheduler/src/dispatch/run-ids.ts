/**
 * Run ids the dispatcher derives instead of drawing at random, so that doing the same thing twice (an
 * at-least-once callback, a sweep racing the live path, two replicas) inserts one row:
 * - a scheduled fire: `fireRunId(jobId, scheduledAt, shard, attempt)` from the protocol;
 * - a retry: from (previous run id, next attempt);
 * - a child job's run: from (parent run id, child job id, shard).
 * Same layout as every run id (10 chars of time, 16 of hash), so they pass the `RunId` schema. The time
 * part is an input instant (the previous run's scheduled time), never the clock.
 */
import { encodeIdEntropy, encodeIdTime, sha256, type RunId } from '@kisjobs/protocol';

const VERSION = 'kisjobs.derived.v1';

export function derivedRunId(seed: string, at: Date): RunId {
  const digest = sha256(`${VERSION}\n${seed}`);
  return `run_${encodeIdTime(Math.max(0, at.getTime()))}${encodeIdEntropy(digest.subarray(0, 10))}`;
}

export function retryRunId(previousRunId: string, nextAttempt: number, previousScheduledAt: Date): RunId {
  return derivedRunId(`retry\n${previousRunId}\n${nextAttempt}`, previousScheduledAt);
}

/** The seed of a child job's runs; the shard is appended per run (see `seededRunId`). */
export function childRunSeed(parentRunId: string, childJobId: string): string {
  return `child\n${parentRunId}\n${childJobId}`;
}

export function seededRunId(seed: string, shardIndex: number, at: Date): RunId {
  return derivedRunId(`${seed}\n${shardIndex}`, at);
}
