/** @kisjobs/cli: `runCli` (what the `kisjobs` binary runs) and the exit codes scripts rely on. */
export { runCli } from './run-cli.js';
export { EXIT, type ExitCode } from './exit-codes.js';
export type { CliContext, CliIo } from './context.js';
