/**
 * `kisjobs tokens list | create <name> [--expires] | revoke <id>`: the signed-in user's API tokens, for
 * scripts and CI (`KISJOBS_API_TOKEN`). The secret is printed once, at creation; only its hash is stored.
 */
import type { Command } from 'commander';
import type { ApiToken, CreatedApiToken } from '@kisjobs/protocol';
import type { CliContext } from '../context.js';
import { printJson, table, time } from '../output.js';
import { addJsonOption, clientFor } from './shared.js';

export function registerTokens(program: Command, ctx: CliContext): void {
  const tokens = program.command('tokens').description('your API tokens, for scripts (KISJOBS_API_TOKEN)');
  addJsonOption(tokens.command('list').description('your API tokens, with when each was last used')).action(
    async (opts: { json?: boolean }, command: Command) => {
      const body = await (await clientFor(ctx, command)).get<{ items: ApiToken[] }>('/api/tokens');
      if (opts.json) return printJson(ctx, body);
      ctx.io.out(
        table(body.items, [
          { header: 'id', value: (t) => t.id },
          { header: 'name', value: (t) => t.name },
          { header: 'created', value: (t) => time(t.createdAt) },
          { header: 'last used', value: (t) => time(t.lastUsedAt) },
          { header: 'expires', value: (t) => time(t.expiresAt) },
          { header: 'revoked', value: (t) => time(t.revokedAt) },
        ]),
      );
    },
  );
  tokens
    .command('create')
    .description('create an API token; its secret is shown once')
    .argument('<name>', 'what it is for, e.g. "ci deploys"')
    .option('--expires <time>', 'when it stops working (ISO 8601); default: when revoked')
    .option('--json', 'print the token and its secret as JSON')
    .action(async (name: string, opts: { expires?: string; json?: boolean }, command: Command) => {
      const created = await (
        await clientFor(ctx, command)
      ).post<CreatedApiToken>('/api/tokens', {
        name,
        ...(opts.expires === undefined ? {} : { expiresAt: opts.expires }),
      });
      if (opts.json) return printJson(ctx, created);
      ctx.io.out(`${created.secret}\n`);
      ctx.io.err(`created ${created.token.id} "${created.token.name}": the secret above is shown once\n`);
    });
  tokens
    .command('revoke')
    .description('revoke an API token: it stops working at once')
    .argument('<id>', 'the token id (tok_…)')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await (await clientFor(ctx, command)).request('DELETE', `/api/tokens/${encodeURIComponent(id)}`);
      ctx.io.out(`revoked ${id}\n`);
    });
}
