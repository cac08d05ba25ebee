/**
 * docker-compose.yml against what docs/operations.md promises. Docker is not needed: the file is parsed and
 * its structure checked, so the test fails when the compose file drifts from the docs or from the
 * scheduler's settings (every variable set for the scheduler must be one it reads, with a value it accepts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { AdminBootstrapEnv, parseSchedulerEnv, SchedulerEnv } from '@kisjobs/scheduler';

type PortSpec = string | number | { host_ip?: string; published?: string | number; target?: number };

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: PortSpec[];
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  network_mode?: string;
  deploy?: { replicas?: number };
}

const composePath = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));
const compose = parse(readFileSync(composePath, 'utf8')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const names = Object.keys(services);

const KISJOBS_SERVICES = ['migrate', 'scheduler', 'executor-1', 'executor-2'];
const EXECUTORS = ['executor-1', 'executor-2'];
const TOKEN_FILE = '/run/kisjobs/executor-token';
const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);
/** Stand-ins for what the user puts in .env. */
const USER_VARS = { POSTGRES_PASSWORD: 'a1b2c3d4e5f6a7b8', KISJOBS_ADMIN_PASSWORD: 'a-long-admin-secret' };

function service(name: string): Service {
  const found = services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** One value per service, keyed by service name: a failing assertion shows which service is wrong. */
function each<T>(list: readonly string[], value: (name: string) => T): Record<string, T> {
  return Object.fromEntries(list.map((name) => [name, value(name)]));
}

function env(name: string): Record<string, string> {
  const raw = service(name).environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(entries) as Record<string, string>;
}

function commandOf(name: string): string {
  const command = service(name).command;
  return Array.isArray(command) ? command.join(' ') : (command ?? '');
}

function healthcheckOf(name: string): string {
  const spec = service(name).healthcheck;
  if (spec === undefined || spec.disable === true) return '';
  return Array.isArray(spec.test) ? spec.test.join(' ') : (spec.test ?? '');
}

function dependsOn(name: string): Record<string, string | undefined> {
  const raw = service(name).depends_on ?? {};
  if (Array.isArray(raw)) return Object.fromEntries(raw.map((dep) => [dep, undefined]));
  return Object.fromEntries(Object.entries(raw).map(([dep, spec]) => [dep, spec.condition]));
}

/** The host address a port is published on (Docker binds every interface when none is given). */
function publishedOn(port: PortSpec): string {
  if (typeof port === 'object') return port.host_ip ?? '0.0.0.0';
  const spec = String(port).replace(/\/(tcp|udp)$/, '');
  return /^(\[[^\]]+\]|[^:]+):[^:]+:[^:]+$/.exec(spec)?.[1] ?? '0.0.0.0';
}

/** Compose interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `$$`. */
function interpolate(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (_match, name?: string, colon?: string, kind?: string, arg?: string) => {
      if (name === undefined) return '$';
      const set = vars[name];
      const missing = set === undefined || (colon === ':' && set === '');
      if (!missing) return set;
      if (kind === '?') throw new Error(`${name} is required: ${arg ?? ''}`);
      return kind === '-' ? (arg ?? '') : '';
    },
  );
}

