/**
 * The stored sign-in (`kisjobs login`): the server URL and a bearer token in `<config dir>/credentials.json`,
 * written with mode 0600. `KISJOBS_URL` and `KISJOBS_API_TOKEN` override it (for scripts and CI), and `--url`
 * overrides both.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { configDir, type CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

const StoredCredentials = z.object({
  url: z.string().url(),
  token: z.string().min(1),
  username: z.string(),
  expiresAt: z.string().nullable(),
});
export type StoredCredentials = z.infer<typeof StoredCredentials>;

function credentialsFile(ctx: CliContext): string {
  return join(configDir(ctx), 'credentials.json');
}

export async function readCredentials(ctx: CliContext): Promise<StoredCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(credentialsFile(ctx), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = StoredCredentials.safeParse(JSON.parse(text) as unknown);
  if (!parsed.success) {
    throw new CliError('CREDENTIALS_INVALID', `${credentialsFile(ctx)} is not a kisjobs credentials file`, {
      hint: 'Run `kisjobs login` again (or delete the file).',
    });
  }
  return parsed.data;
}

export async function writeCredentials(ctx: CliContext, credentials: StoredCredentials): Promise<string> {
  const dir = configDir(ctx);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = credentialsFile(ctx);
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export async function removeCredentials(ctx: CliContext): Promise<void> {
  await rm(credentialsFile(ctx), { force: true });
}

/** Normalises a server URL given on the command line or in the environment. */
export function parseServerUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError('URL_INVALID', `${source}: "${raw}" is not a URL`, { exitCode: EXIT.usage });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError('URL_INVALID', `${source}: expected an http:// or https:// URL`, {
      exitCode: EXIT.usage,
    });
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export interface ServerTarget {
  readonly url: string;
  readonly token: string | undefined;
}

/** Which server and token a command uses: `--url`, `KISJOBS_URL`, the stored login, the default. */
export async function resolveServer(ctx: CliContext, flagUrl: string | undefined): Promise<ServerTarget> {
  const stored = await readCredentials(ctx);
  const envUrl = ctx.env['KISJOBS_URL'];
  const url =
    flagUrl !== undefined
      ? parseServerUrl(flagUrl, '--url')
      : envUrl !== undefined && envUrl !== ''
        ? parseServerUrl(envUrl, 'KISJOBS_URL')
        : (stored?.url ?? DEFAULT_URL);
  const envToken = ctx.env['KISJOBS_API_TOKEN'];
  const token =
    envToken !== undefined && envToken !== '' ? envToken : stored?.url === url ? stored.token : undefined;
  return { url, token };
}
