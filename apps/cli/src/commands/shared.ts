/** What the command modules share: the global options, the client they imply, and `--json` / `--limit`. */
import type { Command } from 'commander';
import { createApiClient, type ApiClient } from '../client/api-client.js';
import { resolveServer } from '../client/credentials.js';
import type { CliContext } from '../context.js';
import { usageError } from '../errors.js';

export interface GlobalOptions {
  readonly url?: string;
}

/** The client for the server the global `--url` (or the environment, or the stored login) names. */
export async function clientFor(ctx: CliContext, command: Command): Promise<ApiClient> {
  const global = command.optsWithGlobals<GlobalOptions>();
  return createApiClient(await resolveServer(ctx, global.url));
}

export function addJsonOption(command: Command): Command {
  return command.option('--json', 'print the API response as JSON (for scripts)');
}

export function parseLimit(raw: string | undefined, fallback = 50, max = 500): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw usageError(`--limit: expected a whole number from 1 to ${max}, got "${raw}"`);
  }
  return value;
}
