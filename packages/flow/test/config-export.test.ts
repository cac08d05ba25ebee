import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  exportConfig,
  exportConfigDocuments,
  loadConfigDir,
  parseConfigSources,
  readConfigDir,
} from '../src/config/index.js';
import type { KisConfig } from '../src/config/index.js';
import { KISFLOW_TEST_DIR, SEED_DIALECT_DIR, configDir, loaded } from './config-support.js';

/** export -> parse, as one multi-document text. */
function reparse(config: KisConfig) {
  return loaded(parseConfigSources([{ file: 'export.yml', text: exportConfig(config) }]));
}

/** exportConfigDocuments -> files in a fresh folder -> loadConfigDir. */
async function reloadFromFiles(config: KisConfig) {
  const dir = await configDir({});
  for (const doc of exportConfigDocuments(config)) await writeFile(join(dir, doc.file), doc.text);
  return loaded(await loadConfigDir(dir));
}

/** Every optional field set, in a mix of both dialects, with references by id. */
const EVERYTHING = `
kistype: global
prometheus_enable: true
prometheus_listen: false
prometheus_serve: 127.0.0.1:9100
---
kistype: conn
cid: conn-7
cname: Orders
type: mysql
addrs: db1:3306,db2:3306
key: orders_table
params: { charset: utf8mb4, pool: 10, ratio: 0.50 }
load: [readOrders]
save: [writeOrders, archive]
---
kistype: func
fid: f-write
fname: writeOrders
fmode: Save
source: { name: OrderStream, must: [order_id, user_id] }
option:
  cid: conn-7
  retry_times: 4
  retry_duration: 250
  timeout_ms: 3000
  default_params: { batch: 100, dry_run: false, empty: ~, "odd key": "a: b" }
---
kistype: func
fname: readOrders
fmode: Load
option: { cname: Orders }
---
kistype: func
fname: check
fmode: Verify
---
kistype: flow
flow_id: flow-9
flow_name: nightly
status: 0
max_steps: 64
flows:
  - fid: f-write
    params: { batch: 500 }
  - fname: readOrders
  - fname: check
    params: { strict: "yes", level: 2 }
`;

const EVERYTHING_CONFIG: KisConfig = {
  global: {
    kind: 'global',
    prometheusEnable: true,
    prometheusListen: false,
    prometheusServe: '127.0.0.1:9100',
  },
  conns: {
    Orders: {
      kind: 'conn',
      name: 'Orders',
      id: 'conn-7',
      type: 'mysql',
      addrs: 'db1:3306,db2:3306',
      key: 'orders_table',
      params: { charset: 'utf8mb4', pool: '10', ratio: '0.50' },
      load: ['readOrders'],
      save: ['writeOrders', 'archive'],
    },
  },
  funcs: {
    check: {
      kind: 'func',
      name: 'check',
      mode: 'Verify',
      source: { name: '', must: [] },
      retryTimes: 0,
      retryDelayMs: 0,
      defaultParams: {},
    },
    readOrders: {
      kind: 'func',
      name: 'readOrders',
      mode: 'Load',
      source: { name: '', must: [] },
      connectorName: 'Orders',
      retryTimes: 0,
      retryDelayMs: 0,
      defaultParams: {},
    },
    writeOrders: {
      kind: 'func',
      name: 'writeOrders',
      id: 'f-write',
      mode: 'Save',
      source: { name: 'OrderStream', must: ['order_id', 'user_id'] },
      connectorName: 'Orders',
      retryTimes: 4,
      retryDelayMs: 250,
      timeoutMs: 3000,
      defaultParams: { batch: '100', dry_run: 'false', empty: '', 'odd key': 'a: b' },
    },
  },
  flows: {
    nightly: {
      kind: 'flow',
      name: 'nightly',
      id: 'flow-9',
      enabled: false,
      maxSteps: 64,
      steps: [
        { funcName: 'writeOrders', params: { batch: '500' } },
        { funcName: 'readOrders', params: {} },
        { funcName: 'check', params: { strict: 'yes', level: '2' } },
      ],
    },
  },
};

