import { describe, expect, it } from 'vitest';
import {
  CONFIG_ISSUE_CODES,
  ConfigLoadError,
  loadConfigDir,
  loadConfigDirOrThrow,
  parseConfigSources,
  parseConfigSourcesOrThrow,
} from '../src/config/index.js';
import { SEED_DIALECT_DIR, configDir, issuesOf, uniqueWhere, where } from './config-support.js';

const FUNC = 'kistype: func\nfname: f\nfmode: Calculate\n';
const CONN = 'kistype: conn\ncname: c\ntype: redis\n';

/** Load a temporary folder of files and return its issues (asserting that no config came back). */
async function problems(files: Record<string, string>) {
  return issuesOf(await loadConfigDir(await configDir(files)));
}

describe('each class of bad config names the file and the field, and returns no config', () => {
  it('missing kistype', async () => {
    const issues = await problems({
      'func/a.yml': 'fname: f\nfmode: Calculate\n',
      'ok.yml': FUNC.replace(/f\n/, 'g\n'),
    });
    expect(where(issues)).toEqual([['MISSING_KISTYPE', 'func/a.yml', 0, 'kistype']]);
  });

  it('unknown kistype, and a kistype that is not a scalar', async () => {
    const issues = await problems({ 'a.yml': 'kistype: function\nfname: f\n---\nkistype: [func]\n' });
    expect(where(issues)).toEqual([
      ['UNKNOWN_KISTYPE', 'a.yml', 0, 'kistype'],
      ['INVALID_TYPE', 'a.yml', 1, 'kistype'],
    ]);
    expect(issues[0]?.message).toContain('"function"');
    expect(issues[0]?.message).toContain('func, flow, conn, global');
  });

  it('a document that is not a map', async () => {
    const issues = await problems({ 'list.yml': '- kistype: func\n' });
    expect(where(issues)).toEqual([['INVALID_TYPE', 'list.yml', 0, '']]);
  });

  it('duplicate names across files name both files', async () => {
    const issues = await problems({ 'a/one.yml': FUNC, 'b/two.yaml': `${CONN}---\n${FUNC}` });
    expect(where(issues)).toEqual([['DUPLICATE_NAME', 'b/two.yaml', 1, 'fname']]);
    expect(issues[0]?.message).toContain('a/one.yml#0');
    expect(issues[0]?.message).toContain('b/two.yaml#1');
  });

  it('duplicate names within one file, in the older dialect, and a second global document', async () => {
    const issues = await problems({
      'all.yml': [
        CONN,
        'kistype: conn\ncid: c\ntype: mysql\n',
        'kistype: global\n',
        'kistype: global\n',
      ].join('---\n'),
    });
    expect(where(issues)).toEqual([
      ['DUPLICATE_NAME', 'all.yml', 1, 'cid'],
      ['DUPLICATE_NAME', 'all.yml', 3, 'kistype'],
    ]);
    expect(issues[1]?.message).toContain('all.yml#2');
  });

  it('the same name for a function and a connector is allowed', async () => {
    const result = await loadConfigDir(
      await configDir({ 'a.yml': `${FUNC}---\n${CONN.replace('cname: c', 'cname: f')}` }),
    );
    expect(result.ok).toBe(true);
  });

  it('a flow naming a missing function', async () => {
    const issues = await problems({
      'funcs.yml': FUNC,
      'flows/x.yml': 'kistype: flow\nflow_name: x\nflows:\n  - fname: f\n  - fname: nope\n',
      'flows/y.yml': 'kistype: flow\nflow_id: y\nflows:\n  - fid: gone\n',
    });
    expect(where(issues)).toEqual([
      ['UNKNOWN_FUNC_REF', 'flows/x.yml', 0, 'flows[1].fname'],
      ['UNKNOWN_FUNC_REF', 'flows/y.yml', 0, 'flows[0].fid'],
    ]);
    expect(issues[0]?.message).toBe('flow "x" names function "nope", which is not defined');
    expect(issues[0]?.line).toBe(5);
  });

  it('a function naming a missing connector', async () => {
    const issues = await problems({
      'a.yml': `kistype: func\nfname: s\nfmode: Save\noption:\n  cname: nowhere\n---\nkistype: func\nfid: l\nfmode: Load\noption:\n  cid: gone\n`,
    });
    expect(where(issues)).toEqual([
      ['UNKNOWN_CONN_REF', 'a.yml', 0, 'option.cname'],
      ['UNKNOWN_CONN_REF', 'a.yml', 1, 'option.cid'],
    ]);
    expect(issues[0]?.message).toBe('func "s" names connector "nowhere", which is not defined');
  });

  it('wrong value types', async () => {
    const issues = await problems({
      'types.yml': [
        'kistype: func\nfname: a\nfmode: Calculate\noption:\n  retry_times: "abc"\n  return_duration: 1.5',
        'kistype: func\nfname: b\nfmode: Calculate\nsource:\n  name: [x]\n  must: id\noption: [retry_times]',
        'kistype: global\nprometheus_enable: "yes"\nprometheus_listen: 1',
        'kistype: conn\ncname: c\ntype: {name: redis}\nsave: funcName2',
      ].join('\n---\n'),
    });
    expect(where(issues)).toEqual([
      ['INVALID_TYPE', 'types.yml', 0, 'option.retry_times'],
      ['INVALID_TYPE', 'types.yml', 0, 'option.return_duration'],
      ['INVALID_TYPE', 'types.yml', 1, 'source.name'],
      ['INVALID_TYPE', 'types.yml', 1, 'source.must'],
      ['INVALID_TYPE', 'types.yml', 1, 'option'],
      ['INVALID_TYPE', 'types.yml', 2, 'prometheus_enable'],
      ['INVALID_TYPE', 'types.yml', 2, 'prometheus_listen'],
      ['INVALID_TYPE', 'types.yml', 3, 'type'],
      ['INVALID_TYPE', 'types.yml', 3, 'save'],
    ]);
    expect(issues[0]?.message).toBe('expected an integer, got "abc"');
    expect(issues[2]?.message).toBe('expected a string, got a sequence');
    expect(issues[4]?.message).toBe('expected a map, got a sequence');
  });

  it('params given as a list, or a params value given as a list or a map', async () => {
    const issues = await problems({
      'p.yml': [
        `${FUNC}option:\n  default_params:\n    ok: 1\n    nested: {a: b}`,
        'kistype: flow\nflow_name: fl\nflows:\n  - fname: f\n    params: [a, b]\n  - fname: f\n    params:\n      k: [1, 2]',
        `${CONN}params: [x]`,
      ].join('\n---\n'),
    });
    expect(where(issues)).toEqual([
      ['INVALID_TYPE', 'p.yml', 0, 'option.default_params.nested'],
      ['INVALID_TYPE', 'p.yml', 1, 'flows[0].params'],
      ['INVALID_TYPE', 'p.yml', 1, 'flows[1].params.k'],
      ['INVALID_TYPE', 'p.yml', 2, 'params'],
    ]);
    expect(issues[0]?.message).toBe('expected a string, got a map');
    expect(issues[2]?.message).toBe('expected a string, got a sequence');
  });

  it('missing required fields', async () => {
    const issues = await problems({
      'm.yml': [
        'kistype: func\nfmode: Calculate',
        'kistype: func\nfname: g\nfmode: ~',
        'kistype: flow\nflow_name: fl',
        'kistype: flow\nflow_name: f2\nflows:\n  - params: {a: b}',
        'kistype: conn\ncname: c',
        'kistype: global\nprometheus_enable: true\nprometheus_listen: true',
      ].join('\n---\n'),
    });
    expect(where(issues)).toEqual([
      ['MISSING_FIELD', 'm.yml', 0, 'fname'],
      ['MISSING_FIELD', 'm.yml', 1, 'fmode'],
      ['MISSING_FIELD', 'm.yml', 2, 'flows'],
      ['MISSING_FIELD', 'm.yml', 3, 'flows[0].fname'],
      ['MISSING_FIELD', 'm.yml', 4, 'type'],
      ['MISSING_FIELD', 'm.yml', 5, 'prometheus_serve'],
    ]);
    expect(issues[0]?.message).toBe('required: give fname (or fid)');
  });

  it('values of the right type that are not allowed', async () => {
    const issues = await problems({
      'v.yml': [
        'kistype: func\nfname: a\nfmode: calculate\noption:\n  retry_times: -1\n  timeout_ms: 0',
        'kistype: func\nfname: b\nfmode: Save\noption:\n  retry_duration: 100\n  return_duration: 200',
        'kistype: flow\nflow_name: x\nstatus: 2\nflows: []',
        'kistype: flow\nflow_name: ""\nflows:\n  - fname: a',
      ].join('\n---\n'),
    });
    expect(where(issues)).toEqual([
      ['INVALID_VALUE', 'v.yml', 0, 'fmode'],
      ['INVALID_VALUE', 'v.yml', 0, 'option.retry_times'],
      ['INVALID_VALUE', 'v.yml', 0, 'option.timeout_ms'],
      ['INVALID_VALUE', 'v.yml', 1, 'option.retry_duration'],
      ['INVALID_VALUE', 'v.yml', 2, 'status'],
      ['INVALID_VALUE', 'v.yml', 2, 'flows'],
      ['INVALID_VALUE', 'v.yml', 3, 'flow_name'],
    ]);
    expect(issues[0]?.message).toBe('expected one of Verify, Save, Load, Calculate, Expand; got "calculate"');
    expect(issues[1]?.message).toBe('must be at least 0, got -1');
    expect(issues[6]?.message).toBe('must not be empty');
  });

  it('malformed YAML, with its line, while the other documents are still checked', async () => {
    const issues = await problems({
      'bad.yml': `${FUNC}---\nkistype: flow\nflow_name: x\nflows: [\n  - fname: f\n`,
      'dup-key.yml': 'kistype: conn\ncname: c\ncname: d\ntype: redis\n',
      'other.yml': 'kistype: func\nfname: g\nfmode: Nope\n',
    });
    expect(uniqueWhere(issues)).toEqual([
      ['YAML_SYNTAX', 'bad.yml', 1, ''],
      ['YAML_SYNTAX', 'dup-key.yml', 0, ''],
      ['INVALID_VALUE', 'other.yml', 0, 'fmode'],
    ]);
    expect(issues[0]?.line).toBeGreaterThanOrEqual(5);
    expect(issues.find((i) => i.file === 'dup-key.yml')).toMatchObject({
      line: 3,
      message: expect.stringMatching(/unique/i),
    });
  });
});

