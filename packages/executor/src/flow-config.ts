/**
 * LOCAL DEFINITION, pending an export from `@kisjobs/flow`: a zod schema for an already-parsed, resolved
 * `KisConfig` (the JSON a RunRequest's `flow` field carries). The flow package validates YAML text
 * (`parseConfigSources`) and checks cross-references at `FlowRegistry.loadConfig`, but it has no schema for
 * the resolved JSON model, and `loadConfig` assumes the shape is right. This schema checks the shape first,
 * so a malformed `flow` fails the run with the field paths instead of a TypeError inside the engine.
 */
import { z } from 'zod';
import { FUNCTION_MODES, type KisConfig } from '@kisjobs/flow';
import { toValidationIssues, type ValidationIssue } from '@kisjobs/protocol';

const Name = z.string().min(1);
const StringParams = z.record(z.string(), z.string());

const FuncConfigJson = z.object({
  kind: z.literal('func'),
  name: Name,
  id: z.string().optional(),
  mode: z.enum(FUNCTION_MODES),
  source: z.object({ name: z.string(), must: z.array(z.string()) }),
  connectorName: Name.optional(),
  retryTimes: z.number().int().min(0),
  retryDelayMs: z.number().min(0),
  timeoutMs: z.number().positive().optional(),
  defaultParams: StringParams,
});

const FlowConfigJson = z.object({
  kind: z.literal('flow'),
  name: Name,
  id: z.string().optional(),
  enabled: z.boolean(),
  steps: z.array(z.object({ funcName: Name, params: StringParams })),
  maxSteps: z.number().int().positive().optional(),
});

const ConnConfigJson = z.object({
  kind: z.literal('conn'),
  name: Name,
  id: z.string().optional(),
  type: Name,
  addrs: z.string(),
  key: z.string(),
  params: StringParams,
  load: z.array(z.string()),
  save: z.array(z.string()),
});

const GlobalConfigJson = z.object({
  kind: z.literal('global'),
  prometheusEnable: z.boolean(),
  prometheusListen: z.boolean(),
  prometheusServe: z.string().optional(),
});

export const KisConfigJson = z.object({
  funcs: z.record(z.string(), FuncConfigJson),
  flows: z.record(z.string(), FlowConfigJson),
  conns: z.record(z.string(), ConnConfigJson).default({}),
  global: GlobalConfigJson.optional(),
});

/** A resolved config parsed from JSON, or the issues naming its bad fields (under `flow.`). */
export function parseFlowConfig(
  value: unknown,
): { ok: true; config: KisConfig } | { ok: false; issues: ValidationIssue[] } {
  const result = KisConfigJson.safeParse(value);
  if (!result.success) return { ok: false, issues: toValidationIssues(result.error.issues, ['flow']) };
  const config: KisConfig = result.data;
  return { ok: true, config };
}
