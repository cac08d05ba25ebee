/** Where the shared test services live. Overridable for machines with other ports. */
export interface TestServiceUrls {
  readonly redisUrl: string;
  readonly postgresUrl: string;
}

export function testServiceUrls(env: NodeJS.ProcessEnv = process.env): TestServiceUrls {
  return {
    redisUrl: env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    postgresUrl: env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  };
}
