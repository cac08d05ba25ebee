/**
 * The original KisFlow's test corpus, loaded with the YAML loader and run by the engine with test functions
 * that behave as KISFLOW.md's "Expected results" describe; every expected result is asserted here.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FlowRegistry,
  defineFunction,
  formatIssue,
  loadConfigDir,
  type ConfigLoadResult,
  type FlowRunResult,
  type KisConfig,
} from '../src/index.js';
import {
  Journal,
  corpusRegistry,
  countingConnectors,
  type CountingConnector,
} from './support/corpus-functions.js';

const fixture = (path: string) => fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url));

async function load(dir: string): Promise<{ config: KisConfig; disabledFlows: string[] }> {
  const result: ConfigLoadResult = await loadConfigDir(dir);
  if (!result.ok) throw new Error(`config did not load:\n${result.issues.map(formatIssue).join('\n')}`);
  return { config: result.config, disabledFlows: result.disabledFlows };
}

const SOURCE = [
  { order_id: 1, user_id: 101 },
  { order_id: 2, user_id: 102 },
  { order_id: 3, user_id: 103 },
];

describe('kisflow-test corpus', () => {
  const journal = new Journal();
  const connectors: CountingConnector[] = [];
  let registry: FlowRegistry;
  let config: KisConfig;
  let disabledFlows: string[] = [];

  beforeAll(async () => {
    const loaded = await load(fixture('kisflow-test/load_conf'));
    config = loaded.config;
    disabledFlows = loaded.disabledFlows;
    registry = corpusRegistry(journal, connectors);
    registry.loadConfig(config);
    return () => registry.close();
  });

  const calls = (result: FlowRunResult, funcName: string) =>
    journal.of(result).filter((c) => c.funcName === funcName);

  it('loads seven flows; ConnName1 is linked to funcName2', () => {
    expect(disabledFlows).toEqual([]);
    expect(registry.describe().flows).toEqual(
      ['StuAvg', 'flowFork1', 'flowName1', 'flowName2', 'flowName3', 'flowName4', 'flowName5'].map(
        (name) => ({
          name,
          enabled: true,
        }),
      ),
    );
    expect(config.funcs.funcName2?.connectorName).toBe('ConnName1');
    expect(config.conns.ConnName1?.save).toEqual(['funcName2']);
    expect(connectors).toHaveLength(0); // loading never connects
  });

  it('flowName1: funcName2 calls its connector 3 times; funcName3 receives funcName2’s 3 rows; params merge', async () => {
    const result = await registry.run('flowName1', { rows: SOURCE });
    expect(result).toMatchObject({ ok: true, endedBy: 'completed', steps: 3 });
    expect(connectors).toHaveLength(1);
    expect(connectors[0]).toMatchObject({ name: 'ConnName1', calls: 3 });
    const f3 = calls(result, 'funcName3');
    expect(f3).toHaveLength(1);
    expect(f3[0]?.rows).toHaveLength(3);
    expect(f3[0]?.rows).toEqual(SOURCE.map((r) => ({ ...r, seen_by: 'funcName1', saved_by: 'funcName2' })));
    expect(calls(result, 'funcName1')[0]?.params).toEqual({
      default1: 'funcName1_param1',
      default2: 'funcName1_param2',
      myKey1: 'flowValue1-1',
      myKey2: 'flowValue1-2',
    });
    expect(calls(result, 'funcName2')[0]?.params).toEqual({
      default1: 'funcName2_param1',
      default2: 'funcName2_param2',
      myKey1: 'flowValue2-1',
      myKey2: 'flowValue2-2',
    });
  });

  it('flowName2: funcName3 never runs (Abort)', async () => {
    const result = await registry.run('flowName2', { rows: SOURCE });
    expect(result).toMatchObject({ ok: true, endedBy: 'abort_action', steps: 2 });
    expect(journal.of(result).map((c) => c.funcName)).toEqual(['funcName1', 'abortFunc']);
  });

  it('flowName3: funcName3 receives funcName1’s rows (DataReuse)', async () => {
    const result = await registry.run('flowName3', { rows: SOURCE });
    expect(result).toMatchObject({ ok: true, endedBy: 'completed', steps: 3 });
    const f1Output = SOURCE.map((r) => ({ ...r, seen_by: 'funcName1' }));
    expect(calls(result, 'dataReuseFunc')[0]?.rows).toEqual(f1Output);
    expect(calls(result, 'funcName3')[0]?.rows).toEqual(f1Output);
  });

  it('flowName4: funcName3 runs with 0 rows (ForceEntryNext after no output)', async () => {
    const result = await registry.run('flowName4', { rows: SOURCE });
    expect(result).toMatchObject({ ok: true, endedBy: 'completed', steps: 3 });
    const f3 = calls(result, 'funcName3');
    expect(f3).toHaveLength(1);
    expect(f3[0]?.rows).toEqual([]);
  });

  it('flowName5: the jump loop ends in a step-guard error, not a hang', async () => {
    const before = connectors[0]?.calls ?? 0;
    const result = await registry.run('flowName5', { rows: SOURCE });
    expect(result).toMatchObject({
      ok: false,
      status: 'failed',
      steps: 1000,
      error: { code: 'STEP_LIMIT_EXCEEDED' },
    });
    // it really looped: funcName1 -> funcName2 -> jumpFunc, over and over, each funcName1 reading the source
    const f1 = calls(result, 'funcName1');
    expect(f1.length).toBe(334);
    expect(f1.every((c) => c.rows.length === 3 && c.step === 0)).toBe(true);
    expect((connectors[0]?.calls ?? 0) - before).toBe(333 * 3);
  });

  it('flowFork1: runs (a fork is only a new run)', async () => {
    const [a, b] = await Promise.all([
      registry.run('flowFork1', { rows: SOURCE }),
      registry.run('flowFork1', { rows: SOURCE.slice(0, 1) }),
    ]);
    expect(calls(a as FlowRunResult, 'funcName3')[0]?.rows).toHaveLength(3);
    expect(calls(b as FlowRunResult, 'funcName3')[0]?.rows).toHaveLength(1);
    expect(calls(a as FlowRunResult, 'funcName1')[0]?.params).toEqual({
      default1: 'funcName1_param1',
      default2: 'funcName1_param2',
      myKey1: 'flowValue1-1',
    });
  });

  it('StuAvg: averages 2, 2 and 0', async () => {
    const rows = [
      { stu_id: 100, score_1: 1, score_2: 2, score_3: 3 },
      { stu_id: 100, score_1: 1, score_2: 2, score_3: 3 },
      { stu_id: 101 },
    ];
    const result = await registry.run('StuAvg', { rows });
    expect(result).toMatchObject({ ok: true, endedBy: 'completed' });
    expect(calls(result, 'PrintStuAvgScore')[0]?.rows).toEqual([
      { stu_id: 100, avg_score: 2 },
      { stu_id: 100, avg_score: 2 },
      { stu_id: 101, avg_score: 0 },
    ]);
  });

  it('the global document is loaded for the metrics endpoint', () => {
    expect(config.global).toMatchObject({
      prometheusEnable: true,
      prometheusListen: true,
      prometheusServe: '0.0.0.0:20004',
    });
  });
});

describe('seed dialect (the original README’s examples)', () => {
  it('MyFlow1: the effective params of every step follow the merge rule', async () => {
    const { config } = await load(fixture('seed-dialect'));
    const journal = new Journal();
    const connectors: CountingConnector[] = [];
    const registry = new FlowRegistry();
    registry.registerConnectorType('redis', countingConnectors(connectors));
    for (const name of ['测试PrintInput', '测试KisFunction_S1']) {
      registry.registerFunction(
        defineFunction({
          name,
          handler: (ctx) => {
            journal.add(ctx.run.runId, {
              funcName: name,
              step: ctx.run.step,
              rows: [...ctx.rows],
              params: ctx.params,
            });
            if (name === '测试KisFunction_S1')
              for (const _ of ctx.rows) (ctx.connector as CountingConnector).call(_);
            ctx.commitMany(ctx.rows);
          },
        }),
      );
    }
    registry.loadConfig(config);
    const result = await registry.run('MyFlow1', {
      rows: [
        { userid: 1, orderid: 10 },
        { userid: 2, orderid: 20 },
      ],
    });
    expect(result).toMatchObject({ ok: true, endedBy: 'completed', steps: 6 });
    const printDefaults = { default1: 'print_default1', default2: 'print_default2' };
    const s1Defaults = { default1: 'default1_param', default2: 'default2_param' };
    expect(journal.of(result).map((c) => [c.step, c.funcName, c.params])).toEqual([
      [0, '测试PrintInput', { ...printDefaults, args1: 'value1', args2: 'value2' }],
      [1, '测试KisFunction_S1', s1Defaults],
      [
        2,
        '测试PrintInput',
        { default1: 'print_default1', default2: 'newDefault', args1: 'value11', args2: 'value22' },
      ],
      [3, '测试PrintInput', printDefaults],
      [4, '测试KisFunction_S1', { ...s1Defaults, my_user_param1: 'ffffffxxxxxx' }],
      [5, '测试PrintInput', printDefaults],
    ]);
    // S1's connector is initialised once for the registry and called once per row at each S1 step
    expect(connectors).toHaveLength(1);
    expect(connectors[0]).toMatchObject({ name: '测试KisConnector_1', calls: 4 });
    // retry settings of the older dialect reach the engine
    expect(config.funcs['测试KisFunction_S1']).toMatchObject({ retryTimes: 3, retryDelayMs: 500 });
    await registry.close();
  });
});
