/**
 * What every part of the dispatcher shares: the options bag, the cached queues and flow resolver, the
 * executor directory (the registry's `onlineExecutors`), and the dispatcher's own operations, handed to
 * the parts that call each other (a trigger terminates for `replace`; a finished run triggers child jobs),
 * so the modules do not import each other in a cycle.
 */
import type { Redis } from 'ioredis';
import type { PrismaClient } from '@kisjobs/db';
import type { Keyspace, Params, TriggerType } from '@kisjobs/protocol';
import type { FlowConfigResolver, ResolvedFlow } from '../configs/resolve.js';
import type { Clock, Logger } from '../registry/ports.js';
import type { Coalescer } from './coalesce.js';
import type { JobSpec } from './job-spec.js';
import type { RunQueues } from './queues.js';
import type { RoutingCandidate } from './routing.js';
import type { RunInsert } from './run-store.js';

/** The registry's view of one online executor, as far as routing needs it. */
export interface DirectoryExecutor {
  readonly instanceId: string;
  readonly functions: readonly string[];
  /** Registration time, ms since epoch: the stable order of failover, round robin and broadcast. */
  readonly registeredAt: number;
  readonly draining?: boolean;
}

/** The part of the executor registry the dispatcher uses. */
export interface ExecutorDirectory {
  onlineExecutors(group: string): Promise<readonly DirectoryExecutor[]> | readonly DirectoryExecutor[];
}

export interface TriggerInput {
  /** Overrides the job's params (which are merged over the flow's). */
  readonly params?: Params;
  readonly triggerType: TriggerType;
  /** `scheduler`, a `usr_…`, a `tok_…`, or the parent run's id. */
  readonly triggeredBy: string;
  /** The fire instant (scheduled triggers); default now. A future instant delays the run until then. */
  readonly scheduledAt?: Date;
}

/** Internal trigger options: child job runs get deterministic ids and their parent. */
export interface InternalTriggerInput extends TriggerInput {
  readonly parentRunId?: string;
  readonly idSeed?: string;
}

export type TriggerOutcome = 'dispatched' | 'held' | 'skipped' | 'failed' | 'duplicate';

export interface TriggerResult {
  /** The runs of this trigger (for a duplicate fire: its ids, already recorded by an earlier trigger). */
  readonly runIds: readonly string[];
  /**
   * `dispatched` (enqueued), `held` (pending behind the job's active run: serial), `skipped` (discard),
   * `failed` (no executor could take it, or its flow cannot run), `duplicate` (this fire exists already).
   */
  readonly outcome: TriggerOutcome;
  /** Set when `skipped`. */
  readonly skipped?: { readonly reason: string };
  /** Set when `failed`. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface TerminateRequest {
  readonly requestedBy: string;
  readonly reason: string;
}

export interface TerminateResult {
  readonly runId: string;
  /** `terminated`: it had not started and is final now; `requested`: the executor was told to stop it. */
  readonly outcome: 'terminated' | 'requested' | 'already_finished';
}

/** The dispatcher's operations, as the parts see each other. */
export interface DispatchOps {
  trigger(jobId: string, input: InternalTriggerInput): Promise<TriggerResult>;
  terminate(runId: string, request: TerminateRequest): Promise<TerminateResult>;
  /** Retries, child jobs and the serial-queue advance for runs that are final now. Idempotent. */
  followUp(runIds: readonly string[]): Promise<void>;
}

export interface DispatchContext {
  readonly prisma: PrismaClient;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly directory: ExecutorDirectory;
  readonly queues: RunQueues;
  readonly flows: FlowConfigResolver;
  readonly ops: DispatchOps;
  /** Coalescing of concurrent triggers' job reads and run inserts (absent: one statement per call). */
  readonly batch?: DispatchBatching;
}

export interface DispatchBatching {
  readonly jobs: Coalescer<string, JobSpec | undefined>;
  /** Each caller gets the ids of ITS rows that were inserted. */
  readonly inserts: Coalescer<readonly RunInsert[], ReadonlySet<string>>;
}

/** Online executors of `group` that take new runs and implement every function of the flow. */
export async function candidatesFor(
  ctx: DispatchContext,
  group: string,
  flow: ResolvedFlow,
): Promise<RoutingCandidate[]> {
  const online = await ctx.directory.onlineExecutors(group);
  return online
    .filter((e) => e.draining !== true && flow.functions.every((fn) => e.functions.includes(fn)))
    .map((e) => ({ instanceId: e.instanceId, registeredAt: e.registeredAt }));
}

/** A per-job counter for round robin, in Redis so that scheduler replicas share it. */
export async function nextRoundRobin(ctx: DispatchContext, jobId: string): Promise<number> {
  const key = `${ctx.keyspace.hashTag}:dispatch:rr:${jobId}`;
  const [[, value] = [null, 1]] = (await ctx.redis.multi().incr(key).pexpire(key, 86_400_000).exec()) ?? [];
  return Number(value) - 1;
}
