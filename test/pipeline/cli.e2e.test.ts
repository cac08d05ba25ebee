/**
 * The `kisjobs` CLI end to end against the real HTTP API, scheduler, Postgres, Redis and an executor child
 * process: sign-in, every read command (tables and `--json`), jobs create from YAML and JSON (all or nothing,
 * errors naming the field), trigger `--wait` (exit 0 on success, 8 on failure), logs (paged and `--follow`),
 * terminate, configs import / export, and the exit codes scripts rely on. The database commands (migrate,
 * admin create, groups ensure) run against a fresh database.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '@kisjobs/cli';
import { createTestDatabase, type TestDatabase } from '@kisjobs/testing';
import { serveApi, type ServedApi } from '../support/http-api.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline;
let api: ServedApi;
let password: string;
let username: string;
const dir = mkdtempSync(join(tmpdir(), 'kisjobs-cli-'));

interface Result {
  code: number;
  out: string;
  err: string;
}

async function cli(
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    env: {
      PATH: process.env['PATH'],
      KISJOBS_CONFIG_DIR: join(dir, 'config'),
      KISJOBS_URL: api.url,
      ...options.env,
    },
    cwd: dir,
    io: {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      readStdin: () => Promise.resolve(options.stdin ?? ''),
      interactive: false,
    },
  });
  return { code, out, err };
}

async function token(): Promise<string> {
  return (JSON.parse(readFileSync(join(dir, 'config', 'credentials.json'), 'utf8')) as { token: string })
    .token;
}

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

beforeAll(async () => {
  p = await startPipeline('e2e-cli');
  await p.spawnExecutor({ instanceId: 'cli-exec-a', concurrency: 4 });
  api = await serveApi(p);
  const admin = await api.login('admin');
  username = admin.username;
  password = admin.password;
});
afterAll(async () => {
  await api?.close();
  await p?.close();
});

describe('signing in and the exit codes of failures', () => {
  it('refuses read commands before login (3), names unreachable servers (7) and bad flags (2)', async () => {
    const anonymous = await cli(['jobs', 'list']);
    expect(anonymous.code).toBe(EXIT.unauthenticated);
    expect(anonymous.err).toContain('kisjobs login');
    const unreachable = await cli(['--url', 'http://127.0.0.1:1', 'jobs', 'list']);
    expect(unreachable.code).toBe(EXIT.unavailable);
    expect(unreachable.err).toContain('cannot reach the KisJobs server at http://127.0.0.1:1');
    expect((await cli(['jobs', 'list', '--limit', '0'])).code).toBe(EXIT.usage);
    expect((await cli(['nonsense'])).code).toBe(EXIT.usage);
    expect((await cli(['--url', 'ftp://x', 'jobs', 'list'])).code).toBe(EXIT.usage);
    const wrong = await cli(['login', '-u', username, '--password-stdin'], {
      stdin: 'not-the-password-at-all\n',
    });
    expect(wrong.code).toBe(EXIT.unauthenticated);
  });

  it('logs in from stdin and stores the token with mode 0600', async () => {
    const result = await cli(['login', '-u', username, '--password-stdin'], { stdin: `${password}\n` });
    expect(result).toMatchObject({ code: 0 });
    expect(result.out).toContain(`as ${username} (admin)`);
    const stored = join(dir, 'config', 'credentials.json');
    expect(statSync(stored).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(stored, 'utf8'))).toMatchObject({ url: api.url, username });
    const me = await cli(['whoami', '--json']);
    expect(JSON.parse(me.out)).toMatchObject({ user: { username, role: 'admin' } });
  });
});

describe('API tokens', () => {
  it('creates a token whose secret works as KISJOBS_API_TOKEN, lists it, and revokes it', async () => {
    const created = await cli(['tokens', 'create', 'cli scripts']);
    expect(created).toMatchObject({ code: 0 });
    const secret = created.out.trim();
    expect(secret).toMatch(/^kjs_api_/);
    const asToken = await cli(['whoami', '--json'], {
      env: { KISJOBS_CONFIG_DIR: join(dir, 'nowhere'), KISJOBS_API_TOKEN: secret },
    });
    expect(JSON.parse(asToken.out)).toMatchObject({ authenticatedWith: 'token' });
    const list = JSON.parse((await cli(['tokens', 'list', '--json'])).out) as {
      items: { id: string; name: string }[];
    };
    const id = list.items.find((t) => t.name === 'cli scripts')?.id ?? '';
    expect((await cli(['tokens', 'revoke', id])).out).toBe(`revoked ${id}\n`);
    const refused = await cli(['whoami'], {
      env: { KISJOBS_CONFIG_DIR: join(dir, 'nowhere'), KISJOBS_API_TOKEN: secret },
    });
    expect(refused.code).toBe(EXIT.unauthenticated);
  });
});

describe('jobs, triggers, runs and logs', () => {
  const sceneName = 'scene-e2e-cli';

  it('creates a job from YAML with a scene name, and lists and shows it (table and --json)', async () => {
    const yaml = file(
      'job.yaml',
      `name: cli-noop\nscene: ${sceneName}\nflowName: noop\ngroup: etl\nschedule: {type: manual}\nparams: {a: "1"}\n`,
    );
    const created = await cli(['jobs', 'create', '-f', yaml]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.out).toMatch(/created job_\w+ cli-noop \(manual\)/);
    const list = await cli(['jobs', 'list', '--scene', sceneName]);
    expect(list.out).toMatch(/NAME[\s\S]*cli-noop\s+noop\s+manual\s+active/);
    const json = JSON.parse((await cli(['jobs', 'list', '--json', '--name', 'cli-noop'])).out) as {
      items: { name: string }[];
    };
    expect(json.items.map((j) => j.name)).toEqual(['cli-noop']);
    const shown = await cli(['jobs', 'show', 'cli-noop']);
    expect(shown.out).toMatch(/flow:\s+noop/);
    expect(shown.out).toMatch(/params:\s+\{"a":"1"\}/);
    expect((await cli(['jobs', 'show', 'job_00000000000000000000000000'])).code).toBe(EXIT.notFound);
    expect((await cli(['jobs', 'show', 'no-such-job'])).code).toBe(EXIT.notFound);
  });

  it('refuses a bad job naming the field, and saves nothing of a file with one bad document', async () => {
    const bad = file(
      'bad.json',
      JSON.stringify({
        name: 'cli-bad',
        scene: sceneName,
        flowName: 'noop',
        group: 'etl',
        schedule: { type: 'cron', expr: 'nope' },
      }),
    );
    const refused = await cli(['jobs', 'create', '-f', bad]);
    expect(refused.code).toBe(EXIT.rejected);
    expect(refused.err).toContain('schedule.expr');
    const two = file(
      'two.yaml',
      `name: cli-first\nscene: ${sceneName}\nflowName: noop\ngroup: etl\nschedule: {type: manual}\n---\nname: cli-second\nscene: ${sceneName}\nflowName: noop\ngroup: etl\nschedule: {type: fixed_rate, everyMs: 5}\n`,
    );
    const half = await cli(['jobs', 'create', '-f', two]);
    expect(half.code).toBe(EXIT.rejected);
    expect(half.err).toContain('schedule.everyMs');
    expect(half.err).toContain('nothing was saved');
    expect(JSON.parse((await cli(['jobs', 'list', '--json', '--name', 'cli-first'])).out)).toMatchObject({
      items: [],
    });
    const broken = await cli(['jobs', 'create', '-f', file('broken.yaml', 'name: [unclosed\n')]);
    expect(broken.code).toBe(EXIT.usage);
    expect(broken.err).toContain('broken.yaml');
    expect((await cli(['jobs', 'create', '-f', 'missing.yaml'])).code).toBe(EXIT.usage);
  });

  it('triggers with --wait: 0 and the per-function summary on success, 8 on failure', async () => {
    const ok = await cli(['trigger', 'cli-noop', '--wait', '--poll-ms', '100', '-p', 'a=2']);
    expect(ok).toMatchObject({ code: 0 });
    const runId = /(run_\w+) succeeded/.exec(ok.out)?.[1] ?? '';
    expect(ok.out).toContain('Count');
    expect(ok.err).toContain('triggered cli-noop');
    const run = JSON.parse((await cli(['runs', 'show', runId, '--json'])).out) as {
      params: Record<string, string>;
    };
    expect(run.params).toMatchObject({ a: '2' });

    await cli([
      'jobs',
      'create',
      '-f',
      file(
        'throw.yaml',
        `name: cli-throw\nscene: ${sceneName}\nflowName: throw\ngroup: etl\nschedule: {type: manual}\n`,
      ),
    ]);
    const failed = await cli(['trigger', 'cli-throw', '--wait', '--poll-ms', '100']);
    expect(failed.code).toBe(EXIT.runNotSucceeded);
    expect(failed.out).toContain('the data is bad');
    expect(failed.err).toMatch(/run_\w+ ended failed/);
    const plain = await cli(['trigger', 'cli-noop']);
    expect(plain.out).toMatch(/^run_\w+\n$/);
    expect((await cli(['trigger', 'cli-noop', '-p', 'novalue'])).code).toBe(EXIT.usage);
  });

  it('lists runs of a job and shows one; pages logs and follows them until the run ends', async () => {
    const list = await cli(['runs', 'list', '--job', 'cli-noop', '--status', 'succeeded']);
    expect(list.out).toMatch(/run_\w+\s+noop\s+succeeded\s+manual/);
    await cli([
      'jobs',
      'create',
      '-f',
      file(
        'chatty.yaml',
        `name: cli-chatty\nscene: ${sceneName}\nflowName: chatty\ngroup: etl\nschedule: {type: manual}\n`,
      ),
    ]);
    const runId = (await cli(['trigger', 'cli-chatty'])).out.trim();
    const followed = await cli(['logs', runId, '--follow', '--json']);
    expect(followed).toMatchObject({ code: 0 });
    expect(followed.err).toContain('run ended: succeeded');
    const seqs = followed.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { seq: number }).seq);
    const all = (await api.call('GET', `/api/runs/${runId}/logs?limit=1000`, { token: await token() }))
      .body as {
      items: { seq: number }[];
    };
    expect(seqs).toEqual(all.items.map((l) => l.seq));
    expect(seqs.length).toBeGreaterThanOrEqual(25);
    const text = await cli(['logs', runId]);
    expect(text.out.trim().split('\n')).toHaveLength(seqs.length);
    expect(text.out).toMatch(/INFO\s+Log: /);
    const paged = await cli(['logs', runId, '--after', String(seqs.at(-6)), '--json']);
    expect(
      paged.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    ).toEqual(seqs.slice(-5));
  });

  it('terminates a running run; a second terminate is refused (6)', async () => {
    await cli([
      'jobs',
      'create',
      '-f',
      file(
        'spin.yaml',
        `name: cli-spin\nscene: ${sceneName}\nflowName: spin\ngroup: etl\nschedule: {type: manual}\n`,
      ),
    ]);
    const runId = (await cli(['trigger', 'cli-spin'])).out.trim();
    await p.waitStatus(runId, 'running');
    const terminated = await cli(['terminate', runId, '--reason', 'from the cli test']);
    expect(terminated).toMatchObject({ code: 0 });
    await p.waitStatus(runId, 'terminated', 10_000);
    const again = await cli(['terminate', runId]);
    expect(again.code).toBe(EXIT.rejected);
    expect(again.err).toContain('RUN_ALREADY_FINISHED');
  });
});

describe('operator switches', () => {
  it('pauses, resumes, disables, enables and deletes a job; drains an executor until it exits', async () => {
    await cli([
      'jobs',
      'create',
      '-f',
      file(
        'cron.yaml',
        "name: cli-cron\nscene: scene-e2e-cli\nflowName: noop\ngroup: etl\nschedule: {type: cron, expr: '0 0 3 * * *'}\n",
      ),
    ]);
    expect((await cli(['jobs', 'pause', 'cli-cron'])).out).toMatch(/^cli-cron: paused, next fire /);
    expect(JSON.parse((await cli(['jobs', 'show', 'cli-cron', '--json'])).out)).toMatchObject({
      paused: true,
    });
    expect((await cli(['jobs', 'resume', 'cli-cron'])).out).toMatch(/^cli-cron: active/);
    expect((await cli(['jobs', 'disable', 'cli-cron'])).out).toBe('cli-cron: disabled\n');
    expect(JSON.parse((await cli(['jobs', 'enable', 'cli-cron', '--json'])).out)).toMatchObject({
      enabled: true,
      paused: false,
    });
    const deleted = await cli(['jobs', 'delete', 'cli-cron']);
    expect(deleted.out).toMatch(/^deleted job_\w+ cli-cron\n$/);
    expect((await cli(['jobs', 'show', 'cli-cron'])).code).toBe(EXIT.notFound);

    expect((await cli(['scenes', 'pause', 'scene-e2e-cli'])).out).toBe('scene-e2e-cli: paused\n');
    expect(JSON.parse((await cli(['scenes', 'resume', 'scene-e2e-cli', '--json'])).out)).toMatchObject({
      paused: false,
    });

    const victim = await p.spawnExecutor({ instanceId: 'cli-exec-drain', concurrency: 1 });
    const drained = await cli(['executors', 'drain', 'cli-exec-drain', '--json']);
    expect(drained).toMatchObject({ code: 0 });
    expect(['draining', 'removed']).toContain((JSON.parse(drained.out) as { status: string }).status);
    expect(await victim.exit()).toMatchObject({ code: 0 });
    expect((await cli(['executors', 'drain', 'no-such-executor'])).code).toBe(EXIT.notFound);
  });
});

describe('scenes, executors and configs', () => {
  it('lists and shows scenes and executors', async () => {
    expect((await cli(['scenes', 'list'])).out).toContain('scene-e2e-cli');
    expect((await cli(['scenes', 'show', 'scene-e2e-cli', '--json'])).out).toContain(
      '"name": "scene-e2e-cli"',
    );
    const executors = JSON.parse((await cli(['executors', 'list', '--json', '--online'])).out) as {
      items: { instanceId: string; online: boolean }[];
    };
    expect(executors.items).toContainEqual(
      expect.objectContaining({ instanceId: 'cli-exec-a', online: true }),
    );
    expect((await cli(['executors', 'show', 'cli-exec-a'])).out).toMatch(/group:\s+etl/);
  });

  it('imports configs (dry run first), names invalid documents, and exports YAML that imports back', async () => {
    const yaml = file(
      'extra.yml',
      'kistype: func\nfname: CliExtra\nfmode: Calculate\nsource:\n  name: t\n  must: []\n---\nkistype: flow\nflow_name: cli-extra\nflows:\n  - fname: CliExtra\n',
    );
    const dry = await cli(['configs', 'import', '--dry-run', yaml]);
    expect(dry.out).toMatch(/flow\s+cli-extra\s+1\s+would change/);
    expect(JSON.parse((await cli(['configs', 'list', '--json', '--name', 'cli-extra'])).out)).toMatchObject({
      items: [],
    });
    expect((await cli(['configs', 'import', yaml])).code).toBe(0);
    expect((await cli(['configs', 'show', 'flow', 'cli-extra'])).out).toContain('flow_name: cli-extra');
    const invalid = await cli([
      'configs',
      'import',
      file('invalid.yml', 'kistype: flow\nflow_name: broken\nflows:\n  - fname: NoSuchFunction\n'),
    ]);
    expect(invalid.code).toBe(EXIT.rejected);
    expect(invalid.err).toContain('NoSuchFunction');
    const exported = await cli(['configs', 'export', '--flow', 'cli-extra', '-o', 'exported.yml']);
    expect(exported).toMatchObject({ code: 0 });
    const back = await cli(['configs', 'import', '--json', 'exported.yml']);
    expect(JSON.parse(back.out)).toMatchObject({
      documents: expect.arrayContaining([expect.objectContaining({ name: 'cli-extra', changed: false })]),
    });
    expect((await cli(['configs', 'show', 'nope', 'x'])).code).toBe(EXIT.usage);
    const job = file(
      'extra-job.yaml',
      'name: cli-extra-job\nscene: scene-e2e-cli\nflowName: cli-extra\ngroup: etl\nschedule: {type: manual}\n',
    );
    const unimplemented = await cli(['jobs', 'create', '-f', job]);
    expect(unimplemented.code).toBe(EXIT.rejected);
    expect(unimplemented.err).toContain('FLOW_NOT_IMPLEMENTED');
    expect(unimplemented.err).toContain('--allow-unimplemented');
    const allowed = await cli(['jobs', 'create', '-f', job, '--allow-unimplemented']);
    expect(allowed).toMatchObject({ code: 0 });
    expect(allowed.err).toContain('warning:');
  });
});

describe('database commands', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ label: 'cli-db' });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('migrates (again: up to date), creates an admin once, and keeps a group token file valid', async () => {
    const env = { DATABASE_URL: database.url };
    const first = await cli(['migrate'], { env });
    expect(first).toMatchObject({ code: 0 });
    expect(first.out).toContain('applied');
    expect((await cli(['migrate'], { env })).out).toContain('up to date');
    const admin = await cli(['admin', 'create', '-u', 'root-admin'], { env });
    expect(admin).toMatchObject({ code: 0 });
    expect(admin.out).toMatch(/password: \S{16,}/);
    expect((await cli(['admin', 'create', '-u', 'root-admin'], { env })).code).toBe(EXIT.rejected);
    const short = await cli(['admin', 'create', '-u', 'other', '--password-stdin'], {
      env,
      stdin: 'short\n',
    });
    expect(short.code).toBe(EXIT.usage);
    expect(short.err).toContain('password');
    const ensured = await cli(['groups', 'ensure', 'workers', '--token-file', 'tokens/workers'], { env });
    expect(ensured.out).toContain('created group workers; new token written');
    const token = readFileSync(join(dir, 'tokens/workers'), 'utf8');
    expect(statSync(join(dir, 'tokens/workers')).mode & 0o777).toBe(0o600);
    const kept = await cli(['groups', 'ensure', 'workers', '--token-file', 'tokens/workers'], { env });
    expect(kept.out).toContain('is valid');
    expect(readFileSync(join(dir, 'tokens/workers'), 'utf8')).toBe(token);
    expect((await cli(['migrate'])).code).toBe(EXIT.usage);
    const down = await cli(['migrate'], { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } });
    expect(down.code).toBe(EXIT.database);
  });
});
