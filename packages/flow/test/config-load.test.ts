import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigDir, parseConfigSources, readConfigDir } from '../src/config/index.js';
import { KISFLOW_TEST_DIR, SEED_DIALECT_DIR, configDir, loaded } from './config-support.js';

describe('the kisflow-test corpus (current dialect)', () => {
  it('loads exactly seven flows, all enabled', async () => {
    const { config, disabledFlows } = loaded(await loadConfigDir(KISFLOW_TEST_DIR));
    expect(Object.keys(config.flows).sort()).toEqual(
      ['StuAvg', 'flowFork1', 'flowName1', 'flowName2', 'flowName3', 'flowName4', 'flowName5'].sort(),
    );
    expect(Object.values(config.flows).every((f) => f.enabled)).toBe(true);
    expect(disabledFlows).toEqual([]);
    expect(Object.keys(config.funcs).sort()).toEqual(
      [
        'AvgStuScore',
        'PrintStuAvgScore',
        'abortFunc',
        'dataReuseFunc',
        'funcName1',
        'funcName2',
        'funcName3',
        'jumpFunc',
        'noResultFunc',
      ].sort(),
    );
  });

  it('links ConnName1 and funcName2 both ways', async () => {
    const { config } = loaded(await loadConfigDir(KISFLOW_TEST_DIR));
    expect(config.funcs['funcName2']).toMatchObject({ mode: 'Save', connectorName: 'ConnName1' });
    expect(config.conns['ConnName1']).toEqual({
      kind: 'conn',
      name: 'ConnName1',
      type: 'redis',
      addrs: '0.0.0.0:9988,0.0.0.0:9999,0.0.0.0:9990',
      key: 'redis-key',
      params: { args1: 'value1', args2: 'value2' },
      load: [],
      save: ['funcName2'],
    });
    expect(Object.keys(config.conns)).toEqual(['ConnName1']);
  });

  it('parses the global document', async () => {
    const { config } = loaded(await loadConfigDir(KISFLOW_TEST_DIR));
    expect(config.global).toEqual({
      kind: 'global',
      prometheusEnable: true,
      prometheusListen: true,
      prometheusServe: '0.0.0.0:20004',
    });
  });

  it('resolves functions with their defaults and flows with their per-step params', async () => {
    const { config } = loaded(await loadConfigDir(KISFLOW_TEST_DIR));
    expect(config.funcs['funcName1']).toEqual({
      kind: 'func',
      name: 'funcName1',
      mode: 'Verify',
      source: { name: 'TiktokOrder', must: ['order_id', 'user_id'] },
      retryTimes: 0,
      retryDelayMs: 0,
      defaultParams: { default1: 'funcName1_param1', default2: 'funcName1_param2' },
    });
    expect(config.flows['flowName1']).toEqual({
      kind: 'flow',
      name: 'flowName1',
      enabled: true,
      steps: [
        { funcName: 'funcName1', params: { myKey1: 'flowValue1-1', myKey2: 'flowValue1-2' } },
        { funcName: 'funcName2', params: { myKey1: 'flowValue2-1', myKey2: 'flowValue2-2' } },
        { funcName: 'funcName3', params: { myKey1: 'flowValue3-1', myKey2: 'flowValue3-2' } },
      ],
    });
    expect(config.flows['flowName2']?.steps).toEqual([
      { funcName: 'funcName1', params: {} },
      { funcName: 'abortFunc', params: {} },
      { funcName: 'funcName3', params: {} },
    ]);
    // StuAvg and its functions are indented with four spaces.
    expect(config.flows['StuAvg']?.steps.map((s) => s.funcName)).toEqual(['AvgStuScore', 'PrintStuAvgScore']);
    expect(config.funcs['AvgStuScore']?.source).toEqual({ name: 'StudentAverageScore', must: ['stu_id'] });
    expect(config.funcs['PrintStuAvgScore']?.mode).toBe('Expand');
  });
});

