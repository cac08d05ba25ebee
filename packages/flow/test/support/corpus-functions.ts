/**
 * The original KisFlow's test functions (kis-flow `test/faas`), written against this engine, as KISFLOW.md's
 * "Expected results" describe them, plus a journal of what each function received per run.
 */
import {
  FlowRegistry,
  actions,
  defineFunction,
  type ConnectorFactory,
  type Connector,
  type FlowAction,
  type FlowRunResult,
  type FunctionContext,
} from '../../src/index.js';

export interface Call {
  readonly funcName: string;
  readonly step: number;
  readonly rows: unknown[];
  readonly params: Readonly<Record<string, string>>;
}

/** What each function did, per run id. */
export class Journal {
  readonly #calls = new Map<string, Call[]>();
  add(runId: string, call: Call): void {
    const list = this.#calls.get(runId) ?? [];
    list.push(call);
    this.#calls.set(runId, list);
  }
  of(result: FlowRunResult): Call[] {
    return this.#calls.get(result.runId) ?? [];
  }
}

export interface CountingConnector extends Connector {
  calls: number;
  readonly name: string;
  call(row: unknown): void;
}

/** The original's test functions (kis-flow `test/faas`), written against the TypeScript engine. */
export function corpusRegistry(journal: Journal, connectors: CountingConnector[]) {
  const registry = new FlowRegistry();
  registry.registerConnectorType('redis', countingConnectors(connectors));
  const fn = (name: string, body: (ctx: FunctionContext) => FlowAction | void) =>
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
          return body(ctx);
        },
      }),
    );
  const onePerRow = (ctx: FunctionContext): void => {
    for (const row of ctx.rows) ctx.commit({ ...(row as object), seen_by: 'funcName1' });
  };
  fn('funcName1', onePerRow);
  fn('funcName4', onePerRow);
  fn('funcName2', (ctx) => {
    const connector = ctx.connector as CountingConnector;
    for (const row of ctx.rows) {
      connector.call(row);
      ctx.commit({ ...(row as object), saved_by: 'funcName2' });
    }
  });
  fn('funcName3', () => {});
  fn('abortFunc', () => actions.abort());
  fn('dataReuseFunc', (ctx) => {
    ctx.commit({ order_id: 'dropped', user_id: 'dropped' });
    return actions.dataReuse();
  });
  fn('noResultFunc', () => actions.forceEntryNext());
  fn('jumpFunc', () => actions.jump('funcName1'));
  fn('AvgStuScore', (ctx) => {
    for (const row of ctx.rows as Record<string, unknown>[]) {
      const score = (k: string) => (typeof row[k] === 'number' ? (row[k] as number) : 0);
      ctx.commit({
        stu_id: row.stu_id,
        avg_score: (score('score_1') + score('score_2') + score('score_3')) / 3,
      });
    }
  });
  fn('PrintStuAvgScore', () => {});
  return registry;
}

/** A `redis` stand-in that counts its calls; every instance it makes lands in `made`. */
export function countingConnectors(made: CountingConnector[]): ConnectorFactory<CountingConnector> {
  return async (conf) => {
    const connector: CountingConnector = {
      name: conf.name,
      calls: 0,
      call() {
        connector.calls++;
      },
      close: async () => {},
    };
    made.push(connector);
    return connector;
  };
}
