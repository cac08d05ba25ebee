// Entry of every isolation thread. Registers the TypeScript loader (functions modules may be .ts), then
// loads the thread's real entry named in workerData. Plain .mjs so it runs before any loader exists.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
