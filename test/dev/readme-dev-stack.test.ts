/**
 * The README's first command, end to end (issue #6): in a temporary copy of the repository, with no
 * DATABASE_URL and no REDIS_URL, it installs and starts the dev stack; the example job produces runs; the
 * printed credentials sign in; the CLI triggers the manual job and waits for it; Ctrl-C (SIGINT to the process
 * group, as a terminal sends it) stops everything with exit 0 and leaves no process behind; a restart finds the
 * same admin, jobs and runs. The command is read from README.md, so the test follows the README.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..');

/** The first command of the README's first bash block, without its comment. */
function readmeFirstCommand(): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const first = block.split('\n').find((line) => line.trim() !== '') ?? '';
  return first.replace(/\s+#.*$/, '').trim();
}

/** The repository as a fresh clone would have it, plus uncommitted files (the change under test). */
function copyRepo(target: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
  })
    .toString('utf8')
    .split('\0')
    .filter((f) => f !== '');
  for (const file of files) {
    const from = join(repo, file);
    try {
      mkdirSync(dirname(join(target, file)), { recursive: true });
      cpSync(from, join(target, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // deleted but not yet committed
    }
  }
}

interface DevProcess {
  readonly child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, ms: number): Promise<RegExpExecArray>;
  /** The shell's exit: npm re-raises the SIGINT its script got, so after Ctrl-C that is `signal: SIGINT`. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startShell(command: string, cwd: string, env: NodeJS.ProcessEnv): DevProcess {
  const child = spawn('bash', ['-c', command], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  return {
    child,
    output: () => text,
    exited,
    async waitFor(pattern, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const match = pattern.exec(text);
        if (match !== null) return match;
        if (child.exitCode !== null)
          throw new Error(`exited ${child.exitCode} before ${pattern}:\n${text.slice(-4000)}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms:\n${text.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/** Processes whose command line mentions the folder (the stack's executor and redis-server). */
function processesUnder(folder: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(folder) && !line.includes('ps -eo'));
}

async function api<T>(url: string, path: string, token?: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  expect(response.status, `${path}: ${await response.clone().text()}`).toBeLessThan(300);
  return (await response.json()) as T;
}

/**
 * Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group. True when the dev stack said it
 * stopped cleanly and the shell ended by that SIGINT (npm re-raises it) or with 0, in time.
 */
async function stop(dev: DevProcess): Promise<boolean> {
  process.kill(-(dev.child.pid ?? 0), 'SIGINT');
  const timer = setTimeout(() => process.kill(-(dev.child.pid ?? 0), 'SIGKILL'), 60_000);
  const exit = await dev.exited;
  clearTimeout(timer);
  const clean = exit.code === 0 || exit.signal === 'SIGINT';
  return clean && /stopped cleanly\n/.test(dev.output()) && !/exiting now/.test(dev.output());
}

