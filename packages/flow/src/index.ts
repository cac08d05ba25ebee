/**
 * KisFlow engine.
 *
 * Glossary:
 * - function: a small named step (`fname`) with a mode (Verify, Save, Load, Calculate, Expand). It receives
 *   the previous step's rows and commits new rows.
 * - flow: an ordered chain of function instances (`flow_name`), each position with its own params.
 * - connector: a named, typed link to an outside store (`cname`), initialised lazily once per registry.
 * - action: how a function steers the flow: DataReuse, ForceEntryNext, JumpFunc, Abort.
 * - run: one execution of a flow over source rows; re-entrant, with its own AbortSignal and logger.
 * - registry: an instance holding function implementations, connector types and loaded config. No globals.
 */
export * from './config/index.js';

export { FlowRegistry, DEFAULT_MAX_STEPS, DEFAULT_CONNECTOR_INIT_TIMEOUT_MS } from './engine/registry.js';
export { defineFunction, defineConnectorType } from './authoring.js';
export type { TypedFunctionInit, UntypedFunctionInit } from './authoring.js';
export { actions, type FlowAction, type FlowActionKind } from './engine/actions.js';
export { combineHooks } from './engine/hooks.js';
export { createNoopLogger, withFields } from './engine/logger.js';
export {
  FLOW_ERROR_CODES,
  FlowError,
  FlowNotFoundError,
  FlowDisabledError,
  FunctionNotRegisteredError,
  SourceMustMissingError,
  InputInvalidError,
  FunctionFailedError,
  FunctionTimeoutError,
  UnknownJumpTargetError,
  StepLimitExceededError,
  ConnectorNotFoundError,
  ConnectorTypeNotRegisteredError,
  ConnectorInitFailedError,
  CancelledError,
  NonRetryableError,
  FlowConfigError,
  DuplicateRegistrationError,
  type FlowErrorCode,
  type FlowRunError,
  type RegistryErrorCode,
} from './engine/errors.js';
export type {
  AnyFunctionDefinition,
  Connector,
  ConnectorFactory,
  ConnectorHelpers,
  ConnectorType,
  EndedBy,
  FlowEndEvent,
  FlowHooks,
  FlowLogger,
  FlowRegistryOptions,
  FlowRunFailure,
  FlowRunResult,
  FlowRunSuccess,
  FunctionContext,
  FunctionDefinition,
  FunctionEndEvent,
  FunctionHandler,
  FunctionResult,
  FunctionSummary,
  LogFields,
  MetaMap,
  RegistryDescription,
  RowSchema,
  RunIdentity,
  RunOptions,
  RunStatus,
} from './engine/types.js';
export {
  redisConnectorType,
  createRedisConnector,
  type RedisConnector,
  type HashIncrement,
} from './connectors/redis.js';
export { redisSettings, type RedisSettings } from './connectors/redis-settings.js';
export { createFlowMetrics, FLOW_METRIC_NAMES } from './metrics/prometheus.js';
export { startPrometheusServer, parseListenAddress, type PrometheusServer } from './metrics/server.js';
