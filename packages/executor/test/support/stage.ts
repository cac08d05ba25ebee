/**
 * A test's stage for runnable executors: a Redis keyspace with the scheduler's side of it and a seeded
 * registration token, executor children started on it, and everything undone in reverse order by `cleanup()`
 * (call it from `afterEach`).
 */
import { useTestRedis, type TestRedis } from '@kisjobs/testing';
import { spawnExecutor, type ExecutorChild } from './executors.js';
import { SchedulerSide, newToken } from './scheduler-side.js';

export interface Stage {
  readonly side: SchedulerSide;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly token: string;
}

export interface Stages {
  /** A keyspace on the shared test Redis, its scheduler side, and a seeded token. */
  shared(label: string): Promise<Stage & { readonly redis: TestRedis }>;
  /** Starts the runnable executor on the stage; it is stopped by `cleanup()`. */
  spawn(stage: Stage, options?: Parameters<typeof spawnExecutor>[1]): ExecutorChild;
  /** Something else to undo at cleanup. */
  defer(undo: () => Promise<void>): void;
  cleanup(): Promise<void>;
}

export function stages(): Stages {
  const undo: (() => Promise<void>)[] = [];
  return {
    async shared(label) {
      const redis = await useTestRedis(label);
      const side = new SchedulerSide(redis.client, redis.prefix);
      undo.push(async () => {
        await side.close();
        await redis.close();
      });
      const token = newToken();
      await side.seedToken(token);
      return { redis, side, redisUrl: redis.url, prefix: redis.prefix, token };
    },
    spawn(stage, options = {}) {
      const child = spawnExecutor(
        { redisUrl: stage.redisUrl, prefix: stage.prefix, token: stage.token },
        options,
      );
      undo.push(() => child.stop());
      return child;
    },
    defer(fn) {
      undo.push(fn);
    },
    async cleanup() {
      for (const fn of undo.splice(0).reverse()) await fn();
    },
  };
}
