/**
 * E-mail alerts on a scheduler without SMTP settings: a job naming addresses is still saved (its alerts stay
 * as written, and the answer warns `ALERTS_EMAIL_OFF`), and when one of its runs fails each address gets a
 * delivery row recorded `failed` at once, its last error naming the missing settings; nothing is retried.
 * Bad addresses and too many of them are refused by field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@kisjobs/protocol';
import { EMAIL_OFF_ERROR } from '../../src/alerts/notifier.js';
import { httpEnv, type HttpEnv, type TestUser } from '../support/http-env.js';

let env: HttpEnv;
let admin: TestUser;
let sceneId: string;

beforeAll(async () => {
  env = await httpEnv('alerts-email-off', { scheduler: true });
  admin = await env.user('admin');
  sceneId = await env.scene('email-off');
  await env.scheduler?.createGroup({ name: 'mailers' });
});
afterAll(async () => {
  await env?.close();
});

const jobBody = (name: string, alerts?: unknown) => ({
  name,
  sceneId,
  flowName: 'etl',
  group: 'mailers',
  schedule: { type: 'manual' },
  ...(alerts === undefined ? {} : { alerts }),
});
const create = (body: unknown) =>
  env.call('POST', '/api/jobs?allowUnimplemented=true', { token: admin.token, body });

async function failedRun(jobId: string): Promise<string> {
  const now = new Date();
  const run = await env.prisma.run.create({
    data: {
      id: newId('run', now),
      jobId,
      sceneId,
      flowName: 'etl',
      status: 'failed',
      triggerType: 'manual',
      scheduledAt: now,
      startedAt: now,
      finishedAt: now,
      errorCode: 'FUNCTION_FAILED',
      errorMessage: 'the data is bad',
    },
  });
  return run.id;
}

describe('e-mail alerts without SMTP settings', () => {
  it('saves the job with a warning, and records each address failed, saying why', async () => {
    expect(env.scheduler?.alerts.emailEnabled).toBe(false);
    const to = ['ops@example.com', 'oncall@example.org'];
    const created = await create(jobBody('mailed', { on: ['failed'], email: { to } }));
    expect(created.status).toBe(201);
    const warning = created.headers.get('x-kisjobs-warning') ?? '';
    expect(warning).toMatch(/^FLOW_NOT_IMPLEMENTED: .*, ALERTS_EMAIL_OFF: .*KISJOBS_SMTP_URL/);
    const job = created.body as { id: string; alerts: unknown };
    expect(job.alerts).toEqual({ on: ['failed'], webhook: null, email: { to } });

    const runId = await failedRun(job.id);
    expect(await env.scheduler?.alerts.enqueue([runId])).toBe(2);
    expect(await env.scheduler?.alerts.enqueue([runId])).toBe(0); // once per run, channel and target
    const rows = await env.prisma.alertDelivery.findMany({ where: { runId }, orderBy: { target: 'asc' } });
    expect(
      rows.map((r) => ({
        channel: r.channel,
        target: r.target,
        status: r.status,
        attempts: r.attempts,
        next: r.nextAttemptAt,
      })),
    ).toEqual(
      [...to]
        .sort()
        .map((target) => ({ channel: 'email', target, status: 'failed', attempts: 0, next: null })),
    );
    expect(rows.every((r) => r.lastError === EMAIL_OFF_ERROR)).toBe(true);
    expect(EMAIL_OFF_ERROR).toContain('KISJOBS_SMTP_URL');
    expect(await env.scheduler?.alerts.deliverDue()).toBe(0); // nothing is left to send
  });

  it('warns on an update that adds addresses, and not on a job without them', async () => {
    const plain = await create(jobBody('plain'));
    expect(plain.status).toBe(201);
    expect(plain.headers.get('x-kisjobs-warning') ?? '').not.toContain('ALERTS_EMAIL_OFF');
    const id = (plain.body as { id: string }).id;
    const patched = await env.call('PATCH', `/api/jobs/${id}`, {
      token: admin.token,
      body: { alerts: { email: { to: ['ops@example.com'] } } },
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('x-kisjobs-warning')).toMatch(/^ALERTS_EMAIL_OFF: /);
    const renamed = await env.call('PATCH', `/api/jobs/${id}`, {
      token: admin.token,
      body: { description: 'no alert change' },
    });
    expect(renamed.headers.get('x-kisjobs-warning')).toBeNull();
  });

  it('refuses bad addresses and more than 20 of them, by field, saving nothing', async () => {
    const bad = await create(
      jobBody('bad-address', { email: { to: ['ops@example.com', 'not-an-address'] } }),
    );
    expect(bad.status).toBe(400);
    const issues = (bad.body as { error: { details: { issues: { path: string }[] } } }).error.details.issues;
    expect(issues.map((i) => i.path)).toEqual(['alerts.email.to[1]']);
    const many = Array.from({ length: 21 }, (_, i) => `ops${i}@example.com`);
    const tooMany = await create(jobBody('too-many', { email: { to: many } }));
    expect(tooMany.status).toBe(400);
    expect(tooMany.text).toContain('alerts.email.to');
    const empty = await create(jobBody('empty', { email: { to: [] } }));
    expect(empty.status).toBe(400);
    expect(
      await env.prisma.job.count({ where: { name: { in: ['bad-address', 'too-many', 'empty'] } } }),
    ).toBe(0);
  });
});
