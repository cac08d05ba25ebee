/**
 * E-mail alert settings and the SMTP failure rules, without a server: the environment names each bad SMTP
 * variable, the password never reaches a description, and a nodemailer error is retried only when the same
 * message may be taken later (4yz, 503, network) and never when it was refused for good (5yz).
 */
import { describe, expect, it } from 'vitest';
import { emailSubject, emailText, type AlertRun } from '../../src/alerts/alert-payload.js';
import { smtpFailure } from '../../src/alerts/email.js';
import { describeSmtpUrl, fromDomain } from '../../src/alerts/smtp-settings.js';
import { parseSchedulerEnv, smtpSettingsOf } from '../../src/env.js';

const DB = { DATABASE_URL: 'postgres://u@h/db' };
const pathsOf = (result: ReturnType<typeof parseSchedulerEnv>): string[] =>
  result.ok ? [] : result.issues.map((i) => i.path);

describe('SMTP settings in the environment', () => {
  it('are off when unset, and read when both are set', () => {
    const off = parseSchedulerEnv(DB);
    expect(off.ok && smtpSettingsOf(off.env)).toBeUndefined();
    const on = parseSchedulerEnv({
      ...DB,
      KISJOBS_SMTP_URL: 'smtps://alerts:s3cret@mail.example.com:465',
      KISJOBS_SMTP_FROM: 'KisJobs <alerts@example.com>',
    });
    expect(on.ok && smtpSettingsOf(on.env)).toEqual({
      url: 'smtps://alerts:s3cret@mail.example.com:465',
      from: 'KisJobs <alerts@example.com>',
    });
    const plain = parseSchedulerEnv({
      ...DB,
      KISJOBS_SMTP_URL: 'smtp://127.0.0.1:2525',
      KISJOBS_SMTP_FROM: 'alerts@example.com',
    });
    expect(plain.ok).toBe(true);
  });

  it('name the variable that is wrong or missing', () => {
    expect(
      pathsOf(
        parseSchedulerEnv({ ...DB, KISJOBS_SMTP_URL: 'http://mail', KISJOBS_SMTP_FROM: 'a@b.example' }),
      ),
    ).toEqual(['KISJOBS_SMTP_URL']);
    expect(
      pathsOf(parseSchedulerEnv({ ...DB, KISJOBS_SMTP_URL: 'smtp://', KISJOBS_SMTP_FROM: 'a@b.example' })),
    ).toEqual(['KISJOBS_SMTP_URL']);
    expect(
      pathsOf(
        parseSchedulerEnv({ ...DB, KISJOBS_SMTP_URL: 'smtp://mail:25', KISJOBS_SMTP_FROM: 'not an address' }),
      ),
    ).toEqual(['KISJOBS_SMTP_FROM']);
    expect(
      pathsOf(
        parseSchedulerEnv({
          ...DB,
          KISJOBS_SMTP_URL: 'smtp://mail:25',
          KISJOBS_SMTP_FROM: 'Ops <a@b.example>\r\nBcc: x@y',
        }),
      ),
    ).toEqual(['KISJOBS_SMTP_FROM']);
    expect(pathsOf(parseSchedulerEnv({ ...DB, KISJOBS_SMTP_URL: 'smtp://mail:25' }))).toEqual([
      'KISJOBS_SMTP_FROM',
    ]);
    expect(pathsOf(parseSchedulerEnv({ ...DB, KISJOBS_SMTP_FROM: 'a@b.example' }))).toEqual([
      'KISJOBS_SMTP_URL',
    ]);
  });

  it('describe the server without its credentials, and make Message-IDs in the sender domain', () => {
    expect(describeSmtpUrl('smtps://alerts:s3cret@mail.example.com:465')).toBe(
      'smtps://mail.example.com:465',
    );
    expect(fromDomain('KisJobs <alerts@Example.com>')).toBe('Example.com');
    expect(fromDomain('alerts@ops.example')).toBe('ops.example');
  });
});

describe('SMTP failures', () => {
  const reply = (responseCode: number, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`reply ${responseCode}`), {
      code: 'EENVELOPE',
      responseCode,
      response: `${responseCode} something`,
      ...extra,
    });

  it('retries a transient reply, a 503 and a network error; not a permanent reply or a bad setting', () => {
    expect(smtpFailure(reply(451))).toEqual({
      ok: false,
      retryable: true,
      error: 'the SMTP server answered: 451 something',
    });
    expect(smtpFailure(reply(421)).retryable).toBe(true);
    expect(smtpFailure(reply(503)).retryable).toBe(true);
    expect(smtpFailure(reply(550)).retryable).toBe(false);
    expect(smtpFailure(reply(535, { code: 'EAUTH' })).retryable).toBe(false);
    // nodemailer's own verdict wins when it gives one.
    expect(smtpFailure(reply(552, { permanent: false })).retryable).toBe(true);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ESOCKET' });
    expect(smtpFailure(refused)).toEqual({
      ok: false,
      retryable: true,
      error: 'connect ECONNREFUSED 127.0.0.1:1',
    });
    expect(smtpFailure(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })).retryable).toBe(true);
    expect(smtpFailure(Object.assign(new Error('no recipients'), { code: 'EENVELOPE' })).retryable).toBe(
      false,
    );
    expect(smtpFailure(Object.assign(new Error('bad option'), { code: 'ECONFIG' })).retryable).toBe(false);
  });
});

describe('the alert e-mail', () => {
  const run: AlertRun = {
    id: 'run_01jabc',
    status: 'timed_out',
    triggerType: 'cron',
    attempt: 2,
    scheduledAt: new Date('2026-03-01T02:00:00.000Z'),
    startedAt: new Date('2026-03-01T02:00:01.000Z'),
    finishedAt: null,
    executorInstanceId: 'box-1',
    errorCode: 'RUN_TIMEOUT',
    errorMessage: 'the run took longer than 300 ms',
    job: { id: 'job_01jxyz', name: 'nightly-orders', sceneId: 'scn_01j' },
    scene: { id: 'scn_01j', name: 'Orders' },
  };

  it('names the job, the run and how it ended; the body holds the run facts', () => {
    expect(emailSubject(run)).toBe('[KisJobs] nightly-orders: run run_01jabc timed out');
    expect(emailSubject({ ...run, status: 'lost' })).toBe(
      '[KisJobs] nightly-orders: run run_01jabc was lost',
    );
    const text = emailText(run);
    expect(text).toContain('Job:       nightly-orders (job_01jxyz)');
    expect(text).toContain('Scene:     Orders (scn_01j)');
    expect(text).toContain('Status:    timed_out');
    expect(text).toContain('Error:     RUN_TIMEOUT: the run took longer than 300 ms');
    expect(text).toContain('Trigger:   cron, attempt 2');
    expect(text).toContain('Scheduled: 2026-03-01T02:00:00.000Z');
    expect(text).toContain('Finished:  -');
    expect(text).toContain('Executor:  box-1');
  });
});
