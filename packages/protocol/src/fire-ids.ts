/**
 * Deterministic ids for scheduled fires (DESIGN §2.1, "exactly once per fire time").
 *
 * A fire is (jobId, scheduledAt, shardIndex, attempt). Its run id is `run_` + the scheduled instant as the
 * 10-char time part + 80 bits of SHA-256 over the fire, so every scheduler replica, before or after a
 * crash, derives the same id for the same fire. The BullMQ job id is the run id itself, so:
 *   - a second `queue.add(..., { jobId })` of the same fire is a no-op while BullMQ still holds the job;
 *   - the run row's primary key is the same id, so a second insert conflicts, which also covers the case
 *     where BullMQ has already removed the completed job (`removeOnComplete`): insert the run first
 *     (on conflict do nothing), enqueue only if the insert won, then move `nextFireAt` forward.
 * Fire ids sort by scheduled time like random ids sort by creation time; both pass the `RunId` schema.
 * Runs that are not fires (manual, api) use `newId('run')`.
 */
import { ValidationError } from './errors/classes.js';
import type { ValidationIssue } from './errors/issues.js';
import { encodeIdEntropy, encodeIdTime, JobId, type RunId } from './ids.js';
import { sha256 } from './sha256.js';

/** Bumping this would change every fire id: never do it while a deployment has fires in flight. */
const FIRE_ID_VERSION = 'kisjobs.fire.v1';

export interface Fire {
  readonly jobId: string;
  readonly scheduledAt: Date;
  /** 0 unless the job broadcasts; each executor's run is its own fire. */
  readonly shardIndex?: number;
  /** 1 for the first try; each retry is its own fire. */
  readonly attempt?: number;
}

export function fireRunId(jobId: string, scheduledAt: Date, shardIndex = 0, attempt = 1): RunId {
  const issues: ValidationIssue[] = [];
  if (!JobId.safeParse(jobId).success) issues.push({ path: 'jobId', message: 'Invalid id: expected job_…' });
  const ms = scheduledAt.getTime();
  if (!Number.isInteger(ms) || ms < 0) {
    issues.push({ path: 'scheduledAt', message: 'Expected a valid instant after 1970' });
  }
  if (!Number.isInteger(shardIndex) || shardIndex < 0) {
    issues.push({ path: 'shardIndex', message: 'Expected an integer >= 0' });
  }
  if (!Number.isInteger(attempt) || attempt < 1) {
    issues.push({ path: 'attempt', message: 'Expected an integer >= 1' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  const digest = sha256(`${FIRE_ID_VERSION}\n${jobId}\n${ms}\n${shardIndex}\n${attempt}`);
  return `run_${encodeIdTime(ms)}${encodeIdEntropy(digest.subarray(0, 10))}`;
}

/** The BullMQ job id of a run: the run id itself (it has no `:` and is not a number, as BullMQ requires). */
export function queueJobIdOf(runId: RunId): string {
  return runId;
}

/** Both ids of a fire at once. */
export function fireIds(fire: Fire): { runId: RunId; queueJobId: string } {
  const runId = fireRunId(fire.jobId, fire.scheduledAt, fire.shardIndex, fire.attempt);
  return { runId, queueJobId: queueJobIdOf(runId) };
}
