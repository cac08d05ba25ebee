/**
 * A flow's resolved KisConfig, assembled from `config_documents` (each row's `parsed` JSON is the model
 * object the flow package's loader produced): the flow, every function its steps name, and every
 * connector those functions use. This is what travels in `RunRequest.flow`, so an executor never reads
 * Postgres.
 *
 * Resolved configs are cached for `cacheTtlMs` (default 2 s) per flow: a burst of triggers reads the
 * documents once. `putConfigDocuments` in this process clears the cache; other replicas see an edit
 * within the TTL.
 */
import type { ConnConfig, FlowConfig, FuncConfig, KisConfig } from '@kisjobs/flow';
import type { PrismaClient } from '@kisjobs/db';
import { KisJobsError } from '@kisjobs/protocol';
import type { Clock } from '../registry/ports.js';

/** Why a flow cannot run; the first two are also recorded as the `error_code` of a run that could not start. */
export type FlowUnavailableReason = 'FLOW_NOT_FOUND' | 'FLOW_DISABLED' | 'CONFIG_INVALID';

export class FlowUnavailableError extends KisJobsError {
  readonly reason: FlowUnavailableReason;
  readonly flowName: string;

  constructor(reason: FlowUnavailableReason, flowName: string, message: string) {
    const code =
      reason === 'FLOW_NOT_FOUND'
        ? 'FLOW_NOT_FOUND'
        : reason === 'FLOW_DISABLED'
          ? 'UNPROCESSABLE'
          : 'CONFIG_INVALID';
    super(code, message, { details: { flowName, reason } });
    this.name = 'FlowUnavailableError';
    this.reason = reason;
    this.flowName = flowName;
  }
}

export interface ResolvedFlow {
  readonly flowName: string;
  /** `{ funcs, flows, conns }` holding exactly this flow and what it references. */
  readonly config: KisConfig;
  /** The distinct function names of the flow, sorted: an executor must implement every one. */
  readonly functions: readonly string[];
  /** The connector types the flow's functions open. */
  readonly connectorTypes: readonly string[];
}

export interface FlowConfigResolver {
  /** Throws FlowUnavailableError when the flow is missing, disabled, or names a missing function/connector. */
  resolve(flowName: string): Promise<ResolvedFlow>;
  /** Forgets every cached flow (after a config edit). */
  invalidate(): void;
}

type DocRow = { kind: string; name: string; parsed: unknown };

export function createFlowConfigResolver(options: {
  readonly prisma: PrismaClient;
  readonly clock: Clock;
  readonly cacheTtlMs?: number;
}): FlowConfigResolver {
  const ttl = options.cacheTtlMs ?? 2_000;
  const cache = new Map<string, { at: number; value: Promise<ResolvedFlow> }>();
  return {
    resolve(flowName) {
      const now = options.clock.now().getTime();
      const hit = cache.get(flowName);
      if (hit !== undefined && now - hit.at < ttl) return hit.value;
      const value = load(options.prisma, flowName);
      cache.set(flowName, { at: now, value });
      // A failure is not cached: the next trigger asks Postgres again.
      value.catch(() => cache.delete(flowName));
      return value;
    },
    invalidate() {
      cache.clear();
    },
  };
}

async function load(prisma: PrismaClient, flowName: string): Promise<ResolvedFlow> {
  const flowRow = await prisma.configDocument.findUnique({
    where: { kind_name: { kind: 'flow', name: flowName } },
    select: { kind: true, name: true, parsed: true },
  });
  if (flowRow === null) {
    throw new FlowUnavailableError('FLOW_NOT_FOUND', flowName, `flow ${flowName} is not defined`);
  }
  const flow = asDocument<FlowConfig>(flowRow, 'flow');
  if (!flow.enabled) {
    throw new FlowUnavailableError('FLOW_DISABLED', flowName, `flow ${flowName} is disabled (status 0)`);
  }
  const funcNames = [...new Set(flow.steps.map((step) => step.funcName))].sort();
  const funcRows = await prisma.configDocument.findMany({
    where: { kind: 'func', name: { in: funcNames } },
    select: { kind: true, name: true, parsed: true },
  });
  const funcs: Record<string, FuncConfig> = {};
  for (const row of funcRows) funcs[row.name] = asDocument<FuncConfig>(row, 'func');
  const missingFuncs = funcNames.filter((name) => funcs[name] === undefined);
  if (missingFuncs.length > 0) {
    throw new FlowUnavailableError(
      'CONFIG_INVALID',
      flowName,
      `flow ${flowName} names undefined function(s): ${missingFuncs.join(', ')}`,
    );
  }
  const connNames = [
    ...new Set(Object.values(funcs).flatMap((f) => (f.connectorName === undefined ? [] : [f.connectorName]))),
  ].sort();
  const conns: Record<string, ConnConfig> = {};
  if (connNames.length > 0) {
    const connRows = await prisma.configDocument.findMany({
      where: { kind: 'conn', name: { in: connNames } },
      select: { kind: true, name: true, parsed: true },
    });
    for (const row of connRows) conns[row.name] = asDocument<ConnConfig>(row, 'conn');
    const missing = connNames.filter((name) => conns[name] === undefined);
    if (missing.length > 0) {
      throw new FlowUnavailableError(
        'CONFIG_INVALID',
        flowName,
        `flow ${flowName} uses undefined connector(s): ${missing.join(', ')}`,
      );
    }
  }
  return {
    flowName,
    config: { funcs, flows: { [flowName]: flow }, conns },
    functions: funcNames,
    connectorTypes: [...new Set(Object.values(conns).map((c) => c.type))].sort(),
  };
}

/** Stored documents were validated by the loader before they were saved; this guards against a hand edit. */
function asDocument<T extends { readonly kind: string; readonly name: string }>(
  row: DocRow,
  kind: T['kind'],
): T {
  const parsed = row.parsed;
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    (parsed as { kind?: unknown }).kind !== kind ||
    (parsed as { name?: unknown }).name !== row.name
  ) {
    throw new FlowUnavailableError(
      'CONFIG_INVALID',
      row.name,
      `stored ${kind} document ${row.name} is malformed`,
    );
  }
  return parsed as T;
}
