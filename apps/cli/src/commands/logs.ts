/**
 * `kisjobs logs <run> [--follow]`: a run's log lines; `--follow` tails them live over Server-Sent Events until
 * the run ends, reconnecting after a dropped connection from the last line seen (Last-Event-ID), so no line is
 * shown twice or lost.
 */
import type { Command } from 'commander';
import type { RunLogLine, RunLogPage } from '@kisjobs/protocol';
import type { ApiClient } from '../client/api-client.js';
import { readSse } from '../client/sse.js';
import type { CliContext } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { time } from '../output.js';
import { clientFor } from './shared.js';

export function logLineText(line: RunLogLine): string {
  const fields =
    line.fields === null || Object.keys(line.fields).length === 0 ? '' : ` ${JSON.stringify(line.fields)}`;
  return `${time(line.at)} ${line.level.toUpperCase().padEnd(5)} ${line.funcName ?? '-'}: ${line.message}${fields}\n`;
}

/** Tails until the `end` event; returns the run's final status. */
export async function followLogs(
  client: ApiClient,
  runId: string,
  onLine: (line: RunLogLine) => void,
  options: { afterSeq?: number; signal?: AbortSignal } = {},
): Promise<string> {
  let lastSeq = options.afterSeq ?? -1;
  let failures = 0;
  for (;;) {
    try {
      const response = await client.raw('GET', `/api/runs/${encodeURIComponent(runId)}/logs/stream`, {
        headers: { accept: 'text/event-stream', 'last-event-id': String(lastSeq) },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      if (response.body === null) throw new Error('empty response');
      for await (const event of readSse(response.body)) {
        failures = 0;
        if (event.event === 'log') {
          const line = JSON.parse(event.data) as RunLogLine;
          lastSeq = line.seq;
          onLine(line);
        } else if (event.event === 'end') {
          return (JSON.parse(event.data) as { status: string }).status;
        }
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (error instanceof CliError && error.exitCode !== EXIT.unavailable) throw error;
      if (++failures > 5) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500 * failures));
  }
}

export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description("a run's log lines")
    .argument('<run>', 'run id')
    .option('-f, --follow', 'keep printing new lines until the run ends')
    .option('--after <seq>', 'only lines after this seq')
    .option('--json', 'one JSON object per line')
    .action(
      async (runId: string, opts: { follow?: boolean; after?: string; json?: boolean }, command: Command) => {
        const client = await clientFor(ctx, command);
        const print = (line: RunLogLine): void =>
          ctx.io.out(opts.json ? `${JSON.stringify(line)}\n` : logLineText(line));
        let afterSeq = opts.after === undefined ? -1 : Number(opts.after);
        if (!Number.isInteger(afterSeq) || afterSeq < -1) {
          throw usageError(`--after: expected a seq (a whole number), got "${opts.after}"`);
        }
        if (opts.follow) {
          const status = await followLogs(client, runId, print, { afterSeq });
          ctx.io.err(`run ended: ${status}\n`);
          return;
        }
        for (;;) {
          const page = await client.get<RunLogPage>(`/api/runs/${encodeURIComponent(runId)}/logs`, {
            query: { afterSeq, limit: 1_000 },
          });
          page.items.forEach(print);
          if (page.items.length === 0 || page.nextAfterSeq === afterSeq) break;
          afterSeq = page.nextAfterSeq;
        }
      },
    );
}
