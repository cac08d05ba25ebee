/**
 * @kisjobs/protocol: the zod schemas shared by scheduler, executors, the API and the console. Each schema
 * and its type share one name (`const RunRequest = z.object(...)`, `type RunRequest = z.infer<...>`).
 * Browser-safe: no Node built-ins (crypto comes from `globalThis.crypto`, hashing from sha256.ts).
 *
 * Glossary:
 * - flow: a KisFlow chain of functions (`flow_name`), defined in YAML configs; what a job runs.
 * - function: one step of a flow (`fname`) in one of five modes; takes the previous step's rows and
 *   commits new rows. Executors declare which functions they implement.
 * - connector: a named link from a function to an outside store (`cname`), e.g. redis or mysql.
 * - job: a flow put on a schedule (cron, fixed rate, once, manual) with routing, retry, timeout, misfire
 *   and block policies. Defined in Postgres (`job_…`).
 * - scene: a group of jobs that access is granted on (`scn_…`); KisScenes.
 * - fire: one scheduled instant of a job. A fire has a deterministic run id, so it runs once however often
 *   it is enqueued.
 * - run: one execution of a job's flow (`run_…`), with a trigger type, a status and a per-function summary.
 * - attempt: the try number of a run (1 first); a retry is a new run with the next attempt number.
 * - shard: a broadcast job's fire splits into one run per online executor, each told its
 *   `shardIndex` / `shardTotal`.
 * - trigger type: why a run exists: cron, fixed_rate, once, manual, api, parent, retry, misfire.
 * - executor: a process that registers with a group, heartbeats, consumes run requests and executes
 *   flows. Identified by its `instanceId`; holds only a Redis connection and a registration token.
 * - executor group: the named set of executors a job is routed to; one shared BullMQ queue per group.
 */
export * from './domain.js';
export * from './common.js';
export * from './ids.js';
export * from './fire-ids.js';
export * from './names.js';
export * from './keyspace.js';
export * from './tokens.js';
export { sha256, sha256Hex } from './sha256.js';
export { assertNever } from './assert-never.js';
export * from './errors/codes.js';
export * from './errors/issues.js';
export * from './errors/classes.js';
export * from './errors/body.js';
export * from './payloads/run-request.js';
export * from './payloads/run-event.js';
export * from './payloads/control.js';
export * from './payloads/executor.js';
export * from './payloads/catalog.js';
export * from './api/alerts.js';
export * from './api/job.js';
export * from './api/job-queries.js';
export * from './api/runs.js';
export * from './api/executors.js';
export * from './api/configs.js';
export * from './api/reports.js';
export * from './api/paging.js';
export * from './api/query.js';
export * from './api/identity.js';
export * from './api/scenes.js';
export * from './api/audit.js';
