/**
 * `kisjobs login | logout | whoami`. The password comes from `--password-stdin`, `KISJOBS_PASSWORD`, or a
 * hidden prompt on a terminal; never from a flag, so it does not show in `ps` or the shell history.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { CurrentUser, LoginResult } from '@kisjobs/protocol';
import { createApiClient } from '../client/api-client.js';
import {
  readCredentials,
  removeCredentials,
  resolveServer,
  writeCredentials,
} from '../client/credentials.js';
import type { CliContext } from '../context.js';
import { usageError } from '../errors.js';
import { details, printJson, time } from '../output.js';
import { clientFor, type GlobalOptions } from './shared.js';

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    let asked = false;
    output._writeToOutput = (s: string) => {
      if (!asked) {
        process.stderr.write(s);
        asked = true;
      }
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

async function passwordFrom(ctx: CliContext, opts: { passwordStdin?: boolean }): Promise<string> {
  if (opts.passwordStdin) return (await ctx.io.readStdin()).replace(/\r?\n$/, '');
  const env = ctx.env['KISJOBS_PASSWORD'];
  if (env !== undefined && env !== '') return env;
  if (!process.stdin.isTTY)
    throw usageError('no password: use --password-stdin or KISJOBS_PASSWORD when not on a terminal');
  return promptHidden('password: ');
}

export function registerLogin(program: Command, ctx: CliContext): void {
  program
    .command('login')
    .description('sign in and store a session token for the next commands')
    .option('-u, --username <name>', 'username (default: KISJOBS_USERNAME, or "admin")')
    .option('--password-stdin', 'read the password from standard input')
    .option('--json', 'print the signed-in user as JSON')
    .action(
      async (opts: { username?: string; passwordStdin?: boolean; json?: boolean }, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>();
        const server = await resolveServer(ctx, global.url);
        const username = opts.username ?? ctx.env['KISJOBS_USERNAME'] ?? 'admin';
        const password = await passwordFrom(ctx, opts);
        const client = createApiClient({ url: server.url, token: undefined });
        const result = await client.post<LoginResult>('/api/auth/login', { username, password });
        const file = await writeCredentials(ctx, {
          url: server.url,
          token: result.token,
          username: result.user.username,
          expiresAt: result.expiresAt,
        });
        if (opts.json) return printJson(ctx, result.user);
        ctx.io.out(
          `signed in to ${server.url} as ${result.user.username} (${result.user.role}); token in ${file}\n`,
        );
      },
    );
  program
    .command('logout')
    .description('end the stored session and forget it')
    .action(async (_opts: unknown, command: Command) => {
      const stored = await readCredentials(ctx);
      if (stored !== undefined) {
        await (await clientFor(ctx, command)).post('/api/auth/logout').catch(() => undefined);
        await removeCredentials(ctx);
      }
      ctx.io.out('signed out\n');
    });
  program
    .command('whoami')
    .description('the signed-in user')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const client = await clientFor(ctx, command);
      const me = await client.get<CurrentUser>('/api/auth/me');
      if (opts.json) return printJson(ctx, me);
      ctx.io.out(
        details([
          ['server', client.url],
          ['username', me.user.username],
          ['role', me.user.role],
          ['signed in with', me.authenticatedWith],
          ['expires', time(me.expiresAt)],
        ]),
      );
    });
}
