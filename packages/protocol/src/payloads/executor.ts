/**
 * Executor registry payloads (DESIGN §4). An executor registers on start, heartbeats every
 * HEARTBEAT_INTERVAL_MS with a TTL of HEARTBEAT_TTL_MS, and deregisters on a clean shutdown.
 */
import { z } from 'zod';
import { IsoDateTime, ShortText } from '../common.js';
import { RunId } from '../ids.js';
import { GroupName, InstanceId } from '../names.js';

const Names = z.array(z.string().min(1).max(256)).max(10_000);

/** What an executor is and can do. Stored at `executor(instanceId)`; never holds the token. */
export const ExecutorRecord = z.object({
  group: GroupName,
  instanceId: InstanceId,
  host: z.string().min(1).max(255),
  pid: z.number().int().min(1),
  /** The executor build, e.g. the package version. */
  version: z.string().min(1).max(64),
  /** Names of the KisFlow functions it implements (`fname`). */
  functions: Names,
  /** Connector types it can open (`redis`, `mysql`...). */
  connectorTypes: Names,
  /** Runs it executes at once. */
  concurrency: z.number().int().min(1).max(10_000),
  startedAt: IsoDateTime,
});
export type ExecutorRecord = z.infer<typeof ExecutorRecord>;

/**
 * The registration an executor sends: its record plus the registration token. The scheduler checks
 * `tokenHash(token)` and stores the record without the token (`z.infer<typeof ExecutorRecord>` has none).
 */
export const RegistrationRequest = ExecutorRecord.extend({
  token: z.string().min(16).max(512),
});
export type RegistrationRequest = z.infer<typeof RegistrationRequest>;

/** A clean shutdown (or the end of a drain): the executor's direct queue is routed again at once. */
export const Deregistration = z.object({
  group: GroupName,
  instanceId: InstanceId,
  reason: ShortText,
  at: IsoDateTime,
});
export type Deregistration = z.infer<typeof Deregistration>;

/** The value of `heartbeat(instanceId)`, rewritten with a TTL every beat. */
export const Heartbeat = z.object({
  instanceId: InstanceId,
  at: IsoDateTime,
  activeRuns: z.number().int().min(0),
  /** 1-minute load average divided by CPU count (0 = idle, 1 = saturated). */
  load: z.number().min(0),
  /** The runs it holds now: a run "running" on this executor but missing here is being lost. */
  runIds: z.array(RunId).max(10_000).default([]),
  draining: z.boolean().default(false),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/**
 * The registry stream entry written (by the executor's registration script) when a registration presents a
 * token that is not valid for its group. Never holds the token.
 */
export const RegistrationRejected = z.object({
  group: GroupName,
  instanceId: InstanceId,
  host: z.string().min(1).max(255),
  reason: ShortText,
  at: IsoDateTime,
});
export type RegistrationRejected = z.infer<typeof RegistrationRejected>;
