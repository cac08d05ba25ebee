/** `kisjobs configs list | show <kind> <name> | import <files...> | export [--flow] [-o file]` */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ConfigDocumentView, ConfigImportResult, ConfigSummary } from '@kisjobs/protocol';
import type { CliContext } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { details, printJson, table, time } from '../output.js';
import { addJsonOption, clientFor } from './shared.js';

const KINDS = ['func', 'flow', 'conn', 'global'];

async function readFiles(
  ctx: CliContext,
  files: readonly string[],
): Promise<{ name: string; content: string }[]> {
  return Promise.all(
    files.map(async (file) => {
      if (file === '-') return { name: 'stdin.yml', content: await ctx.io.readStdin() };
      try {
        return { name: basename(file), content: await readFile(resolve(ctx.cwd, file), 'utf8') };
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
        throw new CliError('FILE_UNREADABLE', `${file}: ${reason}`, { exitCode: EXIT.usage });
      }
    }),
  );
}

export function registerConfigs(program: Command, ctx: CliContext): void {
  const configs = program
    .command('configs')
    .description('KisFlow configs: function, flow, connector and global documents, versioned');
  addJsonOption(configs.command('list').description('stored documents by kind and name'))
    .option('--kind <kind>', `only this kind (${KINDS.join(', ')})`)
    .option('--name <text>', 'names containing this (any case)')
    .action(async (opts: { json?: boolean; kind?: string; name?: string }, command: Command) => {
      if (opts.kind !== undefined && !KINDS.includes(opts.kind)) {
        throw usageError(`--kind: expected one of ${KINDS.join(', ')}, got "${opts.kind}"`);
      }
      const body = await (
        await clientFor(ctx, command)
      ).get<{ items: ConfigSummary[] }>('/api/configs', {
        query: { kind: opts.kind, q: opts.name },
      });
      if (opts.json) return printJson(ctx, body);
      ctx.io.out(
        table(body.items, [
          { header: 'kind', value: (c) => c.kind },
          { header: 'name', value: (c) => c.name },
          { header: 'version', value: (c) => c.version },
          { header: 'updated', value: (c) => time(c.updatedAt) },
        ]),
      );
    });
  addJsonOption(
    configs
      .command('show')
      .description('one document as YAML')
      .argument('<kind>', KINDS.join(' | '))
      .argument('<name>', 'its name'),
  ).action(async (kind: string, name: string, opts: { json?: boolean }, command: Command) => {
    if (!KINDS.includes(kind)) throw usageError(`<kind>: expected one of ${KINDS.join(', ')}, got "${kind}"`);
    const doc = await (
      await clientFor(ctx, command)
    ).get<ConfigDocumentView>(`/api/configs/${kind}/${encodeURIComponent(name)}`);
    if (opts.json) return printJson(ctx, doc);
    ctx.io.out(
      details([
        ['kind', doc.kind],
        ['name', doc.name],
        ['version', doc.version],
        ['updated', time(doc.updatedAt)],
      ]),
    );
    ctx.io.out(`---\n${doc.yaml.endsWith('\n') ? doc.yaml : `${doc.yaml}\n`}`);
  });
  configs
    .command('import')
    .description('import kis-flow YAML files (several documents each): validated together, all or nothing')
    .argument('<files...>', 'YAML files, or - for standard input')
    .option('--dry-run', 'validate only: say what would change and write nothing')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], opts: { dryRun?: boolean; json?: boolean }, command: Command) => {
      const client = await clientFor(ctx, command);
      const body = { files: await readFiles(ctx, files) };
      const result = await client.post<ConfigImportResult>(
        opts.dryRun ? '/api/configs/validate' : '/api/configs/import',
        body,
      );
      if (opts.json) return printJson(ctx, result);
      ctx.io.out(
        table(result.documents, [
          { header: 'kind', value: (d) => d.kind },
          { header: 'name', value: (d) => d.name },
          { header: 'version', value: (d) => d.version },
          { header: 'changed', value: (d) => (d.changed ? (opts.dryRun ? 'would change' : 'yes') : 'no') },
        ]),
      );
    });
  configs
    .command('export')
    .description('export YAML that imports back: one flow with its functions and connectors, or everything')
    .option('--flow <name>', 'only this flow and what it uses')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (opts: { flow?: string; output?: string }, command: Command) => {
      const response = await (
        await clientFor(ctx, command)
      ).raw('GET', '/api/configs/export', {
        query: { flow: opts.flow },
        headers: { accept: 'application/yaml' },
      });
      const yaml = await response.text();
      if (opts.output === undefined) return ctx.io.out(yaml);
      await writeFile(resolve(ctx.cwd, opts.output), yaml);
      ctx.io.err(`wrote ${opts.output}\n`);
    });
}
