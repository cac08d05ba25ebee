/**
 * `kisjobs jobs pause | resume | enable | disable | delete <job>` and `kisjobs executors drain <instance-id>`:
 * the operator's switches. Paused jobs keep their schedule (on resume the misfire policy decides about the
 * instants missed); a disabled job misses nothing and restarts its schedule from now when enabled; a deleted
 * job's runs stay. Draining an executor makes it finish its runs, take no new ones, deregister and exit.
 */
import type { Command } from 'commander';
import type { Job } from '@kisjobs/protocol';
import { findJob } from '../client/lookup.js';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';
import { clientFor } from './shared.js';

const SWITCHES = {
  pause: 'pause: keep the schedule, fire nothing until resumed',
  resume: 'resume a paused job (its misfire policy decides about the instants missed)',
  enable: 'enable a disabled job: its schedule restarts from now',
  disable: 'disable: the job fires nothing and misses nothing',
} as const;

function state(job: Job): string {
  return !job.enabled ? 'disabled' : job.paused ? 'paused' : 'active';
}

export function registerJobActions(jobs: Command, executors: Command, ctx: CliContext): void {
  for (const [action, description] of Object.entries(SWITCHES)) {
    jobs
      .command(action)
      .description(description)
      .argument('<job>', 'id or name')
      .option('--scene <scene>', 'the scene, when several jobs share the name')
      .option('--json', 'print the job as JSON')
      .action(async (job: string, opts: { scene?: string; json?: boolean }, command: Command) => {
        const client = await clientFor(ctx, command);
        const found = await findJob(client, job, opts.scene);
        const updated = await client.post<Job>(`/api/jobs/${found.id}/${action}`);
        if (opts.json) return printJson(ctx, updated);
        ctx.io.out(
          `${updated.name}: ${state(updated)}${updated.nextFireAt ? `, next fire ${updated.nextFireAt}` : ''}\n`,
        );
      });
  }
  jobs
    .command('delete')
    .description('delete a job (its runs stay, with no job); refused while another job names it as a child')
    .argument('<job>', 'id or name')
    .option('--scene <scene>', 'the scene, when several jobs share the name')
    .action(async (job: string, opts: { scene?: string }, command: Command) => {
      const client = await clientFor(ctx, command);
      const found = await findJob(client, job, opts.scene);
      await client.request('DELETE', `/api/jobs/${found.id}`);
      ctx.io.out(`deleted ${found.id} ${found.name}\n`);
    });
  executors
    .command('drain')
    .description('drain an executor: it finishes its runs, takes no new ones, deregisters and exits')
    .argument('<instance-id>', 'its instance id')
    .option('--json', 'print the result as JSON')
    .action(async (instanceId: string, opts: { json?: boolean }, command: Command) => {
      const client = await clientFor(ctx, command);
      const result = await client.post<{ instanceId: string; status: string }>(
        `/api/executors/${encodeURIComponent(instanceId)}/drain`,
      );
      if (opts.json) return printJson(ctx, result);
      ctx.io.out(`${result.instanceId}: ${result.status}\n`);
    });
}
