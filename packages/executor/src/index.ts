/**
 * @kisjobs/executor: the executor SDK and the runnable executor (`kisjobs-executor`, see src/bin).
 *
 *   const executor = createExecutor({ redisUrl, group: 'etl', token, functions: './my-functions.js' });
 *   await executor.start();            // registers, then consumes grp.etl and exe.<instanceId>
 *   process.on('SIGTERM', () => void executor.close());
 *
 * The functions module contract is in functions-module.ts; the Redis interactions in registration.ts,
 * heartbeat.ts, events-writer.ts, control.ts, processor.ts and consumers.ts. Metrics: an `observer`
 * (observer.ts) made by `createExecutorMetrics(registry, …)` (metrics.ts), served by metrics-server.ts.
 */
export { createExecutor, type Executor, type ExecutorState, type ExecutorStats } from './executor.js';
export {
  ExecutorOptions,
  resolveExecutorOptions,
  defaultInstanceId,
  type ResolvedExecutorOptions,
} from './options.js';
export {
  ExecutorTokenInvalidError,
  FunctionsModuleError,
  ExecutorStateError,
  MetricsServerError,
} from './errors.js';
export {
  HEARTBEAT_FAILURES,
  type ExecutorObserver,
  type HeartbeatFailure,
  type RunFinishedEvent,
  type RunStartedEvent,
} from './observer.js';
export {
  createExecutorMetrics,
  EXECUTOR_METRIC_NAMES,
  type ExecutorMetricsOptions,
  type ExecutorStatsSource,
} from './metrics.js';
export {
  startMetricsServer,
  type HealthState,
  type MetricsServer,
  type MetricsServerOptions,
} from './metrics-server.js';
export {
  createJsonLogger,
  createSilentLogger,
  type ExecutorLogger,
  type ExecutorLogLevel,
  type JsonLoggerOptions,
  type LogFields,
} from './logger.js';
export {
  importFunctionsModule,
  toFunctionsModule,
  buildFlowRegistry,
  describeFunctionsModule,
  type FunctionsModule,
} from './functions-module.js';
export { FlowHost, type FlowHostOptions, type RunHelpers } from './flow-host.js';
export {
  FlowRunner,
  type FlowRunnerOptions,
  type FlowRunOptions,
  type FlowRunOutcome,
} from './flow-runner.js';
export { KisConfigJson, parseFlowConfig } from './flow-config.js';
export {
  sourceRowOf,
  taskInputOf,
  type RunSourceRow,
  type RunTaskInput,
  type RunTaskOutput,
  type RunThreadEvent,
  type StepSummary,
} from './run-task.js';
export { finishedFieldsOf, toFunctionSummary, type FinishedFields, type StopCause } from './outcome.js';
export {
  ThreadPool,
  type ThreadPoolOptions,
  type TaskOutcome,
  type StopReason,
} from './isolation/thread-pool.js';
