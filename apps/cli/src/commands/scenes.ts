/** `kisjobs scenes list | show | pause | resume <id-or-name>` */
import type { Command } from 'commander';
import type { Scene } from '@kisjobs/protocol';
import type { Page } from '../client/api-client.js';
import { findScene } from '../client/lookup.js';
import type { CliContext } from '../context.js';
import { details, printJson, table, time } from '../output.js';
import { addJsonOption, clientFor, parseLimit } from './shared.js';

export function registerScenes(program: Command, ctx: CliContext): void {
  const scenes = program.command('scenes').description('scenes (KisScenes): business groupings of jobs');
  addJsonOption(scenes.command('list').description('the scenes you can see, newest first'))
    .option('--limit <n>', 'at most this many (1-500)', '50')
    .option('--cursor <cursor>', 'the next page (nextCursor of the previous one)')
    .action(async (opts: { json?: boolean; limit?: string; cursor?: string }, command: Command) => {
      const client = await clientFor(ctx, command);
      const page = await client.get<Page<Scene>>('/api/scenes', {
        query: { limit: parseLimit(opts.limit), cursor: opts.cursor },
      });
      if (opts.json) return printJson(ctx, page);
      ctx.io.out(
        table(page.items, [
          { header: 'id', value: (s) => s.id },
          { header: 'name', value: (s) => s.name },
          { header: 'paused', value: (s) => s.paused },
          { header: 'description', value: (s) => s.description },
        ]),
      );
      if (page.nextCursor !== null) ctx.io.err(`more: --cursor ${page.nextCursor}\n`);
    });
  for (const [action, description] of [
    ['pause', 'pause every job of the scene (their schedules are kept)'],
    ['resume', 'resume the jobs of a paused scene'],
  ] as const) {
    addJsonOption(scenes.command(action).description(description).argument('<scene>', 'id or name')).action(
      async (scene: string, opts: { json?: boolean }, command: Command) => {
        const client = await clientFor(ctx, command);
        const found = await findScene(client, scene);
        const updated = await client.post<Scene>(`/api/scenes/${found.id}/${action}`);
        if (opts.json) return printJson(ctx, updated);
        ctx.io.out(`${updated.name}: ${updated.paused ? 'paused' : 'active'}\n`);
      },
    );
  }
  addJsonOption(scenes.command('show').description('one scene').argument('<scene>', 'id or name')).action(
    async (scene: string, opts: { json?: boolean }, command: Command) => {
      const found = await findScene(await clientFor(ctx, command), scene);
      if (opts.json) return printJson(ctx, found);
      ctx.io.out(
        details([
          ['id', found.id],
          ['name', found.name],
          ['description', found.description],
          ['paused', found.paused],
          ['created', time(found.createdAt)],
          ['updated', time(found.updatedAt)],
        ]),
      );
    },
  );
}