describe('hostile YAML', () => {
  it('an alias bomb is a YAML_SYNTAX issue, not a hang', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const result = parseConfigSources([
      { file: 'bomb.yml', text: `kistype: global\n${levels.join('\n')}\n` },
    ]);
    expect(uniqueWhere(issuesOf(result))).toEqual([['YAML_SYNTAX', 'bomb.yml', 0, '']]);
  });
});

describe('one load reports every problem', () => {
  it('across files, documents and kinds, in file order', async () => {
    const issues = await problems({
      '1-kinds.yml': 'fname: nokind\n---\nkistype: job\n',
      '2-func.yml':
        'kistype: func\nfname: f\nfmode: Calculate\noption:\n  cname: missingConn\n  retry_times: abc\n',
      '3-flow.yml': 'kistype: flow\nflow_name: fl\nstatus: 3\nflows:\n  - fname: missingFunc\n  - fname: f\n',
      '4-dup.yml': 'kistype: flow\nflow_name: fl\nflows:\n  - fname: f\n',
      '5-dup.yml': 'kistype: flow\nflow_name: fl\nflows:\n  - fname: f\n',
      '6-syntax.yml': 'kistype: conn\n  cname: [\n',
    });
    expect(uniqueWhere(issues)).toEqual([
      ['MISSING_KISTYPE', '1-kinds.yml', 0, 'kistype'],
      ['UNKNOWN_KISTYPE', '1-kinds.yml', 1, 'kistype'],
      ['UNKNOWN_CONN_REF', '2-func.yml', 0, 'option.cname'],
      ['INVALID_TYPE', '2-func.yml', 0, 'option.retry_times'],
      ['INVALID_VALUE', '3-flow.yml', 0, 'status'],
      ['UNKNOWN_FUNC_REF', '3-flow.yml', 0, 'flows[0].fname'],
      // 3-flow.yml declares `fl` first, although invalid; 4 and 5 are duplicates of it.
      ['DUPLICATE_NAME', '4-dup.yml', 0, 'flow_name'],
      ['DUPLICATE_NAME', '5-dup.yml', 0, 'flow_name'],
      ['YAML_SYNTAX', '6-syntax.yml', 0, ''],
    ]);
    expect(issues.find((i) => i.file === '5-dup.yml')?.message).toBe(
      'flow "fl" is defined twice: in 3-flow.yml#0 and in 5-dup.yml#0',
    );
    for (const issue of issues) expect(CONFIG_ISSUE_CODES).toContain(issue.code);
  });

  it('a duplicate is checked too: its references must exist', () => {
    const result = parseConfigSources([
      { file: 'a.yml', text: `${FUNC}---\n${FUNC}option:\n  cname: nowhere\n` },
    ]);
    expect(where(issuesOf(result))).toEqual([
      ['DUPLICATE_NAME', 'a.yml', 1, 'fname'],
      ['UNKNOWN_CONN_REF', 'a.yml', 1, 'option.cname'],
    ]);
  });

  it('a reference to an invalid document is not reported as unknown', () => {
    const result = parseConfigSources([
      { file: 'a.yml', text: 'kistype: func\nfname: f\nfmode: Bogus\n' },
      { file: 'b.yml', text: 'kistype: flow\nflow_name: fl\nflows:\n  - fname: f\n' },
    ]);
    expect(where(issuesOf(result))).toEqual([['INVALID_VALUE', 'a.yml', 0, 'fmode']]);
  });
});