describe('the seed corpus (older dialect)', () => {
  it('loads fid/flow_id/cid names, non-ASCII included, with retry_duration as retryDelayMs', async () => {
    const { config, disabledFlows } = loaded(await loadConfigDir(SEED_DIALECT_DIR));
    expect(Object.keys(config.funcs).sort()).toEqual(['测试KisFunction_S1', '测试PrintInput'].sort());
    expect(config.funcs['测试KisFunction_S1']).toEqual({
      kind: 'func',
      name: '测试KisFunction_S1',
      mode: 'Save',
      source: { name: '被校验的测试数据源1-用户订单维度', must: ['userid', 'orderid'] },
      connectorName: '测试KisConnector_1',
      retryTimes: 3,
      retryDelayMs: 500,
      defaultParams: { default1: 'default1_param', default2: 'default2_param' },
    });
    // fid equal to fname, cid equal to cname, flow_id equal to flow_name: no separate id is kept.
    expect(config.conns['测试KisConnector_1']).toMatchObject({
      name: '测试KisConnector_1',
      save: ['测试KisFunction_S1'],
    });
    expect(config.conns['测试KisConnector_1']).not.toHaveProperty('id');
    expect(config.flows['MyFlow1']).not.toHaveProperty('id');
    expect(config.global).toMatchObject({ prometheusEnable: true, prometheusServe: '0.0.0.0:20004' });
    expect(disabledFlows).toEqual([]);
  });

  it("keeps MyFlow1's six steps and their params as written", async () => {
    const { config } = loaded(await loadConfigDir(SEED_DIALECT_DIR));
    expect(config.flows['MyFlow1']).toEqual({
      kind: 'flow',
      name: 'MyFlow1',
      enabled: true,
      steps: [
        { funcName: '测试PrintInput', params: { args1: 'value1', args2: 'value2' } },
        { funcName: '测试KisFunction_S1', params: {} },
        {
          funcName: '测试PrintInput',
          params: { args1: 'value11', args2: 'value22', default2: 'newDefault' },
        },
        { funcName: '测试PrintInput', params: {} },
        { funcName: '测试KisFunction_S1', params: { my_user_param1: 'ffffffxxxxxx' } },
        { funcName: '测试PrintInput', params: {} },
      ],
    });
  });
});

describe('loadConfigDir', () => {
  it('reads *.yml and *.yaml recursively, whatever their names, and nothing else', async () => {
    const func = (name: string) => `kistype: func\nfname: ${name}\nfmode: Calculate\n`;
    const dir = await configDir({
      'a.yml': func('a'),
      'deep/er/b.yaml': func('b'),
      'c.json': func('c'),
      'd.yml.bak': func('d'),
      'e.txt': func('e'),
      '.hidden/f.yml': func('f'),
      'notes/README.md': '# not config',
    });
    const { config } = loaded(await loadConfigDir(dir));
    expect(Object.keys(config.funcs).sort()).toEqual(['a', 'b']);
    expect((await readConfigDir(dir)).map((s) => s.file)).toEqual(['a.yml', 'deep/er/b.yaml']);
  });

  it('reads several documents from one file, skipping empty ones', async () => {
    const dir = await configDir({
      'all.yml': [
        '# comment only document',
        '---',
        'kistype: conn\ncname: c1\ntype: redis',
        '---',
        'kistype: func\nfname: f1\nfmode: Load\noption:\n  cname: c1',
        '---',
        'kistype: flow\nflow_name: fl\nflows:\n  - fname: f1',
        '---',
        '',
      ].join('\n'),
      'empty.yaml': '',
    });
    const { config } = loaded(await loadConfigDir(dir));
    expect(config.flows['fl']?.steps).toEqual([{ funcName: 'f1', params: {} }]);
    expect(config.conns['c1']).toMatchObject({ load: ['f1'], save: [], addrs: '', key: '', params: {} });
  });

  it('is parseConfigSources over the files it reads', async () => {
    const sources = await Promise.all(
      ['conn-1.yaml', 'flow-MyFlow1.yaml', 'func-PrintInput.yaml', 'func-S1.yaml', 'kis-flow.yaml'].map(
        async (file) => ({ file, text: await readFile(join(SEED_DIALECT_DIR, file), 'utf8') }),
      ),
    );
    expect(await readConfigDir(SEED_DIALECT_DIR)).toEqual(sources);
    expect(parseConfigSources(sources)).toEqual(await loadConfigDir(SEED_DIALECT_DIR));
  });

  it('rejects when the folder does not exist', async () => {
    await expect(loadConfigDir(join(SEED_DIALECT_DIR, 'no-such-folder'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