describe('docker-compose.yml', () => {
  it('has redis, postgres, migrate, scheduler and two executors', () => {
    expect([...names].sort()).toEqual(
      ['executor-1', 'executor-2', 'migrate', 'postgres', 'redis', 'scheduler'].sort(),
    );
    expect(service('redis').image).toMatch(/^redis:7(-|$|\.)/);
    expect(service('redis').command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(service('postgres').image).toMatch(/^postgres:16(-|$|\.)/);
    expect(compose.volumes).toHaveProperty('postgres-data');
    expect(service('postgres').volumes).toContain('postgres-data:/var/lib/postgresql/data');
  });

  it('runs every KisJobs role from the one image', () => {
    expect(new Set(KISJOBS_SERVICES.map((name) => service(name).image)).size).toBe(1);
    expect(each(KISJOBS_SERVICES, (name) => service(name).build !== undefined)).toEqual(
      each(KISJOBS_SERVICES, () => true),
    );
  });

  it('gives every service a healthcheck', () => {
    const checks = each(names, healthcheckOf);
    expect(each(names, (name) => checks[name] !== '' && !/^NONE\b/.test(checks[name] ?? ''))).toEqual(
      each(names, () => true),
    );
    expect(checks.redis).toMatch(/redis-cli ping/);
    expect(checks.postgres).toMatch(/pg_isready/);
  });

  it('restarts long-running services and never the one-shot migrate', () => {
    expect(service('migrate').restart).toBe('no');
    const longRunning = ['redis', 'postgres', 'scheduler', ...EXECUTORS];
    const restarts = each(longRunning, (name) =>
      ['always', 'unless-stopped', 'on-failure'].includes(service(name).restart ?? ''),
    );
    expect(restarts).toEqual(each(longRunning, () => true));
  });

  it('starts in order: redis and postgres healthy, then migrate, then the scheduler, then the executors', () => {
    expect(dependsOn('migrate')).toMatchObject({ redis: 'service_healthy', postgres: 'service_healthy' });
    expect(dependsOn('scheduler')).toMatchObject({
      redis: 'service_healthy',
      postgres: 'service_healthy',
      migrate: 'service_completed_successfully',
    });
    expect(each(EXECUTORS, dependsOn)).toEqual(
      each(EXECUTORS, () =>
        expect.objectContaining({
          migrate: 'service_completed_successfully',
          scheduler: 'service_healthy',
        }),
      ),
    );
    // Executors never touch Postgres.
    expect(each(EXECUTORS, (name) => 'postgres' in dependsOn(name))).toEqual(each(EXECUTORS, () => false));
  });

  it('runs the documented CLI commands', () => {
    const migrate = commandOf('migrate');
    // The group is ensured only after the migrations succeeded.
    expect(migrate).toMatch(
      new RegExp(`\\bkisjobs migrate && kisjobs groups ensure default --token-file ${TOKEN_FILE}$`),
    );
    expect(commandOf('scheduler')).toBe('kisjobs scheduler start');
    expect(each(EXECUTORS, commandOf)).toEqual(each(EXECUTORS, () => 'kisjobs executor start'));
  });

  it('publishes no port beyond the loopback interface', () => {
    const published = names.flatMap((name) =>
      (service(name).ports ?? []).map((port) => ({ service: name, port, on: publishedOn(port) })),
    );
    expect(published.filter((p) => !LOOPBACK.has(p.on))).toEqual([]);
    expect(published.map((p) => p.service)).toEqual(['scheduler']);
    expect(service('scheduler').ports).toEqual(['127.0.0.1:8080:8080']);
    expect(names.filter((name) => service(name).network_mode === 'host')).toEqual([]);
  });

  it('has no default password: each one must come from the user', () => {
    expect(env('scheduler').KISJOBS_ADMIN_PASSWORD).toMatch(/^\$\{KISJOBS_ADMIN_PASSWORD:\?[^}]+\}$/);
    expect(env('postgres').POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
    expect(each(['migrate', 'scheduler'], (name) => env(name).DATABASE_URL)).toEqual(
      each(['migrate', 'scheduler'], () =>
        expect.stringMatching(
          /^postgres:\/\/kisjobs:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/kisjobs$/,
        ),
      ),
    );
    // Any variable that looks like a secret is required from the user, never given a value here.
    const secrets = names.flatMap((name) =>
      Object.entries(env(name))
        .filter(([key]) => /PASSWORD|SECRET|TOKEN$/.test(key))
        .map(([key, value]) => ({ key, value, required: value.startsWith(`\${${key}:?`) })),
    );
    expect(secrets.filter((s) => !s.required)).toEqual([]);
    expect(env('postgres')).not.toHaveProperty('POSTGRES_HOST_AUTH_METHOD');
    // Without the two passwords, compose refuses to start.
    expect(() => interpolate(env('scheduler').KISJOBS_ADMIN_PASSWORD ?? '', {})).toThrow(
      /KISJOBS_ADMIN_PASSWORD/,
    );
    expect(() => interpolate(env('scheduler').DATABASE_URL ?? '', {})).toThrow(/POSTGRES_PASSWORD/);
  });

  it('sets for the scheduler only variables the scheduler reads', () => {
    const known = new Set([...Object.keys(SchedulerEnv.shape), ...Object.keys(AdminBootstrapEnv.shape)]);
    expect(Object.keys(env('scheduler')).filter((key) => !known.has(key))).toEqual([]);
  });

  it('gives the scheduler values it accepts, listening where the port and the healthcheck point', () => {
    const resolved = Object.fromEntries(
      Object.entries(env('scheduler')).map(([key, value]) => [key, interpolate(value, USER_VARS)]),
    );
    const parsed = parseSchedulerEnv(resolved);
    expect(parsed.ok ? [] : parsed.issues).toEqual([]);
    expect(AdminBootstrapEnv.safeParse(resolved).success).toBe(true);
    const settings = SchedulerEnv.parse(resolved);
    expect(settings.KISJOBS_HTTP_HOST).toBe('0.0.0.0');
    expect(settings.REDIS_URL).toBe('redis://redis:6379');
    const port = settings.KISJOBS_HTTP_PORT;
    expect(service('scheduler').ports).toEqual([`127.0.0.1:${port}:${port}`]);
    expect(healthcheckOf('scheduler')).toContain(`http://127.0.0.1:${port}/readyz`);
    expect(healthcheckOf('scheduler')).toMatch(/^CMD node -e .*\bfetch\(/);
  });

  it.each(EXECUTORS)('%s is its own executor of the group default, running the example functions', (name) => {
    const e = env(name);
    expect(service(name).deploy?.replicas ?? 1).toBe(1);
    expect(e).toMatchObject({
      KISJOBS_GROUP: 'default',
      KISJOBS_FUNCTIONS: '/app/examples/orders/functions.ts',
      KISJOBS_REDIS_URL: 'redis://redis:6379',
      KISJOBS_TOKEN_FILE: TOKEN_FILE,
      KISJOBS_METRICS_HOST: '0.0.0.0',
      KISJOBS_METRICS_PORT: expect.stringMatching(/^\d+$/),
    });
    // The token comes from the file only, and an executor never gets database credentials. Instance ids
    // are left to their default (<host>-<pid>-<random>), so the two never collide.
    expect(
      Object.keys(e).filter((key) => ['KISJOBS_TOKEN', 'DATABASE_URL', 'KISJOBS_INSTANCE_ID'].includes(key)),
    ).toEqual([]);
    expect(healthcheckOf(name)).toContain(`http://127.0.0.1:${e.KISJOBS_METRICS_PORT}/healthz`);
    expect(healthcheckOf(name)).toMatch(/^CMD node -e .*\bfetch\(/);
  });

  it('shares the registration token through one volume: written by migrate, read-only for executors', () => {
    expect(compose.volumes).toHaveProperty('executor-token');
    expect(service('migrate').volumes).toContain('executor-token:/run/kisjobs');
    expect(each(EXECUTORS, (name) => service(name).volumes)).toEqual(
      each(EXECUTORS, () => expect.arrayContaining(['executor-token:/run/kisjobs:ro'])),
    );
    expect(TOKEN_FILE.startsWith('/run/kisjobs/')).toBe(true);
    // No other service mounts it: the scheduler needs no token.
    const others = ['redis', 'postgres', 'scheduler'];
    expect(
      each(others, (name) => JSON.stringify(service(name).volumes ?? []).includes('executor-token')),
    ).toEqual(each(others, () => false));
  });
});
