import { describe, expect, it } from 'vitest';
import { parseConfigSources } from '../src/config/index.js';
import { loaded } from './config-support.js';

describe('dialects', () => {
  it('keeps fid as the id when it differs from fname, and references may use either', () => {
    const { config } = loaded(
      parseConfigSources([
        {
          file: 'x.yml',
          text: [
            'kistype: conn\ncid: conn-001\ncname: Store\ntype: redis',
            '---',
            'kistype: func\nfid: fn-001\nfname: Save1\nfmode: Save\noption:\n  cid: conn-001',
            '---',
            'kistype: func\nfid: OnlyId\nfmode: Verify',
            '---',
            'kistype: flow\nflow_id: flow-001\nflow_name: F\nflows:\n  - fid: fn-001\n  - fid: OnlyId\n  - fname: Save1',
          ].join('\n'),
        },
      ]),
    );
    expect(config.funcs['Save1']).toMatchObject({ name: 'Save1', id: 'fn-001', connectorName: 'Store' });
    expect(config.funcs['OnlyId']).toMatchObject({ name: 'OnlyId' });
    expect(config.funcs['OnlyId']).not.toHaveProperty('id');
    expect(config.conns['Store']).toMatchObject({ id: 'conn-001', save: ['Save1'] });
    expect(config.flows['F']).toMatchObject({ id: 'flow-001' });
    expect(config.flows['F']?.steps.map((s) => s.funcName)).toEqual(['Save1', 'OnlyId', 'Save1']);
  });

  it('reads return_duration (newer) and retry_duration (older), and both when they agree', () => {
    const func = (name: string, option: string) =>
      `kistype: func\nfname: ${name}\nfmode: Calculate\noption:\n${option}\n---\n`;
    const { config } = loaded(
      parseConfigSources([
        {
          file: 'f.yml',
          text:
            func('newer', '  return_duration: 250') +
            func('older', '  retry_duration: 500') +
            func('both', '  retry_duration: 75\n  return_duration: 75') +
            func('extras', '  retry_times: 2\n  timeout_ms: 1500'),
        },
      ]),
    );
    expect(config.funcs['newer']?.retryDelayMs).toBe(250);
    expect(config.funcs['older']?.retryDelayMs).toBe(500);
    expect(config.funcs['both']?.retryDelayMs).toBe(75);
    expect(config.funcs['extras']).toMatchObject({ retryTimes: 2, retryDelayMs: 0, timeoutMs: 1500 });
    expect(config.funcs['newer']).not.toHaveProperty('timeoutMs');
  });

  it('treats a missing status as enabled and reports status 0 flows as disabled', () => {
    const flow = (name: string, status: string) =>
      `kistype: flow\nflow_name: ${name}\n${status}flows:\n  - fname: f\n---\n`;
    const result = parseConfigSources([
      {
        file: 'flows.yml',
        text:
          'kistype: func\nfname: f\nfmode: Calculate\n---\n' +
          flow('on', 'status: 1\n') +
          flow('implicit', '') +
          flow('off', 'status: 0\n') +
          flow('alsoOff', 'status: 0\nmax_steps: 50\n'),
      },
    ]);
    const { config, disabledFlows } = loaded(result);
    expect(disabledFlows).toEqual(['alsoOff', 'off']);
    expect(config.flows['implicit']?.enabled).toBe(true);
    expect(config.flows['on']?.enabled).toBe(true);
    expect(config.flows['off']?.enabled).toBe(false);
    expect(config.flows['alsoOff']).toMatchObject({ enabled: false, maxSteps: 50 });
  });

  it('ignores unknown keys at every level', () => {
    const { config } = loaded(
      parseConfigSources([
        {
          file: 'extra.yml',
          text: [
            'kistype: func\nfname: f\nfmode: Calculate\nowner: team-a\nsource:\n  name: s\n  must: [id]\n  schema: v2',
            'option:\n  default_params: {a: "1"}\n  color: blue',
            '---',
            'kistype: flow\nflow_name: fl\ndescription: nightly\nflows:\n  - fname: f\n    note: first\n',
            '---',
            'kistype: global\nprometheus_enable: false\nlog_level: debug',
          ].join('\n'),
        },
      ]),
    );
    expect(config.funcs['f']).toEqual({
      kind: 'func',
      name: 'f',
      mode: 'Calculate',
      source: { name: 's', must: ['id'] },
      retryTimes: 0,
      retryDelayMs: 0,
      defaultParams: { a: '1' },
    });
    expect(config.flows['fl']?.steps).toEqual([{ funcName: 'f', params: {} }]);
    expect(config.global).toEqual({ kind: 'global', prometheusEnable: false, prometheusListen: false });
  });

  it('adds Save and Load functions to their connector lists, de-duplicated, and leaves other modes out', () => {
    const func = (name: string, mode: string) =>
      `kistype: func\nfname: ${name}\nfmode: ${mode}\noption:\n  cname: c\n---\n`;
    const { config } = loaded(
      parseConfigSources([
        {
          file: 'c.yml',
          text:
            'kistype: conn\ncname: c\ntype: mysql\nsave: [s1, declaredOnly, s1]\nload: ~\n---\n' +
            func('s1', 'Save') +
            func('s2', 'Save') +
            func('l1', 'Load') +
            func('calc', 'Calculate'),
        },
      ]),
    );
    expect(config.conns['c']).toMatchObject({ save: ['s1', 'declaredOnly', 's2'], load: ['l1'] });
    expect(config.funcs['calc']?.connectorName).toBe('c');
  });
});

