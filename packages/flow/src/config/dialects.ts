/**
 * The YAML documents, in both dialects, as zod schemas. Older dialect (the original README): `fid`,
 * `flow_id`, `cid`, `retry_duration`. Current dialect: `fname`, `flow_name`, `cname`, `return_duration`.
 * Unknown keys are allowed (and dropped). A YAML null counts as an absent field.
 */
import { z } from 'zod';
import { FUNCTION_MODES } from './model.js';
import {
  Flag,
  Name,
  NameList,
  Params,
  Status,
  Text,
  TextList,
  evenWithFieldErrors,
  integer,
  issueCode,
  required,
} from './scalars.js';

export const KISTYPES = ['func', 'flow', 'conn', 'global'] as const;
export type KisType = (typeof KISTYPES)[number];

type Ctx = z.RefinementCtx;

/** A name given as `primary` (current dialect) or `alias` (older dialect): one of them is required. */
function nameRequired(primary: string, alias: string) {
  return (doc: Readonly<Record<string, unknown>>, ctx: Ctx): void => {
    if (doc[primary] == null && doc[alias] == null) {
      ctx.addIssue({
        code: 'custom',
        path: [primary],
        message: `required: give ${primary} (or ${alias})`,
        params: issueCode('MISSING_FIELD'),
      });
    }
  };
}

/** Two spellings of one number: when both are given, they must agree. */
function sameWhenBoth(primary: string, alias: string) {
  return (doc: Readonly<Record<string, unknown>>, ctx: Ctx): void => {
    const a = doc[primary];
    const b = doc[alias];
    if (typeof a === 'number' && typeof b === 'number' && a !== b) {
      ctx.addIssue({
        code: 'custom',
        path: [alias],
        message: `${alias} (${b}) disagrees with ${primary} (${a}); give one of them`,
        params: issueCode('INVALID_VALUE'),
      });
    }
  };
}

export const FuncSource = z.object({
  name: Text.nullish(),
  must: TextList.nullish(),
});
export type FuncSource = z.infer<typeof FuncSource>;

export const FuncOption = z
  .object({
    cname: Name.nullish(),
    cid: Name.nullish(),
    retry_times: integer(0).nullish(),
    return_duration: integer(0).nullish(),
    retry_duration: integer(0).nullish(),
    timeout_ms: integer(1).nullish(),
    default_params: Params.nullish(),
  })
  .superRefine(sameWhenBoth('return_duration', 'retry_duration'), evenWithFieldErrors);
export type FuncOption = z.infer<typeof FuncOption>;

export const FuncDoc = z
  .object({
    fname: Name.nullish(),
    fid: Name.nullish(),
    fmode: required(Text.pipe(z.enum(FUNCTION_MODES))),
    source: FuncSource.nullish(),
    option: FuncOption.nullish(),
  })
  .superRefine(nameRequired('fname', 'fid'), evenWithFieldErrors);
export type FuncDoc = z.infer<typeof FuncDoc>;

export const FlowStepDoc = z
  .object({
    fname: Name.nullish(),
    fid: Name.nullish(),
    params: Params.nullish(),
  })
  .superRefine(nameRequired('fname', 'fid'), evenWithFieldErrors);
export type FlowStepDoc = z.infer<typeof FlowStepDoc>;

export const FlowDoc = z
  .object({
    flow_name: Name.nullish(),
    flow_id: Name.nullish(),
    status: Status.nullish(),
    flows: required(z.array(FlowStepDoc).min(1, 'a flow needs at least one function')),
    max_steps: integer(1).nullish(),
  })
  .superRefine(nameRequired('flow_name', 'flow_id'), evenWithFieldErrors);
export type FlowDoc = z.infer<typeof FlowDoc>;

export const ConnDoc = z
  .object({
    cname: Name.nullish(),
    cid: Name.nullish(),
    type: required(Name),
    addrs: Text.nullish(),
    key: Text.nullish(),
    params: Params.nullish(),
    load: NameList.nullish(),
    save: NameList.nullish(),
  })
  .superRefine(nameRequired('cname', 'cid'), evenWithFieldErrors);
export type ConnDoc = z.infer<typeof ConnDoc>;

export const GlobalDoc = z
  .object({
    prometheus_enable: Flag.nullish(),
    prometheus_listen: Flag.nullish(),
    prometheus_serve: Text.nullish(),
  })
  .superRefine((doc, ctx) => {
    if (doc.prometheus_enable === true && doc.prometheus_listen === true && !doc.prometheus_serve) {
      ctx.addIssue({
        code: 'custom',
        path: ['prometheus_serve'],
        message: 'required (host:port) when prometheus_enable and prometheus_listen are true',
        params: issueCode('MISSING_FIELD'),
      });
    }
  });
export type GlobalDoc = z.infer<typeof GlobalDoc>;
