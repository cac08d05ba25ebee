export { createExecutorRegistry } from './registry.js';
export type {
  ExecutorInfo,
  ExecutorRegistryOptions,
  ExecutorRegistryService,
  OnlineExecutor,
  RegistryStats,
  RemoveExecutorResult,
} from './types.js';
export { CreateGroupInput, type TokenSyncResult } from './tokens.js';
export { refusalLine } from './registry-stream.js';
export { systemClock, type Clock, type Logger, type LogFields } from './ports.js';
