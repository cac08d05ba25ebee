import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.js';
import type { Prisma } from './generated/prisma/client.js';
import { resolveTarget } from './target.js';
import type { DbTarget } from './target.js';

export type { PrismaClient } from './generated/prisma/client.js';

/** The root client or the client of an open interactive transaction: repositories accept either. */
export type DbClient = PrismaClient | Prisma.TransactionClient;

export interface CreateDbOptions {
  /** Server Postgres only: the most connections the pool opens (default 10). */
  readonly poolMax?: number;
  /**
   * Server Postgres only: errors of idle pooled connections (for example, Postgres restarting). Without a
   * listener such an error would crash the process; the pool replaces the connection on next use.
   */
  readonly onPoolError?: (error: Error) => void;
}

export interface Db {
  readonly prisma: PrismaClient;
  /** Disconnects Prisma, then ends the pool or closes the PGlite it opened. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * A Prisma client on server Postgres (`@prisma/adapter-pg` over our own `pg.Pool`) or on embedded PGlite
 * (`pglite-prisma-adapter`). Each call makes a new client: there is no shared instance.
 */
export function createDb(options: DbTarget & CreateDbOptions): Db {
  const target = resolveTarget(options);
  let release: () => Promise<void>;
  let prisma: PrismaClient;
  switch (target.kind) {
    case 'server': {
      const pool = new pg.Pool({ connectionString: target.url, max: options.poolMax ?? 10 });
      pool.on('error', (error) => options.onPoolError?.(error));
      prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
      release = () => pool.end();
      break;
    }
    case 'pglite-dir': {
      const pglite = new PGlite(target.dataDir);
      prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
      release = () => pglite.close();
      break;
    }
    case 'pglite': {
      prisma = new PrismaClient({ adapter: new PrismaPGlite(target.pglite) });
      release = () => Promise.resolve();
      break;
    }
  }
  let closing: Promise<void> | undefined;
  return {
    prisma,
    close() {
      closing ??= (async () => {
        try {
          await prisma.$disconnect();
        } finally {
          await release();
        }
      })();
      return closing;
    },
  };
}
