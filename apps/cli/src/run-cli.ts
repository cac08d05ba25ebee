/**
 * Runs one `kisjobs` invocation and returns its exit code (exit-codes.ts): commander's usage errors exit 2,
 * CliErrors their own code, anything else 1 with its message (no stack unless KISJOBS_DEBUG=1).
 */
import { CommanderError } from 'commander';
import type { CliContext } from './context.js';
import { CliError, formatError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { buildProgram } from './program.js';

export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(ctx, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    if (error instanceof CliError) {
      ctx.io.err(formatError(error));
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    ctx.io.err(`error: ${message}\n`);
    if (ctx.env['KISJOBS_DEBUG'] === '1' && error instanceof Error && error.stack)
      ctx.io.err(`${error.stack}\n`);
    return EXIT.failure;
  }
}
