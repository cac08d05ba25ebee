/**
 * One step of a run: check the input (`source.must`, then the typed schema), reach the connector, then call
 * the handler with retries (`retryTimes`, `retryDelayMs`) and a per-attempt timeout (`timeoutMs`).
 */
import type { ConnConfig, Params } from '../config/model.js';
import { parseAction } from './actions.js';
import { StepContext, type SignalSource } from './context.js';
import {
  CancelledError,
  ConnectorNotFoundError,
  FlowError,
  FunctionFailedError,
  FunctionTimeoutError,
  InputInvalidError,
  NonRetryableError,
  SourceMustMissingError,
  messageOf,
} from './errors.js';
import type { StepPlan } from './plan.js';
import { validateRows } from './rows.js';
import type { StepOutcome } from './step-loop.js';
import { linkedController, sleep } from './timing.js';
import type { AnyFunctionDefinition, Connector, FlowLogger, MetaMap, RunIdentity } from './types.js';

/** A registered function with its row and connector types erased (the engine checks both at run time). */
export type ErasedFunction = AnyFunctionDefinition;

export interface ConnectorAccess {
  acquire(
    conf: ConnConfig,
    who: { funcName: string; step: number },
    signal: AbortSignal | undefined,
  ): Promise<Connector>;
  meta(connName: string): MetaMap;
  config(connName: string): ConnConfig | undefined;
}

export interface StepCall {
  readonly step: StepPlan;
  readonly def: ErasedFunction;
  readonly input: readonly unknown[];
  readonly params: Params;
  readonly run: RunIdentity;
  readonly meta: MetaMap;
  readonly funcMeta: MetaMap;
  /** The caller's signal, if any (checked for cancellation). */
  readonly signal: AbortSignal | undefined;
  /** Hands out the run's signal to handlers (created on first use when the caller gave none). */
  readonly signalSource: SignalSource;
  readonly logger: FlowLogger;
  readonly connectors: ConnectorAccess;
}

/** Filled in as the step goes, so a failure still reports how many handler attempts it made. */
export interface StepProgress {
  attempts: number;
}

export async function invokeFunction(call: StepCall, progress: StepProgress): Promise<StepOutcome> {
  const { step, def, input } = call;
  const func = step.func;
  const who = { funcName: func.name, step: step.index };
  if (def.checkSourceMust !== false) {
    const missing = step.checkSourceMust(input);
    if (missing !== undefined) {
      const what = missing.notObject
        ? `is not an object (source.must requires "${func.source.must.join('", "')}")`
        : `is missing field "${missing.field}" required by source.must`;
      throw new SourceMustMissingError(
        `function "${func.name}" (step ${step.index}): input row ${missing.rowIndex} ${what}`,
        { ...who, rowIndex: missing.rowIndex, field: missing.field },
      );
    }
  }
  let rows = input;
  if (def.input !== undefined) {
    const checked = await validateRows(def.input, input);
    if (!checked.ok) {
      const at = checked.path === '' ? '' : ` at "${checked.path}"`;
      throw new InputInvalidError(
        `function "${func.name}" (step ${step.index}): input row ${checked.rowIndex} is invalid${at}: ${checked.message}`,
        { ...who, rowIndex: checked.rowIndex, field: checked.path === '' ? undefined : checked.path },
      );
    }
    rows = checked.rows;
  }
  let connector: Connector | undefined;
  let connMeta: MetaMap | undefined;
  if (func.connectorName !== undefined) {
    const conf = call.connectors.config(func.connectorName);
    if (conf === undefined) {
      throw new ConnectorNotFoundError(
        `function "${func.name}" names connector "${func.connectorName}", which is not loaded`,
        who,
      );
    }
    if (def.connector !== undefined && def.connector.type !== conf.type) {
      throw new ConnectorNotFoundError(
        `function "${func.name}" expects a "${def.connector.type}" connector, but "${conf.name}" is of type "${conf.type}"`,
        who,
      );
    }
    connector = await call.connectors.acquire(conf, who, call.signal);
    connMeta = call.connectors.meta(conf.name);
  }

  const maxAttempts = func.retryTimes + 1;
  for (let attempt = 1; ; attempt++) {
    progress.attempts = attempt;
    let failure: FlowError;
    let retryable: boolean;
    try {
      return await attemptOnce(call, rows, connector, connMeta, attempt, maxAttempts);
    } catch (err) {
      if (call.signal?.aborted === true) {
        throw new CancelledError(`run cancelled during function "${func.name}" (step ${step.index})`, {
          ...who,
          cause: call.signal.reason,
        });
      }
      if (err instanceof FlowError) {
        failure = err;
        retryable = err instanceof FunctionTimeoutError;
      } else {
        const tries = attempt > 1 ? ` (attempt ${attempt} of ${maxAttempts})` : '';
        failure = new FunctionFailedError(
          `function "${func.name}" (step ${step.index}) failed${tries}: ${messageOf(err)}`,
          { ...who, cause: err },
        );
        retryable = !(err instanceof NonRetryableError);
      }
    }
    if (!retryable || attempt >= maxAttempts) throw failure;
    call.logger.warn('function attempt failed; retrying', {
      attempt,
      maxAttempts,
      retryDelayMs: func.retryDelayMs,
      error: failure.message,
    });
    if (func.retryDelayMs > 0) {
      await sleep(
        func.retryDelayMs,
        call.signal,
        () => new CancelledError(`run cancelled while retrying function "${func.name}"`, who),
      );
    }
  }
}

async function attemptOnce(
  call: StepCall,
  rows: readonly unknown[],
  connector: Connector | undefined,
  connMeta: MetaMap | undefined,
  attempt: number,
  maxAttempts: number,
): Promise<StepOutcome> {
  const func = call.step.func;
  const timeoutMs = func.timeoutMs;
  const linked = timeoutMs === undefined ? undefined : linkedController(call.signal);
  const ctx = new StepContext({
    rows,
    params: call.params,
    connector,
    connMeta,
    meta: call.meta,
    funcMeta: call.funcMeta,
    logger: call.logger,
    signal: linked?.controller.signal,
    signalSource: call.signalSource,
    run: call.run,
  });
  let timer: NodeJS.Timeout | undefined;
  let sealed = false;
  try {
    let value: unknown;
    if (linked === undefined || timeoutMs === undefined) {
      // A synchronous handler's result is used as is: no extra trip through the microtask queue.
      value = call.def.handler(ctx);
      if (isThenable(value)) value = await value;
    } else {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = new FunctionTimeoutError(
            `function "${func.name}" (step ${call.step.index}) timed out after ${timeoutMs} ms (attempt ${attempt} of ${maxAttempts})`,
            { funcName: func.name, step: call.step.index },
          );
          linked.controller.abort(err);
          reject(err);
        }, timeoutMs);
      });
      value = await Promise.race([Promise.resolve().then(() => call.def.handler(ctx)), timedOut]);
    }
    const action = parseAction(value);
    if (action === 'invalid') {
      throw new FunctionFailedError(
        `function "${func.name}" (step ${call.step.index}) returned something that is not an action`,
        { funcName: func.name, step: call.step.index },
      );
    }
    sealed = true;
    return { action, input: call.input, committed: ctx.seal() };
  } finally {
    if (!sealed) ctx.seal();
    if (timer !== undefined) clearTimeout(timer);
    linked?.dispose();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
