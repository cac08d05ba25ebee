export { createLostRunDetector } from './detector.js';
export type {
  ActiveRun,
  HeartbeatSource,
  LostCause,
  LostRun,
  LostRunDetector,
  LostRunDetectorOptions,
  LostRunDetectorStats,
  StrandedRun,
} from './types.js';