describe('the README first command (dev stack)', () => {
  const workdir = mkdtempSync(join(tmpdir(), 'kisjobs-readme-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KISJOBS_HTTP_PORT: '0',
    KISJOBS_CONFIG_DIR: join(workdir, 'cli-config'),
  };
  delete env['DATABASE_URL'];
  delete env['REDIS_URL'];
  delete env['KISJOBS_URL'];
  delete env['KISJOBS_API_TOKEN'];
  let dev: DevProcess | undefined;

  afterAll(async () => {
    if (dev !== undefined && dev.child.exitCode === null) {
      try {
        process.kill(-(dev.child.pid ?? 0), 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const line of processesUnder(workdir)) {
      const pid = Number(line.trim().split(/\s+/)[0]);
      if (Number.isInteger(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(workdir, { recursive: true, force: true });
  });

  it(
    'installs, starts, runs the example jobs, serves the CLI, stops cleanly and keeps its data',
    { timeout: 600_000 },
    async () => {
      const command = readmeFirstCommand();
      expect(command).toBe('npm ci && npm run dev');
      copyRepo(workdir);

      // 1. The command exactly as written.
      dev = startShell(command, workdir, env);
      const url = (await dev.waitFor(/API:\s+(http:\/\/127\.0\.0\.1:\d+)\/api/, 420_000))[1] ?? '';
      const username = (await dev.waitFor(/Username:\s+(\S+)/, 5_000))[1] ?? '';
      const password = (await dev.waitFor(/Password:\s+(\S+)/, 5_000))[1] ?? '';
      expect(dev.output()).toMatch(/Console:\s+http:\/\/127\.0\.0\.1:\d+\/docs/);
      expect(dev.output()).toContain('generated now');
      expect(password.length).toBeGreaterThanOrEqual(16);

      // 2. The periodic example job produces runs (every 10 s).
      await dev.waitFor(/minute-order-totals\s+succeeded/, 60_000);

      // 3. Signing in with the printed credentials works.
      const session = await api<{ token: string }>(url, '/api/auth/login', undefined, {
        method: 'POST',
        body: JSON.stringify({ username, password }),
      });
      const runsBefore = await api<{ items: { id: string; status: string }[] }>(
        url,
        '/api/runs?limit=100',
        session.token,
      );
      expect(runsBefore.items.some((r) => r.status === 'succeeded')).toBe(true);

      // 4. The CLI signs in with them too, and triggers the manual job, waiting for it.
      const kisjobs = join(workdir, 'node_modules', '.bin', 'kisjobs');
      execFileSync(kisjobs, ['--url', url, 'login', '-u', username, '--password-stdin'], {
        cwd: workdir,
        env,
        input: `${password}\n`,
      });
      const triggered = execFileSync(
        kisjobs,
        ['trigger', 'report-user-totals', '--wait', '--timeout', '60'],
        {
          cwd: workdir,
          env,
          encoding: 'utf8',
        },
      );
      const manualRunId = /(run_[0-9a-z]+) succeeded/.exec(triggered)?.[1];
      expect({ manualRunId, triggered }).toMatchObject({ manualRunId: expect.stringMatching(/^run_/) });
      expect(triggered).toContain('LoadRequestedTotals');

      // 5. Ctrl-C: exit 0, "stopped cleanly", nothing left running.
      expect({ stopped: await stop(dev), tail: dev.output().slice(-3000) }).toMatchObject({ stopped: true });
      await new Promise((r) => setTimeout(r, 500));
      expect(processesUnder(workdir)).toEqual([]);

      // 6. Restart: the same admin (password not regenerated), jobs and runs are there.
      dev = startShell('npm run dev', workdir, env);
      const url2 = (await dev.waitFor(/API:\s+(http:\/\/127\.0\.0\.1:\d+)\/api/, 120_000))[1] ?? '';
      expect((await dev.waitFor(/Password:\s+(\S+)/, 5_000))[1]).toBe(password);
      expect(dev.output()).not.toContain('generated now');
      expect(dev.output()).not.toContain('created the example scene');
      const again = await api<{ token: string }>(url2, '/api/auth/login', undefined, {
        method: 'POST',
        body: JSON.stringify({ username, password }),
      });
      const run = await api<{ id: string; status: string }>(url2, `/api/runs/${manualRunId}`, again.token);
      expect(run.status).toBe('succeeded');
      const runsAfter = await api<{ items: { id: string }[] }>(url2, '/api/runs?limit=500', again.token);
      const after = new Set(runsAfter.items.map((r) => r.id));
      expect(runsBefore.items.every((r) => after.has(r.id))).toBe(true);
      const jobs = await api<{ items: { name: string }[] }>(url2, '/api/jobs', again.token);
      expect(jobs.items.map((j) => j.name).sort()).toEqual([
        'charge-cards',
        'minute-order-totals',
        'report-user-totals',
      ]);
      expect({ stopped: await stop(dev), tail: dev.output().slice(-3000) }).toMatchObject({ stopped: true });
      await new Promise((r) => setTimeout(r, 500));
      expect(processesUnder(workdir)).toEqual([]);
    },
  );
});
