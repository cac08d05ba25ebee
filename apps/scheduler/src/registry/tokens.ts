/**
 * Registration tokens (DESIGN §2.7, §4). Postgres holds each group's token hash
 * (`executor_groups.registration_token_hash`); Redis holds a mirror, `registrationToken(hash)` = group
 * name, which the executor's registration script checks. The plaintext token is returned once and never
 * stored. The mirror is rebuilt from Postgres at start and every `tokenSyncIntervalMs`, so a FLUSHALL
 * heals by itself, and keys whose hash is no longer valid (a rotated token) are deleted.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  ConflictError,
  GroupName,
  NotFoundError,
  ValidationError,
  newId,
  newSecretToken,
  toValidationIssues,
  tokenHash,
  type Keyspace,
} from '@kisjobs/protocol';
import { Prisma, type ExecutorGroup, type PrismaClient } from '@kisjobs/db';
import { errorMessage, type Clock, type Logger } from './ports.js';

export const CreateGroupInput = z.object({
  name: GroupName,
  description: z.string().max(1_000).optional(),
});
export type CreateGroupInput = z.infer<typeof CreateGroupInput>;

export interface TokenMirrorOptions {
  readonly prisma: PrismaClient;
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface TokenSyncResult {
  /** Valid tokens written to Redis. */
  readonly written: number;
  /** Redis token keys deleted because their hash is not valid any more. */
  readonly removed: number;
}

export class TokenMirror {
  readonly #o: TokenMirrorOptions;

  constructor(options: TokenMirrorOptions) {
    this.#o = options;
  }

  /** A new executor group and its first registration token (shown once). */
  async createGroup(input: CreateGroupInput): Promise<{ group: ExecutorGroup; token: string }> {
    const parsed = CreateGroupInput.safeParse(input);
    if (!parsed.success) throw new ValidationError(toValidationIssues(parsed.error.issues));
    const { name, description } = parsed.data;
    const token = newSecretToken();
    const hash = tokenHash(token);
    let group: ExecutorGroup;
    try {
      group = await this.#o.prisma.executorGroup.create({
        data: {
          id: newId('grp', this.#o.clock.now()),
          name,
          description: description ?? '',
          registrationTokenHash: hash,
          tokenRotatedAt: this.#o.clock.now(),
        },
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new ConflictError(`executor group ${name} already exists`, {
          code: 'ALREADY_EXISTS',
          details: { name },
        });
      }
      throw error;
    }
    await this.#mirror(name, undefined, hash);
    return { group, token };
  }

  /** Replaces the group's token: the old one stops working at once (its Redis key is deleted). */
  async rotateGroupToken(name: string): Promise<{ token: string }> {
    const { prisma, clock } = this.#o;
    const group = await prisma.executorGroup.findUnique({ where: { name } });
    if (group === null) throw new NotFoundError('group', name);
    const token = newSecretToken();
    const hash = tokenHash(token);
    const updated = await prisma.executorGroup.updateMany({
      where: { id: group.id, registrationTokenHash: group.registrationTokenHash },
      data: { registrationTokenHash: hash, tokenRotatedAt: clock.now() },
    });
    if (updated.count !== 1) {
      throw new ConflictError(`the token of executor group ${name} was rotated concurrently; try again`, {
        code: 'CONFLICT',
      });
    }
    await this.#mirror(name, group.registrationTokenHash ?? undefined, hash);
    return { token };
  }

  /** Postgres → Redis: writes every valid token key and deletes the others. */
  async syncTokens(): Promise<TokenSyncResult> {
    const { prisma, redis, keyspace: ks } = this.#o;
    const groups = await prisma.executorGroup.findMany({
      where: { registrationTokenHash: { not: null } },
      select: { name: true, registrationTokenHash: true },
    });
    const valid = new Map<string, string>();
    for (const group of groups) {
      if (group.registrationTokenHash !== null) valid.set(group.registrationTokenHash, group.name);
    }
    if (valid.size > 0) {
      const pipeline = redis.pipeline();
      for (const [hash, name] of valid) pipeline.set(ks.registrationToken(hash), name);
      await pipeline.exec();
    }
    const prefix = `${ks.hashTag}:token:`;
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      cursor = next;
      const stale = keys.filter((key) => !valid.has(key.slice(prefix.length)));
      if (stale.length > 0) removed += await redis.del(...stale);
    } while (cursor !== '0');
    return { written: valid.size, removed };
  }

  /**
   * Writes the new key and deletes the old one. Postgres has committed already: if Redis fails here, the
   * token is still returned (it cannot be shown again) and the next sync repairs the mirror.
   */
  async #mirror(name: string, oldHash: string | undefined, newHash: string): Promise<void> {
    const { redis, keyspace: ks, logger } = this.#o;
    try {
      const multi = redis.multi();
      if (oldHash !== undefined && oldHash !== newHash) multi.del(ks.registrationToken(oldHash));
      multi.set(ks.registrationToken(newHash), name);
      await multi.exec();
    } catch (error) {
      logger.error('could not mirror a registration token to Redis; the periodic sync will', {
        group: name,
        error: errorMessage(error),
      });
    }
  }
}
