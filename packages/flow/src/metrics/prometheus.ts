/**
 * prom-client adapter: engine hooks that record KisFlow metrics into a given Registry, durations in
 * seconds, with `flow`, `function` and `mode` labels.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { FlowEndEvent, FlowHooks, FunctionEndEvent } from '../engine/types.js';

export const FLOW_METRIC_NAMES = {
  flowRuns: 'kisflow_flow_runs_total',
  flowRowsIn: 'kisflow_flow_rows_in_total',
  flowDuration: 'kisflow_flow_duration_seconds',
  functionRowsIn: 'kisflow_function_rows_in_total',
  functionRowsOut: 'kisflow_function_rows_out_total',
  functionDuration: 'kisflow_function_duration_seconds',
  functionErrors: 'kisflow_function_errors_total',
} as const;

const FUNCTION_LABELS = ['flow', 'function', 'mode'] as const;
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

type LabelOf<L extends readonly string[]> = L[number];

function counter<L extends readonly string[]>(
  register: Registry,
  name: string,
  help: string,
  labelNames: L,
): Counter<LabelOf<L>> {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<LabelOf<L>>;
  return new Counter({ name, help, labelNames, registers: [register] });
}

function histogram<L extends readonly string[]>(
  register: Registry,
  name: string,
  help: string,
  labelNames: L,
): Histogram<LabelOf<L>> {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Histogram) return existing as Histogram<LabelOf<L>>;
  return new Histogram({ name, help, labelNames, buckets: DURATION_BUCKETS, registers: [register] });
}

/** Hooks for `new FlowRegistry({ hooks })`. Calling it twice on one Registry reuses the metrics. */
export function createFlowMetrics(register: Registry): FlowHooks {
  const n = FLOW_METRIC_NAMES;
  const flowRuns = counter(register, n.flowRuns, 'Flow runs ended, by status', ['flow', 'status'] as const);
  const flowRowsIn = counter(register, n.flowRowsIn, 'Source rows that flow runs started with', [
    'flow',
  ] as const);
  const flowDuration = histogram(register, n.flowDuration, 'Flow run duration in seconds', [
    'flow',
    'status',
  ] as const);
  const rowsIn = counter(register, n.functionRowsIn, 'Rows received by functions', FUNCTION_LABELS);
  const rowsOut = counter(register, n.functionRowsOut, 'Rows committed by functions', FUNCTION_LABELS);
  const duration = histogram(
    register,
    n.functionDuration,
    'Function step duration in seconds (all attempts)',
    FUNCTION_LABELS,
  );
  const errors = counter(register, n.functionErrors, 'Function steps that failed, by error code', [
    ...FUNCTION_LABELS,
    'code',
  ] as const);

  return {
    onFunctionEnd(e: FunctionEndEvent) {
      const labels = { flow: e.flow, function: e.function, mode: e.mode };
      rowsIn.inc(labels, e.rowsIn);
      rowsOut.inc(labels, e.rowsOut);
      duration.observe(labels, e.durationMs / 1000);
      if (e.error !== undefined) errors.inc({ ...labels, code: e.error.code });
    },
    onFlowEnd(e: FlowEndEvent) {
      flowRuns.inc({ flow: e.flow, status: e.status });
      flowRowsIn.inc({ flow: e.flow }, e.rows);
      flowDuration.observe({ flow: e.flow, status: e.status }, e.durationMs / 1000);
    },
  };
}
