/** `kisjobs terminate <run> [--reason]`: a pending run ends at once; a running one within 2 s. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';
import { clientFor } from './shared.js';

export function registerTerminate(program: Command, ctx: CliContext): void {
  program
    .command('terminate')
    .description('terminate a run (its executor stops it, even in a CPU loop)')
    .argument('<run>', 'run id')
    .option('--reason <text>', 'recorded with the run')
    .option('--json', 'print the result as JSON')
    .action(async (runId: string, opts: { reason?: string; json?: boolean }, command: Command) => {
      const client = await clientFor(ctx, command);
      const result = await client.post<{ runId: string; outcome: string }>(
        `/api/runs/${encodeURIComponent(runId)}/terminate`,
        opts.reason === undefined ? {} : { reason: opts.reason },
      );
      if (opts.json) return printJson(ctx, result);
      ctx.io.out(
        result.outcome === 'terminated'
          ? `${result.runId} terminated\n`
          : `${result.runId}: termination requested (its executor stops it within 2 s)\n`,
      );
    });
}
