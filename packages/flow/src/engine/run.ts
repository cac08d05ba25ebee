/**
 * One run of a flow: resolves the step implementations, drives the step loop, calling each function, and
 * turns the outcome into a `FlowRunResult`, with a summary per executed step and the hooks fired.
 * Everything mutable here belongs to this run alone. A class rather than closures: a run is on the hot path
 * (one per job fire, thousands per second), and methods cost nothing to create.
 */
import { performance } from 'node:perf_hooks';
import type { Params } from '../config/model.js';
import type { SignalSource } from './context.js';
import {
  FlowError,
  FunctionNotRegisteredError,
  InputInvalidError,
  messageOf,
  statusForCode,
} from './errors.js';
import type { FlowRunError } from './errors.js';
import { invokeFunction, type ConnectorAccess, type ErasedFunction, type StepProgress } from './invoke.js';
import { withFields } from './logger.js';
import { effectiveParams, type FlowPlan } from './plan.js';
import { runSteps, type StepExecutor, type StepOutcome } from './step-loop.js';
import type {
  EndedBy,
  FlowEndEvent,
  FlowHooks,
  FlowLogger,
  FlowRunResult,
  FunctionSummary,
  MetaMap,
} from './types.js';

/** What runs share: the registry's parts, fixed for the registry's lifetime. */
export interface RunServices {
  readonly functions: ReadonlyMap<string, ErasedFunction>;
  readonly funcMeta: (funcName: string) => MetaMap;
  readonly connectors: ConnectorAccess;
  readonly hooks: FlowHooks | undefined;
  readonly maxSteps: number;
}

export interface ResolvedRunOptions {
  readonly runId: string;
  readonly rows: readonly unknown[];
  readonly signal: AbortSignal | undefined;
  readonly logger: FlowLogger;
  readonly params: Params | undefined;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
}

export function executeRun(
  services: RunServices,
  plan: FlowPlan,
  options: ResolvedRunOptions,
): Promise<FlowRunResult> {
  return new FlowRun(services, plan, options).start();
}

class FlowRun implements StepExecutor, SignalSource {
  readonly #services: RunServices;
  readonly #plan: FlowPlan;
  readonly #options: ResolvedRunOptions;
  readonly #started = performance.now();
  readonly #logger: FlowLogger;
  readonly #functions: FunctionSummary[] = [];
  readonly #meta: MetaMap;
  #defs: readonly ErasedFunction[] = [];
  #signal: AbortSignal | undefined;

  constructor(services: RunServices, plan: FlowPlan, options: ResolvedRunOptions) {
    this.#services = services;
    this.#plan = plan;
    this.#options = options;
    this.#signal = options.signal;
    this.#logger = withFields(options.logger, { runId: options.runId, flow: plan.name });
    this.#meta = options.metadata === undefined ? new Map() : new Map(Object.entries(options.metadata));
  }

  /** The run's signal for handlers: the caller's, or one that never aborts, made on first use. */
  get signal(): AbortSignal {
    this.#signal ??= new AbortController().signal;
    return this.#signal;
  }