describe('params keep the literal text of YAML scalars', () => {
  const cases: [string, string][] = [
    ['5', '5'],
    ['5.10', '5.10'],
    ['true', 'true'],
    ['False', 'False'],
    ['~', ''],
    ['null', ''],
    ['', ''],
    ['0x1F', '0x1F'],
    ['0o17', '0o17'],
    ['1e3', '1e3'],
    ['007', '007'],
    ['-0', '-0'],
    ['.inf', '.inf'],
    ['yes', 'yes'],
    ['"5"', '5'],
    ["'it''s'", "it's"],
    ['"null"', 'null'],
    ['"tab\\there"', 'tab\there'],
    ['plain text here', 'plain text here'],
    ['2001-12-14', '2001-12-14'],
  ];

  it.each(cases)('%s -> %j', (written, expected) => {
    const text = [
      `kistype: func\nfname: f\nfmode: Calculate\noption:\n  default_params:\n    v: ${written}`,
      `---\nkistype: flow\nflow_name: fl\nflows:\n  - fname: f\n    params:\n      v: ${written}`,
      `---\nkistype: conn\ncname: c\ntype: redis\nparams:\n  v: ${written}`,
    ].join('\n');
    const { config } = loaded(parseConfigSources([{ file: 'p.yml', text }]));
    expect(config.funcs['f']?.defaultParams).toEqual({ v: expected });
    expect(config.flows['fl']?.steps[0]?.params).toEqual({ v: expected });
    expect(config.conns['c']?.params).toEqual({ v: expected });
  });

  it('keeps block scalars, anchors and aliases, and number-like keys', () => {
    const text = [
      'kistype: func',
      'fname: f',
      'fmode: Calculate',
      'option:',
      '  default_params:',
      '    script: |',
      '      line 1',
      '      line 2',
      '    first: &shared 1.50',
      '    second: *shared',
      '    5.10: key as written',
    ].join('\n');
    const { config } = loaded(parseConfigSources([{ file: 'b.yml', text }]));
    expect(config.funcs['f']?.defaultParams).toEqual({
      script: 'line 1\nline 2\n',
      first: '1.50',
      second: '1.50',
      '5.10': 'key as written',
    });
  });

  it('applies to every string field, names included', () => {
    const text =
      'kistype: func\nfname: 123\nfmode: Calculate\nsource:\n  name: 1.0\n  must: [1, true]\n---\n' +
      'kistype: flow\nflow_name: 2024\nflows:\n  - fname: 123\n';
    const { config } = loaded(parseConfigSources([{ file: 'n.yml', text }]));
    expect(config.funcs['123']?.source).toEqual({ name: '1.0', must: ['1', 'true'] });
    expect(config.flows['2024']?.steps[0]?.funcName).toBe('123');
  });
});
