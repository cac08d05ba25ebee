/**
 * @kisjobs/executor: the executor SDK and the runnable executor (`kisjobs-executor`, see src/bin).
 *
 *   const executor = createExecutor({ redisUrl, group: 'etl', token, functions: './my-functions.js' });
 *   await executor.start();            // registers, then consumes grp.etl and exe.<instanceId>
 *   process.on('SIGTERM', () => void executor.close());
 *
 * The functions module contract is in functions-module.ts; the Redis interactions in registration.ts,
 * heartbeat.ts, events-writer.ts, control.ts, processor.ts and consumers.ts.
 */
export { createExecutor, type Executor, type ExecutorState, type ExecutorStats } from './executor.js';
export {
  ExecutorOptions,
  resolveExecutorOptions,
  defaultInstanceId,
  type ResolvedExecutorOptions,
} from './options.js';
export { ExecutorTokenInvalidError, FunctionsModuleError, ExecutorStateError } from './errors.js';
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