describe('round trip: load -> export -> load gives an equal config', () => {
  it.each([
    ['kisflow-test', KISFLOW_TEST_DIR],
    ['seed-dialect', SEED_DIALECT_DIR],
  ])('the %s corpus, as one text and as files', async (_name, dir) => {
    const first = loaded(await loadConfigDir(dir));
    const again = reparse(first.config);
    expect(again.config).toStrictEqual(first.config);
    expect(again.disabledFlows).toEqual(first.disabledFlows);
    expect(exportConfig(again.config)).toBe(exportConfig(first.config));
    expect((await reloadFromFiles(first.config)).config).toStrictEqual(first.config);
  });

  it('a config with every optional field set', async () => {
    const first = loaded(parseConfigSources([{ file: 'everything.yml', text: EVERYTHING }]));
    expect(first.config).toStrictEqual(EVERYTHING_CONFIG);
    expect(first.disabledFlows).toEqual(['nightly']);
    const again = reparse(first.config);
    expect(again.config).toStrictEqual(EVERYTHING_CONFIG);
    expect(again.disabledFlows).toEqual(['nightly']);
    expect((await reloadFromFiles(first.config)).config).toStrictEqual(EVERYTHING_CONFIG);
  });

  it('params and names that plain YAML would read as something else stay the same strings', () => {
    const tricky = [
      ...['5', '5.10', '-0', '0x1F', '0o17', '1e3', '.inf', '.NaN', 'true', 'False', 'yes', 'null', '~', ''],
      ...[' ', ' lead', 'trail ', '-', '- x', 'a: b', 'x #y', '#x', '"q"', "it's", '{a}', '[a]', '*a', '&a'],
      ...['!t', '%p', '@x', '`x', '|', '>', '?', '---', '...', '测试', 'tab\tin', '\\', 'emoji 😀'],
      ...['multi\nline', 'trailing newline\n', '  indented\nblock', 'x'.repeat(300) + ' end'],
    ];
    const q = (s: string) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar
    const text = [
      'kistype: func',
      `fname: ${q('a: b #1')}`,
      'fmode: Calculate',
      'option:',
      '  default_params:',
      ...tricky.map((value, i) => `    ${q(`k${i}`)}: ${q(value)}`),
      '---',
      'kistype: flow',
      `flow_name: ${q('5.10')}`,
      'flows:',
      `  - fname: ${q('a: b #1')}`,
      '    params:',
      ...tricky.map((key, i) => `      ${q(key)}: ${q(`v${i}`)}`),
    ].join('\n');
    const first = loaded(parseConfigSources([{ file: 't.yml', text }]));
    const expectedDefaults = Object.fromEntries(tricky.map((value, i) => [`k${i}`, value]));
    expect(first.config.funcs['a: b #1']?.defaultParams).toEqual(expectedDefaults);
    expect(first.config.flows['5.10']?.steps[0]?.params).toEqual(
      Object.fromEntries(tricky.map((key, i) => [key, `v${i}`])),
    );
    const again = reparse(first.config);
    expect(again.config).toStrictEqual(first.config);
    for (const value of Object.values(again.config.funcs['a: b #1']?.defaultParams ?? {})) {
      expect(typeof value).toBe('string');
    }
  });
});

