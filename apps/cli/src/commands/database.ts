/**
 * The commands that talk to Postgres directly, for operators bootstrapping a deployment:
 * `kisjobs migrate`, `kisjobs admin create`, `kisjobs groups ensure`.
 */
import type { Command } from 'commander';
import { migrate, type DbTarget } from '@kisjobs/db';
import { createAdmin, systemClock } from '@kisjobs/scheduler';
import { isKisJobsError } from '@kisjobs/protocol';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { ensureGroupToken } from '../database/group-token.js';
import { databaseTarget, withDatabase, type DatabaseOptions } from '../database/target.js';
import { printJson } from '../output.js';
import { resolve } from 'node:path';

function withDatabaseOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'postgres:// URL (default: DATABASE_URL)')
    .option('--pglite <dir>', 'an embedded PGlite folder instead (the dev stack uses .kisjobs/pgdata)');
}

function stripLabel(target: DbTarget & { label: string }): DbTarget {
  const { label: _label, ...rest } = target;
  return rest as DbTarget;
}

export function registerDatabase(program: Command, ctx: CliContext): void {
  withDatabaseOptions(
    program.command('migrate').description('apply pending database migrations (safe to run again)'),
  )
    .option('--json', 'print the result as JSON')
    .action(async (opts: DatabaseOptions & { json?: boolean }) => {
      const target = databaseTarget(ctx, opts);
      let result;
      try {
        result = await migrate(stripLabel(target));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new CliError('MIGRATION_FAILED', `${target.label}: ${message.split('\n')[0]}`, {
          exitCode: EXIT.database,
        });
      }
      if (opts.json) return printJson(ctx, result);
      ctx.io.out(
        result.applied.length === 0
          ? `${target.label}: up to date (${result.known.length} migrations)\n`
          : `${target.label}: applied ${result.applied.join(', ')}\n`,
      );
    });

  const admin = program.command('admin').description('bootstrap administrators');
  withDatabaseOptions(
    admin.command('create').description('create an admin (the password is generated unless read from stdin)'),
  )
    .requiredOption('-u, --username <name>', 'the username')
    .option('--password-stdin', 'read the password (12+ characters) from standard input')
    .option('--json', 'print the user (and the generated password) as JSON')
    .action(async (opts: DatabaseOptions & { username: string; passwordStdin?: boolean; json?: boolean }) => {
      const password = opts.passwordStdin ? (await ctx.io.readStdin()).replace(/\r?\n$/, '') : undefined;
      const created = await withDatabase(databaseTarget(ctx, opts), async (db) => {
        try {
          return await createAdmin(
            { prisma: db.prisma, clock: systemClock },
            { username: opts.username, password },
          );
        } catch (error) {
          if (isKisJobsError(error)) {
            const issues =
              (error.details as { issues?: { path: string; message: string }[] } | undefined)?.issues ?? [];
            throw new CliError(error.code, error.message, {
              exitCode: error.code === 'ALREADY_EXISTS' ? EXIT.rejected : EXIT.usage,
              issues: issues.map((i) => ({
                path: i.path === 'username' ? '--username' : i.path,
                message: i.message,
              })),
            });
          }
          throw error;
        }
      });
      if (opts.json) return printJson(ctx, created);
      ctx.io.out(`created admin ${created.user.username} (${created.user.id})\n`);
      if (created.generatedPassword !== undefined) {
        ctx.io.out(`password: ${created.generatedPassword}\n(shown once: store it now)\n`);
      }
    });

  const groups = program.command('groups').description('executor groups');
  withDatabaseOptions(
    groups
      .command('ensure')
      .description('create the group if missing, and keep a valid registration token in a file (mode 0600)')
      .argument('<name>', 'group name')
      .requiredOption('--token-file <path>', 'where the token is kept; a still-valid token there is reused'),
  ).action(async (name: string, opts: DatabaseOptions & { tokenFile: string }) => {
    const file = resolve(ctx.cwd, opts.tokenFile);
    const result = await withDatabase(databaseTarget(ctx, opts), (db) =>
      ensureGroupToken(db.prisma, name, file),
    );
    ctx.io.out(
      `${result.created ? 'created group' : 'group'} ${name}; ${result.tokenWritten ? `new token written to ${file}` : `token in ${file} is valid`}\n`,
    );
  });
}
