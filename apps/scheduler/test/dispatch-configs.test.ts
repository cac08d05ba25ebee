import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putConfigDocuments } from '../src/configs/store.js';
import { createFlowConfigResolver } from '../src/configs/resolve.js';
import { dispatchEnv, type DispatchEnv } from './support/dispatch-env.js';

let env: DispatchEnv;
beforeAll(async () => {
  env = await dispatchEnv('disp-configs');
});
afterAll(async () => env?.close());

describe('config documents', () => {
  it('a flow resolves to itself, its functions and their connectors, nothing else', async () => {
    await putConfigDocuments(env.prisma, [
      {
        file: 'conn.yml',
        text: 'kistype: conn\ncname: mem\ntype: memory\naddrs: ""\nkey: ""\n---\nkistype: func\nfname: Probe\nfmode: Load\nsource:\n  name: t\n  must: []\noption:\n  cname: mem\n---\nkistype: flow\nflow_name: probe\nflows:\n  - fname: Probe\n  - fname: Log\n',
      },
    ]);
    const resolver = createFlowConfigResolver({ prisma: env.prisma, clock: { now: () => new Date() } });
    const flow = await resolver.resolve('probe');
    expect(flow.functions).toEqual(['Log', 'Probe']);
    expect(flow.connectorTypes).toEqual(['memory']);
    expect(Object.keys(flow.config.flows)).toEqual(['probe']);
    expect(Object.keys(flow.config.funcs).sort()).toEqual(['Log', 'Probe']);
    expect(Object.keys(flow.config.conns)).toEqual(['mem']);
  });

  it('an upload may name stored functions, replaces a document with a new version, and keeps an equal one', async () => {
    const saved = await putConfigDocuments(env.prisma, [
      {
        file: 'f.yml',
        text: 'kistype: flow\nflow_name: nap\nflows:\n  - fname: Sleep\n    params:\n      ms: "5"\n',
      },
    ]);
    expect(saved).toEqual([
      expect.objectContaining({ kind: 'flow', name: 'nap', version: 2, changed: true }),
    ]);
    const again = await putConfigDocuments(env.prisma, [
      {
        file: 'f.yml',
        text: 'kistype: flow\nflow_name: nap\nflows:\n  - fname: Sleep\n    params:\n      ms: "5"\n',
      },
    ]);
    expect(again).toEqual([expect.objectContaining({ version: 2, changed: false })]);
    const doc = await env.prisma.configDocument.findUniqueOrThrow({
      where: { kind_name: { kind: 'flow', name: 'nap' } },
      include: { versions: true },
    });
    expect(doc.versions.map((v) => v.version).sort((a, b) => a - b)).toEqual([1, 2]);
  });

  it('an invalid upload writes nothing and names the file, document and field', async () => {
    const before = await env.prisma.configDocument.count();
    await expect(
      putConfigDocuments(env.prisma, [
        { file: 'bad.yml', text: 'kistype: flow\nflow_name: broken\nflows:\n  - fname: NoSuchFunc\n' },
        {
          file: 'good.yml',
          text: 'kistype: func\nfname: Fresh\nfmode: Calculate\nsource:\n  name: t\n  must: []\n',
        },
      ]),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: {
        issues: [expect.objectContaining({ path: expect.stringMatching(/^bad\.yml#0\.flows\[0\]/) })],
      },
    });
    expect(await env.prisma.configDocument.count()).toBe(before);
  });
});
