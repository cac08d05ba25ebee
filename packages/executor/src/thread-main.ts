/**
 * Entry of every isolation thread (started through isolation/thread-bootstrap.mjs, which registers the
 * TypeScript loader): imports the functions module once, builds this thread's FlowHost, then serves runs.
 * A module that fails to import kills the thread at start-up; the pool reports that to the waiting run.
 */
import { FlowHost } from './flow-host.js';
import { importFunctionsModule } from './functions-module.js';
import { serveTasks, threadData } from './isolation/thread-runtime.js';
import type { RunTaskInput, RunTaskOutput, RunThreadData, RunThreadEvent } from './run-task.js';

const data = threadData<RunThreadData>();
const host = new FlowHost(await importFunctionsModule(data.functionsUrl), data);
serveTasks<RunTaskInput, RunThreadEvent, RunTaskOutput>((input, helpers) => host.run(input, helpers));
