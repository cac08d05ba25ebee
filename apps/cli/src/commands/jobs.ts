/** `kisjobs jobs list | show <job> | create -f <file>` */
import type { Command } from 'commander';
import type { Job } from '@kisjobs/protocol';
import type { ApiClient, Page } from '../client/api-client.js';
import { findJob, findScene } from '../client/lookup.js';
import type { CliContext } from '../context.js';
import { CliError, usageError, withHint } from '../errors.js';
import { details, printJson, table, time } from '../output.js';
import { parseObjects, readInputText } from './input-file.js';
import { scheduleText } from './schedule-text.js';
import { addJsonOption, clientFor, parseLimit } from './shared.js';

interface ListOptions {
  json?: boolean;
  limit?: string;
  cursor?: string;
  scene?: string;
  group?: string;
  flow?: string;
  name?: string;
}

/** `scene: <name>` in a job file is a convenience: the API takes `sceneId`. */
async function withSceneId(
  client: ApiClient,
  job: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  if (!('scene' in job)) return job;
  const { scene, ...rest } = job;
  if (typeof scene !== 'string') throw usageError('scene: expected a scene name or id');
  if ('sceneId' in rest) throw usageError('give scene or sceneId, not both');
  return { ...rest, sceneId: (await findScene(client, scene)).id };
}

export function registerJobs(program: Command, ctx: CliContext): void {
  const jobs = program.command('jobs').description('jobs: a flow on a schedule, in a scene');
  addJsonOption(jobs.command('list').description('the jobs you can see, newest first'))
    .option('--scene <scene>', 'only this scene (id or name)')
    .option('--group <group>', 'only this executor group')
    .option('--flow <flow>', 'only jobs of this flow')
    .option('--name <text>', 'names containing this (any case)')
    .option('--limit <n>', 'at most this many (1-500)', '50')
    .option('--cursor <cursor>', 'the next page (nextCursor of the previous one)')
    .action(async (opts: ListOptions, command: Command) => {
      const client = await clientFor(ctx, command);
      const sceneId = opts.scene === undefined ? undefined : (await findScene(client, opts.scene)).id;
      const page = await client.get<Page<Job>>('/api/jobs', {
        query: {
          sceneId,
          group: opts.group,
          flowName: opts.flow,
          q: opts.name,
          limit: parseLimit(opts.limit),
          cursor: opts.cursor,
        },
      });
      if (opts.json) return printJson(ctx, page);
      ctx.io.out(
        table(page.items, [
          { header: 'id', value: (j) => j.id },
          { header: 'name', value: (j) => j.name },
          { header: 'flow', value: (j) => j.flowName },
          { header: 'schedule', value: (j) => scheduleText(j.schedule) },
          { header: 'state', value: (j) => (!j.enabled ? 'disabled' : j.paused ? 'paused' : 'active') },
          { header: 'next fire', value: (j) => time(j.nextFireAt) },
        ]),
      );
      if (page.nextCursor !== null) ctx.io.err(`more: --cursor ${page.nextCursor}\n`);
    });

  addJsonOption(jobs.command('show').description('one job').argument('<job>', 'id or name'))
    .option('--scene <scene>', 'the scene, when several jobs share the name')
    .action(async (job: string, opts: { json?: boolean; scene?: string }, command: Command) => {
      const found = await findJob(await clientFor(ctx, command), job, opts.scene);
      if (opts.json) return printJson(ctx, found);
      ctx.io.out(
        details([
          ['id', found.id],
          ['name', found.name],
          ['scene', found.sceneId],
          ['flow', found.flowName],
          ['group', found.group],
          ['schedule', scheduleText(found.schedule)],
          ['enabled', found.enabled],
          ['paused', found.paused],
          ['next fire', time(found.nextFireAt)],
          ['last fire', time(found.lastFireAt)],
          ['misfire', found.misfire],
          ['block strategy', found.blockStrategy],
          ['routing', found.routing],
          ['timeout ms', found.timeoutMs],
          ['retry', found.retry],
          ['params', found.params],
          ['alerts', found.alerts],
          ['version', found.version],
        ]),
      );
    });

  jobs
    .command('create')
    .description(
      'create jobs from a YAML or JSON file: one job per document, all or nothing; `scene: <name>` may stand for sceneId',
    )
    .requiredOption('-f, --file <file>', 'the file, or - for standard input')
    .option('--allow-unimplemented', 'save even when no online executor implements the flow yet')
    .option('--json', 'print the created jobs as JSON')
    .action(
      async (opts: { file: string; allowUnimplemented?: boolean; json?: boolean }, command: Command) => {
        const client = await clientFor(ctx, command);
        const input = await readInputText(ctx, opts.file);
        const documents = parseObjects(input.name, input.text);
        const bodies = await Promise.all(documents.map((doc) => withSceneId(client, doc)));
        const created: Job[] = [];
        for (const [index, body] of bodies.entries()) {
          try {
            const response = await client.request<Job>('POST', '/api/jobs', {
              body,
              query: { allowUnimplemented: opts.allowUnimplemented ? 'true' : undefined },
            });
            created.push(response.body);
            const warning = response.headers.get('x-kisjobs-warning');
            if (warning !== null) ctx.io.err(`warning: ${warning}\n`);
          } catch (error) {
            // All or nothing: the jobs of this file created before the refused one are deleted again.
            for (const job of created)
              await client.request('DELETE', `/api/jobs/${job.id}`).catch(() => undefined);
            if (error instanceof CliError && bodies.length > 1) {
              ctx.io.err(`document ${index + 1} of ${bodies.length} was refused; nothing was saved\n`);
            }
            if (error instanceof CliError && error.code === 'FLOW_NOT_IMPLEMENTED') {
              throw withHint(
                error,
                'Start an executor whose functions module has them, or pass --allow-unimplemented to save the job now.',
              );
            }
            throw error;
          }
        }
        if (opts.json) return printJson(ctx, created.length === 1 ? created[0] : created);
        for (const job of created)
          ctx.io.out(`created ${job.id} ${job.name} (${scheduleText(job.schedule)})\n`);
      },
    );
}
