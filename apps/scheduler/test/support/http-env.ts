/**
 * The real HTTP API on a fresh migrated Postgres database and a unique Redis prefix, served on an ephemeral
 * loopback port, with a fake clock the test moves, a log that records every line, and small helpers: `call`
 * (fetch + JSON), `user(role, sceneIds)` (a user with a session token), `scene()`.
 *
 * With `scheduler`, a real scheduler (createScheduler) runs on the same database and Redis prefix and backs
 * the resource routes (jobs, runs, configs, executors); its schedule engine is off unless asked for.
 */
import { Registry } from 'prom-client';
import { createDb, insertScene, type PrismaClient } from '@kisjobs/db';
import { newId, type Role } from '@kisjobs/protocol';
import { createMigratedDatabase, useTestRedis, type TestRedis } from '@kisjobs/testing';
import { createPasswordHasher } from '../../src/auth/password.js';
import { createUser } from '../../src/auth/users.js';
import { createHttpApp, type HttpApp, type HttpAppOptions } from '../../src/http/app.js';
import type { HttpServerHandle } from '../../src/http/listen.js';
import type { Logger } from '../../src/registry/ports.js';
import { createScheduler, type Scheduler, type SchedulerOptions } from '../../src/scheduler.js';

export class FakeClock {
  constructor(private ms: number = Date.now()) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>> | undefined;
}

export interface CallResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  readonly body: unknown;
}

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as is (no JSON encoding), with `contentType` (default application/json). */
  readonly raw?: string | Uint8Array;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TestUser {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  readonly role: Role;
  /** A session token from a real login. */
  readonly token: string;
}

export interface HttpEnv {
  readonly prisma: PrismaClient;
  readonly redis: TestRedis;
  readonly clock: FakeClock;
  readonly registry: Registry;
  readonly logs: LogLine[];
  readonly http: HttpApp;
  readonly server: HttpServerHandle;
  readonly url: string;
  /** The started scheduler behind the resource routes (only with the `scheduler` option). */
  readonly scheduler: Scheduler | undefined;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** A user made directly through the service, then signed in over HTTP. */
  user(role: Role, sceneIds?: readonly string[], password?: string): Promise<TestUser>;
  scene(name?: string): Promise<string>;
  close(): Promise<void>;
}

export function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (msg: string, fields?: Readonly<Record<string, unknown>>): void => {
      lines.push({ level, msg, fields });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export async function httpEnv(
  label: string,
  options: Partial<Pick<HttpAppOptions, 'auth' | 'http' | 'routes' | 'services'>> & {
    /** Run a real scheduler behind the resource routes (`true`, or options to tune it). */
    readonly scheduler?:
      boolean | Partial<Omit<SchedulerOptions, 'prisma' | 'redis' | 'redisUrl' | 'prefix' | 'logger'>>;
  } = {},
): Promise<HttpEnv> {
  const database = await createMigratedDatabase(label);
  const db = createDb({ url: database.url, poolMax: 8 });
  const redis = await useTestRedis(label);
  const clock = new FakeClock();
  const registry = new Registry();
  const logs: LogLine[] = [];
  const logger = recordingLogger(logs);
  const { scheduler: schedulerOption, ...appOptions } = options;
  let scheduler: Scheduler | undefined;
  if (schedulerOption !== undefined && schedulerOption !== false) {
    scheduler = createScheduler({
      schedule: { enabled: false },
      ...(schedulerOption === true ? {} : schedulerOption),
      prisma: db.prisma,
      redis: redis.client,
      prefix: redis.prefix,
      logger,
    });
    await scheduler.start();
  }
  const http = createHttpApp({
    prisma: db.prisma,
    redis: redis.client,
    logger,
    clock,
    metricsRegistry: registry,
    keyPrefix: redis.prefix,
    ...appOptions,
    ...(scheduler === undefined ? {} : { services: { ...appOptions.services, scheduler } }),
    http: { checkResponses: true, ...appOptions.http },
  });
  const server = await http.listen(0, '127.0.0.1');
  const hasher = createPasswordHasher();
  let counter = 0;

  const call = async (method: string, path: string, opts: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | Uint8Array | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] ??= opts.contentType ?? 'application/json';
    const response = await fetch(`${server.url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };

  return {
    prisma: db.prisma,
    redis,
    clock,
    registry,
    logs,
    http,
    server,
    url: server.url,
    scheduler,
    call,
    async user(role, sceneIds = [], password = `pw-${role}-correct-horse-${++counter}`) {
      const username = `${role}-${++counter}-${label}`.toLowerCase();
      const user = await createUser(
        { prisma: db.prisma, clock, hasher },
        { username, password, role, sceneIds },
      );
      const login = await call('POST', '/api/auth/login', { body: { username, password } });
      if (login.status !== 200) throw new Error(`login of ${username} failed: ${login.status} ${login.text}`);
      const token = (login.body as { token: string }).token;
      return { id: user.id, username, password, role, token };
    },
    async scene(name = `scene-${++counter}`) {
      const now = clock.now();
      const result = await insertScene(db.prisma, { id: newId('scn', now), name, description: '', now });
      if (!result.ok) throw new Error(`scene ${name}: ${result.reason}`);
      return result.scene.id;
    },
    async close() {
      await server.close();
      await scheduler?.close();
      await redis.close();
      await db.close();
      await database.drop();
    },
  };
}
