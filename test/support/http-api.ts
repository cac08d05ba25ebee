/**
 * The real HTTP API over a running pipeline (its Postgres, Redis and scheduler), on an ephemeral loopback
 * port: `call` (fetch + JSON), `login(role, sceneIds)` (a user created through the service, signed in over
 * HTTP) and `events` (reads a Server-Sent Events stream).
 */
import { Registry } from 'prom-client';
import type { Role } from '@kisjobs/protocol';
import {
  createHttpApp,
  createPasswordHasher,
  createUser,
  registerSchedulerMetrics,
  silentLogger,
  systemClock,
} from '@kisjobs/scheduler';
import type { Pipeline } from './pipeline.js';

export interface ApiCallResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly text: string;
}

export interface ApiUser {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  readonly token: string;
}

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: unknown;
}

export interface ServedApi {
  readonly url: string;
  call(
    method: string,
    path: string,
    options?: { readonly token?: string; readonly body?: unknown; readonly headers?: Record<string, string> },
  ): Promise<ApiCallResult>;
  login(role: Role, sceneIds?: readonly string[]): Promise<ApiUser>;
  /**
   * Opens an event stream and reads events until `stop(event, all)` says so or the server ends the stream;
   * then closes the connection. Returns the events read.
   */
  events(
    path: string,
    options: {
      readonly token: string;
      readonly headers?: Record<string, string>;
      readonly stop?: (event: SseEvent, all: readonly SseEvent[]) => boolean;
    },
  ): Promise<SseEvent[]>;
  close(): Promise<void>;
}

function parseEvent(block: string): SseEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { id, event, data: JSON.parse(data.join('\n')) as unknown };
}

export async function serveApi(pipeline: Pipeline): Promise<ServedApi> {
  const metricsRegistry = new Registry();
  registerSchedulerMetrics(metricsRegistry, pipeline.scheduler, pipeline.prisma); // as main.ts does
  const app = createHttpApp({
    prisma: pipeline.prisma,
    redis: pipeline.redis.client,
    logger: silentLogger,
    clock: systemClock,
    metricsRegistry,
    keyPrefix: pipeline.redis.prefix,
    services: { scheduler: pipeline.scheduler },
    http: { checkResponses: true },
  });
  const server = await app.listen(0, '127.0.0.1');
  const hasher = createPasswordHasher();
  let users = 0;

  const call: ServedApi['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body, text };
  };

  return {
    url: server.url,
    call,
    async login(role, sceneIds = []) {
      const username = `${role}-${++users}`;
      const password = `correct horse ${role} ${users}`;
      const user = await createUser(
        { prisma: pipeline.prisma, clock: systemClock, hasher },
        { username, password, role, sceneIds },
      );
      const login = await call('POST', '/api/auth/login', { body: { username, password } });
      if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
      return { id: user.id, username, password, token: (login.body as { token: string }).token };
    },
    async events(path, options) {
      const controller = new AbortController();
      const response = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${options.token}`, ...options.headers },
        signal: controller.signal,
      });
      if (response.status !== 200 || response.body === null) {
        throw new Error(`stream ${path}: ${response.status} ${await response.text()}`);
      }
      const events: SseEvent[] = [];
      const decoder = new TextDecoder();
      let buffer = '';
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return events;
          buffer += decoder.decode(value, { stream: true });
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const event = parseEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (event !== undefined) {
              events.push(event);
              if (options.stop?.(event, events) === true) return events;
            }
            end = buffer.indexOf('\n\n');
          }
        }
      } finally {
        controller.abort();
        await reader.cancel().catch(() => undefined);
      }
    },
    close: () => server.close(),
  };
}
