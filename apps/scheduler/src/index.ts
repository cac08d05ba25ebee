/**
 * @kisjobs/scheduler: the control plane. `createScheduler` composes the executor registry, run-event
 * ingestion, the lost-run detector and the dispatcher on one Postgres and one Redis; `main.ts` runs it.
 */
export { createScheduler, type Scheduler, type SchedulerOptions } from './scheduler.js';
export {
  createDispatcher,
  EXECUTOR_LOST,
  type Dispatcher,
  type DispatcherOptions,
  type LostRunInput,
} from './dispatch/dispatcher.js';
export type {
  DirectoryExecutor,
  ExecutorDirectory,
  TerminateRequest,
  TerminateResult,
  TriggerInput,
  TriggerOutcome,
  TriggerResult,
} from './dispatch/context.js';
export { EXECUTOR_UNAVAILABLE } from './dispatch/deliver.js';
export { NON_RETRYABLE_CODES } from './dispatch/follow-up.js';
export { TERMINATED } from './dispatch/terminate.js';
export type { SweepOptions, SweepStats } from './dispatch/redispatch.js';
export type { RerouteResult } from './dispatch/reroute.js';
export {
  chooseRoute,
  rendezvousPick,
  type RoutingCandidate,
  type RoutingDecision,
} from './dispatch/routing.js';
export { retryDelay, type RetryPolicy } from './dispatch/backoff.js';
export {
  createFlowConfigResolver,
  FlowUnavailableError,
  type FlowConfigResolver,
  type ResolvedFlow,
} from './configs/resolve.js';
export { putConfigDocuments, type SavedConfigDocument } from './configs/store.js';
export { createJob, jobDto, updateJob } from './service/jobs.js';
export { createScene, SceneInput } from './service/scenes.js';
export { createJsonLogger, silentLogger, type LoggerLevel } from './logger.js';
export { registerSchedulerMetrics } from './metrics/scheduler-metrics.js';
export { createAlertNotifier, type AlertNotifier, type AlertNotifierOptions } from './alerts/notifier.js';
export { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook, verifyWebhook } from './alerts/signature.js';
export { parseSchedulerEnv, SchedulerEnv } from './env.js';
export { createExecutorRegistry, type OnlineExecutor } from './registry/index.js';
export { createIngestor, type FinalizedRun } from './ingest/index.js';
export { createLostRunDetector, type LostRun } from './lost/index.js';
export { systemClock, type Clock, type Logger, type LogFields } from './registry/ports.js';
// [schedule engine, issue #4] engine, dispatcher port, schedule mapping and validation, preview, reset watch.
export * from './schedule/index.js';
// [http api, issue #5] the app factory, the route-table API, auth (createAdmin, env bootstrap) and audit.
export * from './http/index.js';
