/**
 * Executors and executor groups as the API returns them. A group's registration token is shown once, when
 * the group is created or its token rotated; only its hash is stored.
 */
import { z } from 'zod';
import { IsoDateTime } from '../common.js';
import { ExecutorStatus } from '../domain.js';
import { GroupName, InstanceId } from '../names.js';
import { QueryBoolean } from './query.js';

export const Executor = z.object({
  instanceId: InstanceId,
  group: GroupName,
  host: z.string(),
  pid: z.number().int(),
  version: z.string(),
  functions: z.array(z.string()),
  concurrency: z.number().int(),
  /** Postgres state: online, offline, draining or removed. */
  status: ExecutorStatus,
  /** Has a live heartbeat now. */
  online: z.boolean(),
  draining: z.boolean(),
  /** Runs it holds now and its load (1-minute load average per CPU), from the live heartbeat. */
  activeRuns: z.number().int().nullable(),
  load: z.number().nullable(),
  registeredAt: IsoDateTime,
  lastHeartbeatAt: IsoDateTime,
  offlineAt: IsoDateTime.nullable(),
});
export type Executor = z.infer<typeof Executor>;

export const ExecutorListQuery = z.strictObject({
  group: GroupName.optional(),
  online: QueryBoolean.optional(),
  /** Include executors an operator removed (default false). */
  includeRemoved: QueryBoolean.optional(),
});
export type ExecutorListQuery = z.infer<typeof ExecutorListQuery>;

export const ExecutorDrainResult = z.object({
  instanceId: InstanceId,
  /** `draining`: a live executor finishes its runs, then deregisters; `removed`: it was not running. */
  status: z.enum(['draining', 'removed']),
});
export type ExecutorDrainResult = z.infer<typeof ExecutorDrainResult>;

export const ExecutorGroup = z.object({
  name: GroupName,
  description: z.string(),
  online: z.number().int(),
  total: z.number().int(),
  tokenRotatedAt: IsoDateTime.nullable(),
  createdAt: IsoDateTime,
});
export type ExecutorGroup = z.infer<typeof ExecutorGroup>;

export const GroupCreateInput = z.strictObject({
  name: GroupName,
  description: z.string().max(1_000).default(''),
});
export type GroupCreateInput = z.infer<typeof GroupCreateInput>;

/** A group with its registration token: the only time the token is shown. */
export const GroupWithToken = z.object({
  group: ExecutorGroup,
  token: z.string(),
});
export type GroupWithToken = z.infer<typeof GroupWithToken>;
