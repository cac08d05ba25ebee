import type { FlowHooks } from './types.js';

/** One FlowHooks that calls each of `hooks` in order (a registry takes one). */
export function combineHooks(...hooks: readonly FlowHooks[]): FlowHooks {
  const functionEnds = hooks.flatMap((h) => (h.onFunctionEnd === undefined ? [] : [h.onFunctionEnd]));
  const flowEnds = hooks.flatMap((h) => (h.onFlowEnd === undefined ? [] : [h.onFlowEnd]));
  return {
    onFunctionEnd:
      functionEnds.length === 0
        ? undefined
        : (event) => {
            for (const hook of functionEnds) hook(event);
          },
    onFlowEnd:
      flowEnds.length === 0
        ? undefined
        : (event) => {
            for (const hook of flowEnds) hook(event);
          },
  };
}
