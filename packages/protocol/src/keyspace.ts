/**
 * Every Redis key, stream, channel and BullMQ queue name (DESIGN §4), under ONE hash-tagged prefix so the
 * whole layout lives in a single Redis Cluster slot (multi-key Lua scripts and MULTI stay legal).
 *
 * Layout for `createKeyspace('kisjobs')`:
 *
 *   BullMQ      new Queue(ks.groupQueue('etl'), { prefix: ks.bullPrefix })   // prefix '{kisjobs}'
 *               BullMQ 6 builds its keys as `<prefix>:<queue>:<suffix>`, e.g. `{kisjobs}:grp.etl:wait`,
 *               `{kisjobs}:grp.etl:<jobId>`; only `{kisjobs}` is hashed, so they share our slot. Queue
 *               names and job ids may not contain `:` (BullMQ rejects it), hence `grp.` and `exe.`.
 *   queues      grp.<group>                    shared queue of an executor group (routing `any`, ...)
 *               exe.<instanceId>               direct queue of one executor (pinned, round robin, ...)
 *   registry    {kisjobs}:executor:<id>        ExecutorRecord JSON (no token), written at registration
 *               {kisjobs}:heartbeat:<id>       Heartbeat JSON, SET with PX = HEARTBEAT_TTL_MS each beat
 *               {kisjobs}:group:<group>:members  SET of instance ids
 *               {kisjobs}:groups               SET of group names that have ever had a member
 *               {kisjobs}:token:<sha256 hex>   registration token lookup by `tokenHash(token)`
 *               {kisjobs}:registry             STREAM of registration / deregistration payloads
 *   control     {kisjobs}:control              PUB/SUB: ControlMessage to every executor
 *               {kisjobs}:control:<id>         PUB/SUB: ControlMessage to one executor
 *               {kisjobs}:cancel:<runId>       terminate ControlMessage JSON, PX = CANCEL_FLAG_TTL_MS;
 *                                              checked by an executor when it picks a run up
 *   results     {kisjobs}:events               STREAM of started / progress / finished RunEvents
 *               {kisjobs}:logs                 STREAM of log RunEvents (kept apart so a chatty run can
 *                                              not delay lifecycle events); both read by consumer group
 *                                              INGEST_CONSUMER_GROUP, XACKed only after the commit
 *               {kisjobs}:dead                 STREAM of entries that failed to decode, kept for an operator
 *               {kisjobs}:tail:<runId>         PUB/SUB: live log lines of one run, for SSE on any replica
 *   scheduling  {kisjobs}:schedule:due         ZSET jobId -> next fire ms (a cache, rebuilt from Postgres)
 *               {kisjobs}:lock:<name>          short leases (SET NX PX), e.g. `maintenance`
 *
 * Pub/sub channel names carry the hash tag too, which is what sharded pub/sub (SPUBLISH) hashes on.
 * Every function validates its argument and throws a ValidationError on a name that would break the
 * layout (a `:`, `{`, `}`, whitespace...).
 */
import type { z } from 'zod';
import { ValidationError } from './errors/classes.js';
import { toValidationIssues } from './errors/issues.js';
import { RunId } from './ids.js';
import { GroupName, InstanceId, KeyPrefix, KeySegment } from './names.js';
import type { RunEvent } from './payloads/run-event.js';

export const DEFAULT_KEY_PREFIX = 'kisjobs';
/** The consumer group that ingests the events and logs streams into Postgres. */
export const INGEST_CONSUMER_GROUP = 'kisjobs-ingest';
/** The consumer group that processes the registry stream. */
export const REGISTRY_CONSUMER_GROUP = 'kisjobs-registry';
/** Executors beat this often... */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** ...and each beat lives this long: three missed beats expire it, well inside the 10 s target. */
export const HEARTBEAT_TTL_MS = 6_000;
/** How long a durable cancel flag outlives its terminate request. */
export const CANCEL_FLAG_TTL_MS = 24 * 60 * 60 * 1000;

export interface Keyspace {
  /** The text inside the hash tag, e.g. `kisjobs`. */
  readonly prefix: string;
  /** `{kisjobs}`: the start of every key. */
  readonly hashTag: string;
  /** The BullMQ `prefix` option for every Queue, Worker, QueueEvents and FlowProducer. */
  readonly bullPrefix: string;
  /** A SCAN / KEYS pattern matching every key of this keyspace, BullMQ's included. */
  readonly pattern: string;
  groupQueue(group: string): string;
  directQueue(instanceId: string): string;
  /** Where the Redis keys of a BullMQ queue begin: `{kisjobs}:grp.etl`. */
  queueKeyPrefix(queueName: string): string;
  executor(instanceId: string): string;
  heartbeat(instanceId: string): string;
  groupMembers(group: string): string;
  groups(): string;
  registrationToken(tokenHashHex: string): string;
  registryStream(): string;
  controlChannel(): string;
  executorControlChannel(instanceId: string): string;
  cancelFlag(runId: string): string;
  runEventsStream(): string;
  runLogsStream(): string;
  /** The stream an event of this type is appended to: `log` → logs stream, the rest → events stream. */
  streamForRunEvent(type: RunEvent['type']): string;
  deadLetterStream(): string;
  liveLogChannel(runId: string): string;
  scheduleDue(): string;
  lock(name: string): string;
}

function checked<S extends z.ZodType>(schema: S, value: unknown, argument: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(toValidationIssues(result.error.issues, [argument]));
}

const TokenHashHex = KeySegment.regex(/^[0-9a-f]{64}$/, { message: 'Expected a sha256 hex digest' });

export function createKeyspace(prefix: string = DEFAULT_KEY_PREFIX): Keyspace {
  const name = checked(KeyPrefix, prefix, 'prefix');
  const tag = `{${name}}`;
  const key = (...parts: string[]): string => [tag, ...parts].join(':');
  const group = (value: string): string => checked(GroupName, value, 'group');
  const instance = (value: string): string => checked(InstanceId, value, 'instanceId');
  const run = (value: string): string => checked(RunId, value, 'runId');
  const queueName = (value: string): string => {
    if (value.startsWith('grp.')) return `grp.${group(value.slice(4))}`;
    if (value.startsWith('exe.')) return `exe.${instance(value.slice(4))}`;
    throw new ValidationError([
      { path: 'queueName', message: 'Expected a grp.<group> or exe.<instanceId> queue' },
    ]);
  };

  return {
    prefix: name,
    hashTag: tag,
    bullPrefix: tag,
    pattern: `${tag}:*`,
    groupQueue: (g) => `grp.${group(g)}`,
    directQueue: (id) => `exe.${instance(id)}`,
    queueKeyPrefix: (q) => key(queueName(q)),
    executor: (id) => key('executor', instance(id)),
    heartbeat: (id) => key('heartbeat', instance(id)),
    groupMembers: (g) => key('group', group(g), 'members'),
    groups: () => key('groups'),
    registrationToken: (hash) => key('token', checked(TokenHashHex, hash, 'tokenHash')),
    registryStream: () => key('registry'),
    controlChannel: () => key('control'),
    executorControlChannel: (id) => key('control', instance(id)),
    cancelFlag: (id) => key('cancel', run(id)),
    runEventsStream: () => key('events'),
    runLogsStream: () => key('logs'),
    streamForRunEvent: (type) => (type === 'log' ? key('logs') : key('events')),
    deadLetterStream: () => key('dead'),
    liveLogChannel: (id) => key('tail', run(id)),
    scheduleDue: () => key('schedule', 'due'),
    lock: (lockName) => key('lock', checked(KeySegment, lockName, 'name')),
  };
}
