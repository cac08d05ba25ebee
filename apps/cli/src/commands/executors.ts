/** `kisjobs executors list | show <instance-id>` */
import type { Command } from 'commander';
import type { Executor } from '@kisjobs/protocol';
import type { CliContext } from '../context.js';
import { details, printJson, table, time } from '../output.js';
import { addJsonOption, clientFor } from './shared.js';

export function registerExecutors(program: Command, ctx: CliContext): void {
  const executors = program.command('executors').description('executors: the processes that run flows');
  addJsonOption(
    executors.command('list').description('executors by group, with online state, functions and load'),
  )
    .option('--group <group>', 'only this group')
    .option('--online', 'only those with a live heartbeat now')
    .option('--include-removed', 'also the removed ones')
    .action(
      async (
        opts: { json?: boolean; group?: string; online?: boolean; includeRemoved?: boolean },
        command: Command,
      ) => {
        const body = await (
          await clientFor(ctx, command)
        ).get<{ items: Executor[] }>('/api/executors', {
          query: {
            group: opts.group,
            online: opts.online ? 'true' : undefined,
            includeRemoved: opts.includeRemoved ? 'true' : undefined,
          },
        });
        if (opts.json) return printJson(ctx, body);
        ctx.io.out(
          table(body.items, [
            { header: 'instance', value: (e) => e.instanceId },
            { header: 'group', value: (e) => e.group },
            { header: 'status', value: (e) => (e.online ? (e.draining ? 'draining' : 'online') : e.status) },
            { header: 'host', value: (e) => `${e.host}:${e.pid}` },
            {
              header: 'runs',
              value: (e) => (e.activeRuns === null ? null : `${e.activeRuns}/${e.concurrency}`),
            },
            { header: 'load', value: (e) => (e.load === null ? null : e.load.toFixed(2)) },
            { header: 'functions', value: (e) => e.functions.length },
            { header: 'heartbeat', value: (e) => time(e.lastHeartbeatAt) },
          ]),
        );
      },
    );
  addJsonOption(
    executors.command('show').description('one executor').argument('<instance-id>', 'its instance id'),
  ).action(async (instanceId: string, opts: { json?: boolean }, command: Command) => {
    const e = await (
      await clientFor(ctx, command)
    ).get<Executor>(`/api/executors/${encodeURIComponent(instanceId)}`);
    if (opts.json) return printJson(ctx, e);
    ctx.io.out(
      details([
        ['instance', e.instanceId],
        ['group', e.group],
        ['status', e.status],
        ['online', e.online],
        ['draining', e.draining],
        ['host', e.host],
        ['pid', e.pid],
        ['version', e.version],
        ['concurrency', e.concurrency],
        ['active runs', e.activeRuns],
        ['load', e.load],
        ['registered', time(e.registeredAt)],
        ['last heartbeat', time(e.lastHeartbeatAt)],
        ['offline since', time(e.offlineAt)],
        ['functions', e.functions.join(', ')],
      ]),
    );
  });
}
