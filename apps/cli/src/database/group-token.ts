/**
 * `groups ensure`: an executor group exists and a token file holds a valid registration token for it. Used by
 * the docker-compose migrate step and the dev stack, so executors can start with `KISJOBS_TOKEN_FILE` and no
 * token ever appears in a compose file or an environment listing. A token file whose token still matches the
 * group's hash is kept; otherwise a new token replaces the group's (the old one stops registering; executors
 * already registered keep running) and is written with mode 0600. Schedulers copy the hash to Redis on their
 * next token sync.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PrismaClient } from '@kisjobs/db';
import { GroupName, newId, newSecretToken, tokenHash } from '@kisjobs/protocol';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

export interface EnsuredGroup {
  readonly name: string;
  readonly created: boolean;
  /** True when a new token was written to the file. */
  readonly tokenWritten: boolean;
  readonly token: string;
}

async function readToken(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

export async function ensureGroupToken(
  prisma: PrismaClient,
  name: string,
  tokenFile: string,
): Promise<EnsuredGroup> {
  const parsed = GroupName.safeParse(name);
  if (!parsed.success) {
    throw new CliError('USAGE', `<name>: ${parsed.error.issues[0]?.message ?? 'not a group name'}`, {
      exitCode: EXIT.usage,
    });
  }
  const existing = await prisma.executorGroup.findUnique({ where: { name } });
  const current = await readToken(tokenFile);
  if (existing !== null && current !== undefined && existing.registrationTokenHash === tokenHash(current)) {
    return { name, created: false, tokenWritten: false, token: current };
  }
  const token = newSecretToken();
  const hash = tokenHash(token);
  const now = new Date();
  if (existing === null) {
    await prisma.executorGroup.upsert({
      where: { name },
      create: {
        id: newId('grp', now),
        name,
        description: '',
        registrationTokenHash: hash,
        tokenRotatedAt: now,
      },
      update: { registrationTokenHash: hash, tokenRotatedAt: now },
    });
  } else {
    await prisma.executorGroup.update({
      where: { id: existing.id },
      data: { registrationTokenHash: hash, tokenRotatedAt: now },
    });
  }
  await mkdir(dirname(tokenFile), { recursive: true });
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  return { name, created: existing === null, tokenWritten: true, token };
}
