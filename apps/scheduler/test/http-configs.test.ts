/**
 * The config routes over real HTTP on a real database: both fixture corpora (each dialect) import, export
 * and load back to the same config; an import is all or nothing with every issue named; validation writes
 * nothing; a changed document gets a new version and an unchanged one does not.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfigDir, parseConfigSources } from '@kisjobs/flow';
import { httpEnv, type HttpEnv, type TestUser } from './support/http-env.js';

const fixtures = fileURLToPath(new URL('../../../packages/flow/test/fixtures', import.meta.url));

async function filesOf(dir: string): Promise<{ name: string; content: string }[]> {
  const out: { name: string; content: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.ya?ml$/.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ name: relative(dir, path), content: await readFile(path, 'utf8') });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

const func = (name: string, mode = 'Calculate'): string =>
  `kistype: func\nfname: ${name}\nfmode: ${mode}\nsource:\n  name: t\n  must: []\n`;

let env: HttpEnv;
let operator: TestUser;
let viewer: TestUser;

beforeAll(async () => {
  env = await httpEnv('http-configs', { scheduler: true });
  operator = await env.user('operator');
  viewer = await env.user('viewer');
});
afterAll(async () => env?.close());

describe('import and export', () => {
  test.each(['kisflow-test/load_conf', 'seed-dialect'])(
    'the %s corpus imports, exports and loads back to the same config',
    async (corpus) => {
      const dir = join(fixtures, corpus);
      const direct = await loadConfigDir(dir);
      expect(direct.ok).toBe(true);
      const imported = await env.call('POST', '/api/configs/import', {
        token: operator.token,
        body: { files: await filesOf(dir) },
      });
      expect(imported.status).toBe(200);
      const docs = (imported.body as { documents: { kind: string; name: string; changed: boolean }[] })
        .documents;
      expect(docs.length).toBeGreaterThan(0);
      if (!direct.ok) return;
      for (const flowName of Object.keys(direct.config.flows)) {
        const exported = await env.call('GET', `/api/configs/export?flow=${encodeURIComponent(flowName)}`, {
          token: viewer.token,
        });
        expect(exported.status).toBe(200);
        expect(exported.headers.get('content-type')).toContain('application/yaml');
        const back = parseConfigSources([{ file: 'export.yml', text: exported.text }]);
        expect(back.ok).toBe(true);
        if (!back.ok) continue;
        expect(back.config.flows[flowName]).toEqual(direct.config.flows[flowName]);
        for (const step of direct.config.flows[flowName]?.steps ?? [])
          expect(back.config.funcs[step.funcName]).toEqual(direct.config.funcs[step.funcName]);
      }
    },
  );

  test('exporting everything gives YAML that loads to every stored document', async () => {
    const all = await env.call('GET', '/api/configs/export', { token: viewer.token });
    expect(all.status).toBe(200);
    const back = parseConfigSources([{ file: 'all.yml', text: all.text }]);
    expect(back.ok).toBe(true);
    const list = await env.call('GET', '/api/configs?kind=flow', { token: viewer.token });
    const flows = (list.body as { items: { name: string }[] }).items.map((i) => i.name).sort();
    expect(back.ok ? Object.keys(back.config.flows).sort() : back.issues).toEqual(flows);
  });
});

describe('all or nothing, versions, validation', () => {
  test('a bad document among good ones saves nothing and every issue names its file and field', async () => {
    const before = await env.prisma.configDocument.count();
    const bad = await env.call('POST', '/api/configs/import', {
      token: operator.token,
      body: {
        files: [
          { name: 'good.yml', content: func('GoodOne') },
          { name: 'bad.yml', content: 'kistype: func\nfname: BadOne\nfmode: Teleport\nsource:\n  name: t\n' },
          { name: 'flow.yml', content: 'kistype: flow\nflow_name: broken\nflows:\n  - fname: Missing\n' },
          { name: 'yaml.yml', content: 'kistype: [unclosed' },
        ],
      },
    });
    expect(bad.status).toBe(422);
    const error = (bad.body as { error: { code: string; details: { issues: { path: string }[] } } }).error;
    expect(error.code).toBe('CONFIG_INVALID');
    const paths = error.details.issues.map((i) => i.path).join(' ');
    for (const file of ['bad.yml', 'flow.yml', 'yaml.yml']) expect(paths).toContain(file);
    expect(await env.prisma.configDocument.count()).toBe(before);
  });

  test('a changed document gets a new version, an unchanged one keeps its own', async () => {
    const put = (content: string) =>
      env.call('POST', '/api/configs/import', {
        token: operator.token,
        body: { files: [{ name: 'v.yml', content }] },
      });
    expect(((await put(func('Versioned'))).body as { documents: unknown[] }).documents).toEqual([
      { kind: 'func', name: 'Versioned', version: 1, changed: true },
    ]);
    expect(((await put(func('Versioned'))).body as { documents: unknown[] }).documents).toEqual([
      { kind: 'func', name: 'Versioned', version: 1, changed: false },
    ]);
    expect(((await put(func('Versioned', 'Save'))).body as { documents: unknown[] }).documents).toEqual([
      { kind: 'func', name: 'Versioned', version: 2, changed: true },
    ]);
    const versions = await env.call('GET', '/api/configs/func/Versioned/versions', { token: viewer.token });
    const items = (versions.body as { items: { version: number; yaml: string; createdBy: string }[] }).items;
    expect(items.map((v) => v.version)).toEqual([2, 1]);
    expect(items[0]?.yaml).toContain('Save');
    expect(items[0]?.createdBy).toBe(operator.username);
    const one = await env.call('GET', '/api/configs/func/Versioned', { token: viewer.token });
    expect(one.body).toMatchObject({ kind: 'func', name: 'Versioned', version: 2, parsed: { mode: 'Save' } });
  });

  test('validation reports what an import would change and writes nothing', async () => {
    const before = await env.prisma.configVersion.count();
    const checked = await env.call('POST', '/api/configs/validate', {
      token: viewer.token,
      body: { files: [{ name: 'n.yml', content: func('NotYet') }] },
    });
    expect(checked.status).toBe(200);
    expect((checked.body as { documents: unknown[] }).documents).toEqual([
      { kind: 'func', name: 'NotYet', version: 1, changed: true },
    ]);
    expect(await env.prisma.configVersion.count()).toBe(before);
    expect((await env.call('GET', '/api/configs/func/NotYet', { token: viewer.token })).status).toBe(404);
    const invalid = await env.call('POST', '/api/configs/validate', {
      token: viewer.token,
      body: { files: [{ name: 'x.yml', content: 'kistype: nonsense\n' }] },
    });
    expect(invalid.status).toBe(422);
    expect(
      (await env.call('POST', '/api/configs/import', { token: viewer.token, body: { files: [] } })).status,
    ).toBe(403);
    const empty = await env.call('POST', '/api/configs/import', {
      token: operator.token,
      body: { files: [] },
    });
    expect(empty.status).toBe(400);
    expect((await env.call('GET', '/api/configs/widget/x', { token: viewer.token })).status).toBe(400);
  });
});
