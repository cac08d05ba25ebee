/**
 * `kisjobs trigger <job> [--param k=v]... [--wait [--timeout <s>]]`: runs a job now. With `--wait` it shows the
 * run's progress (status, and each function as it reports) until the run ends, and exits 0 only when every
 * run it started succeeded (8 otherwise, 9 when `--timeout` passed first).
 */
import type { Command } from 'commander';
import { isFinalRunStatus, type Run } from '@kisjobs/protocol';
import type { ApiClient } from '../client/api-client.js';
import { findJob } from '../client/lookup.js';
import type { CliContext } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { duration, printJson } from '../output.js';
import { runSummaryLines } from './runs.js';
import { clientFor } from './shared.js';

interface TriggerOptions {
  param: string[];
  wait?: boolean;
  timeout?: string;
  scene?: string;
  json?: boolean;
  pollMs?: string;
}

interface TriggerAnswer {
  runIds: string[];
  outcome: string;
  skipReason?: string;
}

function collectParam(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parseParams(pairs: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--param: expected key=value, got "${pair}"`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}

function progressLine(run: Run, elapsedMs: number): string {
  const steps = run.functions.map((f) => `${f.funcName} ✓`).join(' → ');
  return `${run.id}  ${run.status.padEnd(10)} ${duration(elapsedMs).padStart(8)}${steps === '' ? '' : `  ${steps}`}`;
}

async function waitForRuns(
  ctx: CliContext,
  client: ApiClient,
  runIds: readonly string[],
  timeoutMs: number | undefined,
  pollMs: number,
): Promise<Run[]> {
  const started = Date.now();
  const last = new Map<string, string>();
  for (;;) {
    const runs = await Promise.all(
      runIds.map((id) => client.get<Run>(`/api/runs/${encodeURIComponent(id)}`)),
    );
    for (const run of runs) {
      const line = progressLine(run, Date.now() - started);
      const key = `${run.status}/${run.functions.length}`;
      if (ctx.io.interactive) ctx.io.err(`\r\x1b[2K${line}`);
      else if (last.get(run.id) !== key) ctx.io.err(`${line}\n`);
      last.set(run.id, key);
    }
    if (runs.every((r) => isFinalRunStatus(r.status))) {
      if (ctx.io.interactive) ctx.io.err('\n');
      return runs;
    }
    if (timeoutMs !== undefined && Date.now() - started >= timeoutMs) {
      if (ctx.io.interactive) ctx.io.err('\n');
      throw new CliError('WAIT_TIMED_OUT', `the run had not ended after ${duration(timeoutMs)}`, {
        exitCode: EXIT.waitTimedOut,
        hint: `Follow it with \`kisjobs logs ${runIds[0] ?? ''} --follow\`.`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export function registerTrigger(program: Command, ctx: CliContext): void {
  program
    .command('trigger')
    .description('run a job now (trigger type api)')
    .argument('<job>', 'job id or name')
    .option('-p, --param <key=value>', 'override a param (repeat for more)', collectParam, [])
    .option('--scene <scene>', 'the scene, when several jobs share the name')
    .option('-w, --wait', 'show progress until the run ends; exit 0 only if it succeeded')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this long (the run goes on)')
    .option('--poll-ms <ms>', 'with --wait: how often to look', '500')
    .option('--json', 'print the result as JSON (with --wait: the finished runs)')
    .action(async (job: string, opts: TriggerOptions, command: Command) => {
      const params = parseParams(opts.param);
      const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout) * 1_000;
      if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
        throw usageError(`--timeout: expected seconds above 0, got "${opts.timeout}"`);
      }
      const pollMs = Number(opts.pollMs ?? 500);
      if (!Number.isInteger(pollMs) || pollMs < 50) throw usageError('--poll-ms: expected at least 50');
      const client = await clientFor(ctx, command);
      const found = await findJob(client, job, opts.scene);
      const answer = await client.post<TriggerAnswer>(`/api/jobs/${found.id}/trigger`, { params });
      if (answer.runIds.length === 0) {
        throw new CliError(
          'TRIGGER_SKIPPED',
          `${found.name} did not start a run: ${answer.skipReason ?? answer.outcome}`,
          {
            exitCode: EXIT.rejected,
          },
        );
      }
      if (!opts.wait) {
        if (opts.json) return printJson(ctx, answer);
        for (const id of answer.runIds) ctx.io.out(`${id}\n`);
        return;
      }
      ctx.io.err(`triggered ${found.name}: ${answer.runIds.join(', ')}\n`);
      const runs = await waitForRuns(ctx, client, answer.runIds, timeoutMs, pollMs);
      if (opts.json) printJson(ctx, runs.length === 1 ? runs[0] : runs);
      else {
        for (const run of runs) {
          ctx.io.out(`${run.id} ${run.status} in ${duration(run.durationMs)}\n`);
          ctx.io.out(runSummaryLines(run));
          if (run.error !== null) ctx.io.out(`  error: ${run.error.code ?? ''} ${run.error.message}\n`);
        }
      }
      const failed = runs.filter((r) => r.status !== 'succeeded');
      if (failed.length > 0) {
        throw new CliError('RUN_NOT_SUCCEEDED', failed.map((r) => `${r.id} ended ${r.status}`).join('; '), {
          exitCode: EXIT.runNotSucceeded,
          hint: `Its logs: kisjobs logs ${failed[0]?.id ?? ''}`,
        });
      }
    });
}