  async start(): Promise<FlowRunResult> {
    const { rows } = this.#options;
    const plan = this.#plan;
    if (!Array.isArray(rows)) {
      return this.#fail(
        new InputInvalidError(`the run's rows must be an array, got ${typeof rows}`).toJSON(),
        0,
      );
    }
    const defs: ErasedFunction[] = [];
    for (const step of plan.steps) {
      const def = this.#services.functions.get(step.func.name);
      if (def === undefined) {
        const error = new FunctionNotRegisteredError(
          `flow "${plan.name}" step ${step.index} runs function "${step.func.name}", which has no registered implementation`,
          { funcName: step.func.name, step: step.index },
        );
        return this.#fail(error.toJSON(), 0);
      }
      defs.push(def);
    }
    this.#defs = defs;
    const loop = await runSteps(
      {
        flowName: plan.name,
        stepNames: plan.stepNames,
        maxSteps: plan.maxSteps ?? this.#services.maxSteps,
        firstStepOf: plan.firstStepOf,
        signal: this.#options.signal,
      },
      rows,
      this,
    );
    if (!loop.ok) return this.#fail(loop.error.toJSON(), loop.steps);
    return this.#succeed(loop.endedBy, loop.output, loop.steps);
  }

  async runStep(at: number, input: readonly unknown[]): Promise<StepOutcome> {
    const step = this.#plan.steps[at];
    const def = this.#defs[at];
    if (step === undefined || def === undefined)
      throw new Error(`flow "${this.#plan.name}" has no step ${at}`);
    const func = step.func;
    const progress: StepProgress = { attempts: 0 };
    const stepStarted = performance.now();
    let outcome: StepOutcome | undefined;
    let failure: FlowError | undefined;
    try {
      outcome = await invokeFunction(
        {
          step,
          def,
          input,
          params: effectiveParams(step, this.#options.params),
          run: {
            runId: this.#options.runId,
            flowName: this.#plan.name,
            funcName: func.name,
            mode: func.mode,
            step: at,
          },
          meta: this.#meta,
          funcMeta: this.#services.funcMeta(func.name),
          signal: this.#options.signal,
          signalSource: this,
          logger: withFields(this.#logger, { func: func.name, step: at }),
          connectors: this.#services.connectors,
        },
        progress,
      );
      return outcome;
    } catch (err) {
      if (err instanceof FlowError) failure = err;
      throw err;
    } finally {
      const summary: FunctionSummary = {
        step: at,
        funcName: func.name,
        mode: func.mode,
        rowsIn: input.length,
        rowsOut: outcome === undefined ? 0 : outcome.committed.length,
        durationMs: performance.now() - stepStarted,
        attempts: progress.attempts,
        action: outcome?.action?.kind,
        error: failure === undefined ? undefined : { code: failure.code, message: failure.message },
      };
      this.#functions.push(summary);
      const hook = this.#services.hooks?.onFunctionEnd;
      if (hook !== undefined) {
        try {
          hook({ ...summary, runId: this.#options.runId, flow: this.#plan.name, function: func.name });
        } catch (hookError) {
          this.#hookFailed('onFunctionEnd', hookError);
        }
      }
    }
  }

  #succeed(endedBy: EndedBy, loopOutput: readonly unknown[], steps: number): FlowRunResult {
    const durationMs = performance.now() - this.#started;
    const { runId, rows } = this.#options;
    // The output is the run's own array, unless it is the caller's source rows (a flow of DataReuse steps).
    const output = loopOutput === rows ? [...loopOutput] : (loopOutput as unknown[]);
    this.#logger.debug('flow run ended', { status: 'succeeded', endedBy, steps });
    this.#flowEnd({
      runId,
      flow: this.#plan.name,
      status: 'succeeded',
      endedBy,
      durationMs,
      rows: rows.length,
      rowsOut: output.length,
      steps,
    });
    return {
      ok: true,
      status: 'succeeded',
      endedBy,
      output,
      runId,
      flowName: this.#plan.name,
      functions: this.#functions,
      steps,
      durationMs,
    };
  }

  #fail(error: FlowRunError, steps: number): FlowRunResult {
    const status = statusForCode(error.code);
    const durationMs = performance.now() - this.#started;
    const { runId } = this.#options;
    const rows = Array.isArray(this.#options.rows) ? this.#options.rows.length : 0;
    this.#logger[status === 'cancelled' ? 'info' : 'warn']('flow run ended', {
      status,
      error: error.message,
    });
    this.#flowEnd({ runId, flow: this.#plan.name, status, durationMs, rows, rowsOut: 0, steps, error });
    return {
      ok: false,
      status,
      error,
      runId,
      flowName: this.#plan.name,
      functions: this.#functions,
      steps,
      durationMs,
    };
  }

  #flowEnd(event: FlowEndEvent): void {
    const hook = this.#services.hooks?.onFlowEnd;
    if (hook === undefined) return;
    try {
      hook(event);
    } catch (err) {
      this.#hookFailed('onFlowEnd', err);
    }
  }

  #hookFailed(name: string, err: unknown): void {
    this.#logger.error(`flow hook ${name} threw; ignored`, { error: messageOf(err) });
  }
}
