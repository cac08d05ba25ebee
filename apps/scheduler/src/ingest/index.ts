export { createIngestor, type Ingestor, type IngestorOptions, type IngestorStats } from './ingestor.js';
export type { FinalizedRun, StartedRun } from './finalized.js';
