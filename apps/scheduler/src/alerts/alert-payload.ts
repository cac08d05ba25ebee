/**
 * What an alert says about a run, whatever carries it: the webhook's JSON body and the e-mail's subject and
 * text are both made from an `AlertRun` (the run with its job and scene, read when the delivery is tried).
 */

export interface AlertRun {
  readonly id: string;
  readonly status: string;
  readonly triggerType: string;
  readonly attempt: number;
  readonly scheduledAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly executorInstanceId: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly job: { readonly id: string; readonly name: string; readonly sceneId: string };
  readonly scene: { readonly id: string; readonly name: string } | null;
}

const ENDINGS: Readonly<Record<string, string>> = {
  failed: 'failed',
  timed_out: 'timed out',
  lost: 'was lost',
};

export function webhookBody(run: AlertRun, deliveryId: string, at: Date): string {
  return JSON.stringify({
    event: `run.${run.status}`,
    deliveryId,
    at: at.toISOString(),
    job: { id: run.job.id, name: run.job.name, sceneId: run.job.sceneId },
    run: {
      id: run.id,
      status: run.status,
      triggerType: run.triggerType,
      attempt: run.attempt,
      scheduledAt: run.scheduledAt.toISOString(),
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
      executorInstanceId: run.executorInstanceId,
      error: run.errorMessage === null ? null : { code: run.errorCode, message: run.errorMessage },
    },
  });
}

/** `[KisJobs] nightly-orders: run run_01… failed`. */
export function emailSubject(run: AlertRun): string {
  return `[KisJobs] ${run.job.name}: run ${run.id} ${ENDINGS[run.status] ?? run.status}`;
}

export function emailText(run: AlertRun): string {
  const iso = (date: Date | null): string => date?.toISOString() ?? '-';
  const error =
    run.errorMessage === null
      ? '-'
      : run.errorCode === null
        ? run.errorMessage
        : `${run.errorCode}: ${run.errorMessage}`;
  const lines: [string, string][] = [
    ['Job', `${run.job.name} (${run.job.id})`],
    ['Scene', run.scene === null ? run.job.sceneId : `${run.scene.name} (${run.scene.id})`],
    ['Run', run.id],
    ['Status', run.status],
    ['Error', error],
    ['Trigger', `${run.triggerType}, attempt ${run.attempt}`],
    ['Scheduled', iso(run.scheduledAt)],
    ['Started', iso(run.startedAt)],
    ['Finished', iso(run.finishedAt)],
    ['Executor', run.executorInstanceId ?? '-'],
  ];
  const width = Math.max(...lines.map(([label]) => label.length)) + 2;
  return [
    `Run ${run.id} of job ${run.job.name} ${ENDINGS[run.status] ?? run.status}.`,
    '',
    ...lines.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`),
    '',
    '-- ',
    'Sent by KisJobs because this job alerts on this ending.',
    '',
  ].join('\n');
}
