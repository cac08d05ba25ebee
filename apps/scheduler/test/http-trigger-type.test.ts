/**
 * `POST /api/jobs/:id/trigger` records who asked in the run's trigger type: `manual` for a person signed in
 * with a login session (the console, the CLI after `kisjobs login`), `api` for a script with an API token;
 * `triggeredBy` is the user, or the token.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpEnv, type HttpEnv, type TestUser } from './support/http-env.js';

let env: HttpEnv;
let operator: TestUser;
let jobId: string;

beforeAll(async () => {
  // No executor runs here: the run is recorded and put on the group's queue, which is all this looks at.
  env = await httpEnv('trigger-type', {
    scheduler: { dispatch: { sweepIntervalMs: 3_600_000, firstSweepAfterMs: 3_600_000 } },
  });
  const scheduler = env.scheduler;
  if (scheduler === undefined) throw new Error('runs with a scheduler');
  const sceneId = await env.scene('trigger-type');
  operator = await env.user('operator', [sceneId]);
  await scheduler.createGroup({ name: 'trigger-type' });
  await scheduler.putConfigDocuments([
    {
      file: 'trigger-type.yml',
      text: [
        'kistype: func\nfname: TriggerTypeFn\nfmode: Calculate\nsource:\n  name: t\n  must: []\n',
        'kistype: flow\nflow_name: trigger-type-flow\nflows:\n  - fname: TriggerTypeFn\n',
      ].join('---\n'),
    },
  ]);
  const job = await scheduler.createJob({
    name: 'trigger-type-job',
    sceneId,
    flowName: 'trigger-type-flow',
    group: 'trigger-type',
    schedule: { type: 'manual' },
  });
  jobId = job.id;
});
afterAll(async () => {
  await env?.close();
});

interface Triggered {
  runIds: string[];
  outcome: string;
}

async function trigger(token: string): Promise<{ triggerType: string; triggeredBy: string | null }> {
  const fired = await env.call('POST', `/api/jobs/${jobId}/trigger`, { token, body: { params: { k: 'v' } } });
  expect(fired.status).toBe(202);
  const [runId] = (fired.body as Triggered).runIds;
  const run = await env.call('GET', `/api/runs/${runId ?? ''}`, { token: operator.token });
  expect(run.status).toBe(200);
  return run.body as { triggerType: string; triggeredBy: string | null };
}

describe('the trigger type of an HTTP trigger', () => {
  test('a signed-in user (login session) triggers `manual` runs, triggered by the user', async () => {
    expect(await trigger(operator.token)).toMatchObject({ triggerType: 'manual', triggeredBy: operator.id });
  });

  test('an API token triggers `api` runs, triggered by the token', async () => {
    const created = await env.call('POST', '/api/tokens', { token: operator.token, body: { name: 'ci' } });
    expect(created.status).toBe(201);
    const { token, secret } = created.body as { token: { id: string }; secret: string };
    expect(await trigger(secret)).toMatchObject({ triggerType: 'api', triggeredBy: token.id });
  });

  test('the listing tells them apart', async () => {
    const manual = await env.call('GET', `/api/runs?jobId=${jobId}&triggerType=manual`, {
      token: operator.token,
    });
    const api = await env.call('GET', `/api/runs?jobId=${jobId}&triggerType=api`, { token: operator.token });
    expect((manual.body as { items: unknown[] }).items).toHaveLength(1);
    expect((api.body as { items: unknown[] }).items).toHaveLength(1);
  });
});
