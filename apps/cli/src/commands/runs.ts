/** `kisjobs runs list | show <run>` */
import type { Command } from 'commander';
import type { Run } from '@kisjobs/protocol';
import type { Page } from '../client/api-client.js';
import { findJob, findScene } from '../client/lookup.js';
import type { CliContext } from '../context.js';
import { details, duration, printJson, table, time } from '../output.js';
import { addJsonOption, clientFor, parseLimit } from './shared.js';

interface ListOptions {
  json?: boolean;
  job?: string;
  scene?: string;
  status?: string;
  trigger?: string;
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
}

export function runSummaryLines(run: Run): string {
  const lines = run.functions.map(
    (f) =>
      `  ${String(f.step).padStart(2)} ${f.funcName.padEnd(22)} ${f.mode.padEnd(9)} rows ${f.rowsIn} -> ${f.rowsOut}  ${duration(Math.round(f.durationMs))}`,
  );
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export function registerRuns(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('runs: every execution of a job, recorded in Postgres');
  addJsonOption(runs.command('list').description('runs, newest first'))
    .option('--job <job>', 'only this job (id or name)')
    .option('--scene <scene>', 'only this scene (id or name)')
    .option(
      '--status <list>',
      'comma-separated: pending,running,succeeded,failed,timed_out,terminated,lost,skipped',
    )
    .option('--trigger <list>', 'comma-separated: cron,fixed_rate,once,manual,api,parent,retry,misfire')
    .option('--from <time>', 'triggered at or after (ISO 8601)')
    .option('--to <time>', 'triggered before (ISO 8601)')
    .option('--limit <n>', 'at most this many (1-500)', '20')
    .option('--cursor <cursor>', 'the next page (nextCursor of the previous one)')
    .action(async (opts: ListOptions, command: Command) => {
      const client = await clientFor(ctx, command);
      const jobId = opts.job === undefined ? undefined : (await findJob(client, opts.job)).id;
      const sceneId = opts.scene === undefined ? undefined : (await findScene(client, opts.scene)).id;
      const page = await client.get<Page<Run>>('/api/runs', {
        query: {
          jobId,
          sceneId,
          status: opts.status,
          triggerType: opts.trigger,
          from: opts.from,
          to: opts.to,
          limit: parseLimit(opts.limit, 20),
          cursor: opts.cursor,
        },
      });
      if (opts.json) return printJson(ctx, page);
      ctx.io.out(
        table(page.items, [
          { header: 'id', value: (r) => r.id },
          { header: 'flow', value: (r) => r.flowName },
          { header: 'status', value: (r) => r.status },
          { header: 'trigger', value: (r) => r.triggerType },
          { header: 'triggered', value: (r) => time(r.triggeredAt) },
          { header: 'duration', value: (r) => duration(r.durationMs) },
          { header: 'attempt', value: (r) => `${r.attempt}/${r.maxAttempts}` },
          { header: 'error', value: (r) => r.error?.message },
        ]),
      );
      if (page.nextCursor !== null) ctx.io.err(`more: --cursor ${page.nextCursor}\n`);
    });

  addJsonOption(
    runs.command('show').description('one run, with its per-function summary').argument('<run>', 'run id'),
  ).action(async (id: string, opts: { json?: boolean }, command: Command) => {
    const run = await (await clientFor(ctx, command)).get<Run>(`/api/runs/${encodeURIComponent(id)}`);
    if (opts.json) return printJson(ctx, run);
    ctx.io.out(
      details([
        ['id', run.id],
        ['job', run.jobId],
        ['scene', run.sceneId],
        ['flow', run.flowName],
        ['status', run.status],
        ['trigger', `${run.triggerType}${run.triggeredBy === null ? '' : ` by ${run.triggeredBy}`}`],
        ['scheduled', time(run.scheduledAt)],
        ['started', time(run.startedAt)],
        ['finished', time(run.finishedAt)],
        ['duration', duration(run.durationMs)],
        ['attempt', `${run.attempt} of ${run.maxAttempts}`],
        ['executor', run.executorInstanceId],
        ['params', run.params],
        ['error', run.error === null ? null : `${run.error.code ?? ''} ${run.error.message}`.trim()],
      ]),
    );
    ctx.io.out(runSummaryLines(run));
  });
}
