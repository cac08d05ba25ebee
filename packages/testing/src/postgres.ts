import pg from 'pg';
import { testServiceUrls } from './env.js';
import { uniqueToken } from './ids.js';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database (kept when KISJOBS_KEEP_TEST_STATE=1, for post-mortems). */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  readonly label?: string;
  /** Clone this template database (see `ensureTemplateDatabase`). */
  readonly template?: string;
  readonly serverUrl?: string;
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A fresh database on the shared Postgres, for one test file. */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? testServiceUrls().postgresUrl;
  const name = `kjt_${uniqueToken(options.label ?? 'db')}`;
  await withAdmin(serverUrl, async (client) => {
    const template = options.template ? ` TEMPLATE ${quoteIdent(options.template)}` : '';
    await client.query(`CREATE DATABASE ${quoteIdent(name)}${template}`);
  });
  return {
    name,
    url: databaseUrl(serverUrl, name),
    async drop() {
      if (process.env.KISJOBS_KEEP_TEST_STATE === '1') return;
      await withAdmin(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
      );
    },
  };
}

/**
 * Creates (once, across parallel test processes) a template database named for `key` and fills it with
 * `init`. Test files then clone it cheaply with `createTestDatabase({ template })`. `key` should change
 * whenever what `init` does changes (e.g. a hash of the migrations).
 */
export async function ensureTemplateDatabase(
  key: string,
  init: (url: string) => Promise<void>,
  serverUrl = testServiceUrls().postgresUrl,
): Promise<string> {
  const name = `kjtpl_${key
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '')
    .slice(0, 40)}`;
  await withAdmin(serverUrl, async (client) => {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    try {
      const found = await client.query<{ datistemplate: boolean }>(
        'SELECT datistemplate FROM pg_database WHERE datname = $1',
        [name],
      );
      if (found.rows[0]?.datistemplate === true) return;
      if (found.rows.length > 0) await client.query(`DROP DATABASE ${quoteIdent(name)} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      await init(databaseUrl(serverUrl, name));
      await client.query(`ALTER DATABASE ${quoteIdent(name)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
    }
  });
  return name;
}
