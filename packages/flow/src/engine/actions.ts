/**
 * Actions: how a function steers its flow. A handler returns one, or nothing (carry on as usual).
 */

export type FlowAction =
  | { readonly kind: 'DataReuse' }
  | { readonly kind: 'ForceEntryNext' }
  | { readonly kind: 'JumpFunc'; readonly target: string }
  | { readonly kind: 'Abort' };

export type FlowActionKind = FlowAction['kind'];

const DATA_REUSE: FlowAction = Object.freeze({ kind: 'DataReuse' });
const FORCE_ENTRY_NEXT: FlowAction = Object.freeze({ kind: 'ForceEntryNext' });
const ABORT: FlowAction = Object.freeze({ kind: 'Abort' });

export const actions = {
  /** The next function receives this function's input; this function's commits are dropped. */
  dataReuse: (): FlowAction => DATA_REUSE,
  /** Continue with the next function even if this one committed nothing (it receives the commits). */
  forceEntryNext: (): FlowAction => FORCE_ENTRY_NEXT,
  /** Continue at the first step running function `name`; it reads its own predecessor's last output. */
  jump: (name: string): FlowAction => Object.freeze({ kind: 'JumpFunc', target: name }),
  /** Stop the flow successfully after this function; its commits are the run's output. */
  abort: (): FlowAction => ABORT,
} as const;

/** A handler's return value, checked at run time (JavaScript callers can return anything). */
export function parseAction(value: unknown): FlowAction | undefined | 'invalid' {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') return 'invalid';
  const kind: unknown = (value as { kind?: unknown }).kind;
  switch (kind) {
    case 'DataReuse':
      return DATA_REUSE;
    case 'ForceEntryNext':
      return FORCE_ENTRY_NEXT;
    case 'Abort':
      return ABORT;
    case 'JumpFunc': {
      const target: unknown = (value as { target?: unknown }).target;
      return typeof target === 'string' ? { kind: 'JumpFunc', target } : 'invalid';
    }
    default:
      return 'invalid';
  }
}