describe('export', () => {
  it('writes the current dialect', async () => {
    const { config } = loaded(await loadConfigDir(SEED_DIALECT_DIR));
    const text = exportConfig(config);
    expect(text).toContain('fname: 测试KisFunction_S1');
    expect(text).toContain('cname: 测试KisConnector_1');
    expect(text).toContain('return_duration: 500');
    expect(text).toContain('flow_name: MyFlow1');
    for (const older of ['fid:', 'cid:', 'flow_id:', 'retry_duration:']) expect(text).not.toContain(older);
  });

  it('writes ids back under the older keys only when they differ from the name', () => {
    const text = exportConfig(EVERYTHING_CONFIG);
    expect(text).toContain('fname: writeOrders\nfid: f-write\n');
    expect(text).toContain('cname: Orders\ncid: conn-7\n');
    expect(text).toContain('flow_name: nightly\nflow_id: flow-9\n');
  });

  it('orders documents global, conns, funcs, flows, each by name, one file each', async () => {
    const { config } = loaded(await loadConfigDir(KISFLOW_TEST_DIR));
    expect(exportConfigDocuments(config).map((d) => d.file)).toEqual([
      'global.yml',
      'conn-ConnName1.yml',
      'func-AvgStuScore.yml',
      'func-PrintStuAvgScore.yml',
      'func-abortFunc.yml',
      'func-dataReuseFunc.yml',
      'func-funcName1.yml',
      'func-funcName2.yml',
      'func-funcName3.yml',
      'func-jumpFunc.yml',
      'func-noResultFunc.yml',
      'flow-StuAvg.yml',
      'flow-flowFork1.yml',
      'flow-flowName1.yml',
      'flow-flowName2.yml',
      'flow-flowName3.yml',
      'flow-flowName4.yml',
      'flow-flowName5.yml',
    ]);
    expect(exportConfig(config)).toBe(
      exportConfigDocuments(config)
        .map((d) => d.text)
        .join('---\n'),
    );
  });

  it('does not depend on the order the sources were read in', async () => {
    const sources = await readConfigDir(KISFLOW_TEST_DIR);
    const forward = loaded(parseConfigSources(sources));
    const backward = loaded(parseConfigSources([...sources].reverse()));
    expect(exportConfig(backward.config)).toBe(exportConfig(forward.config));
  });

  it('writes a small config exactly, leaving defaults out and quoting params', () => {
    const { config } = loaded(
      parseConfigSources([
        {
          file: 'small.yml',
          text: [
            'kistype: func\nfid: old-id\nfname: f\nfmode: Load\noption:\n  cname: c\n  default_params:\n    n: 5',
            'kistype: conn\ncname: c\ntype: redis',
            'kistype: flow\nflow_name: fl\nflows:\n  - fname: f\n    params: {x: true}',
          ].join('\n---\n'),
        },
      ]),
    );
    expect(exportConfig(config)).toBe(
      [
        'kistype: conn',
        'cname: c',
        'type: redis',
        'addrs: ""',
        'key: ""',
        'load:',
        '  - f',
        '---',
        'kistype: func',
        'fname: f',
        'fid: old-id',
        'fmode: Load',
        'source:',
        '  name: ""',
        '  must: []',
        'option:',
        '  cname: c',
        '  default_params:',
        '    n: "5"',
        '---',
        'kistype: flow',
        'flow_name: fl',
        'status: 1',
        'flows:',
        '  - fname: f',
        '    params:',
        '      x: "true"',
        '',
      ].join('\n'),
    );
  });

  it('makes file names safe for any file system, and unique', async () => {
    const names = ['a/b', 'a_b', 'A', 'a', '..', 'x:y*z?', '测'.repeat(100)];
    const text = names
      .map((n) => `kistype: func\nfname: ${JSON.stringify(n)}\nfmode: Calculate\n`)
      .join('---\n');
    const { config } = loaded(parseConfigSources([{ file: 'names.yml', text }]));
    const files = exportConfigDocuments(config).map((d) => d.file);
    expect(files).toEqual([
      'func-__.yml',
      'func-A.yml',
      'func-a-2.yml',
      'func-a_b.yml',
      'func-a_b-2.yml',
      'func-x_y_z_.yml',
      `func-${'测'.repeat(66)}.yml`,
    ]);
    expect((await reloadFromFiles(config)).config).toStrictEqual(config);
  });
});
