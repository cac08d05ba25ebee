import { Redis } from 'ioredis';
import { testServiceUrls } from './env.js';
import { uniqueToken } from './ids.js';

export interface TestRedis {
  readonly url: string;
  /** A bare, unique name. Key layouts wrap it in a hash tag: `{prefix}:...`. */
  readonly prefix: string;
  /** A client for assertions; closed by `close()`. */
  readonly client: Redis;
  /** Deletes every key under the prefix and closes the client. */
  close(): Promise<void>;
}

/** The shared Redis with a prefix no other test uses. */
export async function useTestRedis(label = 'redis', url = testServiceUrls().redisUrl): Promise<TestRedis> {
  const prefix = `kjt-${uniqueToken(label)}`;
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  await client.connect();
  return {
    url,
    prefix,
    client,
    async close() {
      if (process.env.KISJOBS_KEEP_TEST_STATE !== '1') await deleteByPattern(client, `*${prefix}*`);
      client.disconnect();
    },
  };
}

export async function deleteByPattern(client: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
