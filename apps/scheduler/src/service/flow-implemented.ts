/**
 * Whether a job's flow can run in its executor group: the flow must resolve from the stored configs, and
 * at least one online executor of the group must implement every function of it. Saving a job that fails
 * this is refused with 422 FLOW_NOT_IMPLEMENTED unless the caller allows it (executors may register later).
 */
import { KisJobsError } from '@kisjobs/protocol';
import type { FlowUnavailableError } from '../configs/resolve.js';
import type { Scheduler } from '../scheduler.js';

export interface ImplementationReport {
  readonly ok: boolean;
  /** Why not, for people. */
  readonly message: string;
  /** The flow's functions that no online executor of the group implements. */
  readonly missingFunctions: readonly string[];
  readonly onlineExecutors: number;
}

export async function checkFlowImplemented(
  scheduler: Pick<Scheduler, 'dispatcher' | 'listExecutors'>,
  flowName: string,
  group: string,
): Promise<ImplementationReport> {
  let functions: readonly string[];
  try {
    functions = (await scheduler.dispatcher.flows.resolve(flowName)).functions;
  } catch (error) {
    const reason = (error as Partial<FlowUnavailableError>).reason;
    if (reason === undefined) throw error;
    return {
      ok: false,
      message: `flow ${flowName} cannot run: ${(error as Error).message}`,
      missingFunctions: [],
      onlineExecutors: 0,
    };
  }
  const online = (await scheduler.listExecutors({ group })).filter((e) => e.live && !e.draining);
  if (online.some((e) => functions.every((f) => e.functions.includes(f)))) {
    return { ok: true, message: 'implemented', missingFunctions: [], onlineExecutors: online.length };
  }
  const offered = new Set(online.flatMap((e) => e.functions));
  const missing = functions.filter((f) => !offered.has(f));
  const message =
    online.length === 0
      ? `no executor of group ${group} is online to run flow ${flowName}`
      : missing.length > 0
        ? `no online executor of group ${group} implements ${missing.join(', ')} (flow ${flowName})`
        : `no single online executor of group ${group} implements every function of flow ${flowName}`;
  return { ok: false, message, missingFunctions: missing, onlineExecutors: online.length };
}

export class FlowNotImplementedError extends KisJobsError {
  constructor(report: ImplementationReport, flowName: string, group: string) {
    super('FLOW_NOT_IMPLEMENTED', `${report.message}; pass allowUnimplemented=true to save it anyway`, {
      details: {
        field: 'flowName',
        flowName,
        group,
        missingFunctions: report.missingFunctions,
        onlineExecutors: report.onlineExecutors,
      },
    });
    this.name = 'FlowNotImplementedError';
  }
}