describe('exceptions for callers that prefer them', () => {
  it('parseConfigSourcesOrThrow throws a ConfigLoadError listing `file#doc field: message`', () => {
    const sources = [
      { file: 'a.yml', text: 'kistype: func\nfname: f\nfmode: Calculate\noption:\n  retry_times: x\n' },
      { file: 'b.yml', text: 'kistype: nope\n---\n- 1\n' },
    ];
    let caught: unknown;
    try {
      parseConfigSourcesOrThrow(sources);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigLoadError);
    const error = caught as ConfigLoadError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.name).toBe('ConfigLoadError');
    expect(error.issues).toHaveLength(3);
    expect(error.message.split('\n')).toEqual([
      'KisFlow config is invalid (3 problems):',
      '  a.yml#0 option.retry_times: expected an integer, got "x"',
      '  b.yml#0 kistype: unknown kistype "nope"; expected one of func, flow, conn, global',
      '  b.yml#1: a document must be a map with a kistype, got a sequence',
    ]);
  });

  it('loadConfigDirOrThrow returns the config, or rejects with every issue', async () => {
    const { config, disabledFlows } = await loadConfigDirOrThrow(SEED_DIALECT_DIR);
    expect(Object.keys(config.flows)).toEqual(['MyFlow1']);
    expect(disabledFlows).toEqual([]);
    const dir = await configDir({ 'x/y.yml': 'kistype: flow\nflow_name: f\nflows:\n  - fname: g\n' });
    await expect(loadConfigDirOrThrow(dir)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      issues: [{ code: 'UNKNOWN_FUNC_REF', file: 'x/y.yml', document: 0, field: 'flows[0].fname', line: 4 }],
    });
  });
});
