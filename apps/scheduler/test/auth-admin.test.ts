/**
 * No default credentials (DESIGN §2.7): the first admin comes from the environment only when there is no user
 * at all, or from `createAdmin` (the CLI's `kisjobs admin create`), which generates a strong password when
 * none is given and returns it once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isKisJobsError } from '@kisjobs/protocol';
import { bootstrapAdminFromEnv, createAdmin } from '../src/auth/admin.js';
import { httpEnv, type HttpEnv } from './support/http-env.js';

let env: HttpEnv;
beforeAll(async () => {
  env = await httpEnv('admin');
});
afterAll(async () => {
  await env?.close();
});

const deps = () => ({ prisma: env.prisma, clock: env.clock });
const login = (username: string, password: string) =>
  env.call('POST', '/api/auth/login', { body: { username, password } });

async function issuesOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    if (isKisJobsError(error) && error.code === 'VALIDATION_FAILED') {
      return (error.details as { issues: { path: string }[] }).issues.map((issue) => issue.path);
    }
    throw error;
  }
  throw new Error('expected a validation error');
}

describe('bootstrap from the environment', () => {
  test('nothing is created without the variables: there is no default admin', async () => {
    expect(await bootstrapAdminFromEnv(deps(), {})).toEqual({ created: false, reason: 'not_configured' });
    expect(await env.prisma.user.count()).toBe(0);
    expect((await login('admin', 'admin')).status).toBe(401);
  });

  test('half a configuration or a weak password is refused, naming the variable', async () => {
    expect(await issuesOf(bootstrapAdminFromEnv(deps(), { KISJOBS_ADMIN_USERNAME: 'root' }))).toEqual([
      'KISJOBS_ADMIN_PASSWORD',
    ]);
    expect(
      await issuesOf(
        bootstrapAdminFromEnv(deps(), { KISJOBS_ADMIN_USERNAME: 'root', KISJOBS_ADMIN_PASSWORD: 'short' }),
      ),
    ).toEqual(['KISJOBS_ADMIN_PASSWORD']);
    expect(await env.prisma.user.count()).toBe(0);
  });

  test('creates the first admin when there is no user, and never again', async () => {
    const first = await bootstrapAdminFromEnv(deps(), {
      KISJOBS_ADMIN_USERNAME: 'Root',
      KISJOBS_ADMIN_PASSWORD: 'first admin password',
    });
    expect(first).toMatchObject({ created: true, user: { username: 'root', role: 'admin' } });
    expect((await login('root', 'first admin password')).status).toBe(200);

    const again = await bootstrapAdminFromEnv(deps(), {
      KISJOBS_ADMIN_USERNAME: 'other',
      KISJOBS_ADMIN_PASSWORD: 'another admin password',
    });
    expect(again).toEqual({ created: false, reason: 'users_exist' });
    expect(await env.prisma.user.count()).toBe(1);
    // A restart with the same variables does not reset a password changed since.
    await env.prisma.user.updateMany({ data: { passwordHash: 'changed' } });
    expect(
      await bootstrapAdminFromEnv(deps(), {
        KISJOBS_ADMIN_USERNAME: 'root',
        KISJOBS_ADMIN_PASSWORD: 'first admin password',
      }),
    ).toEqual({
      created: false,
      reason: 'users_exist',
    });
    expect((await env.prisma.user.findFirstOrThrow()).passwordHash).toBe('changed');
  });
});

describe('createAdmin', () => {
  test('without a password it generates a strong one, returned once and stored only hashed', async () => {
    const created = await createAdmin(deps(), { username: 'ops-lead' });
    expect(created.user).toMatchObject({ username: 'ops-lead', role: 'admin', disabled: false });
    expect(created.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const row = await env.prisma.user.findUniqueOrThrow({ where: { username: 'ops-lead' } });
    expect(row.passwordHash).toMatch(/^\$scrypt\$/);
    expect(row.passwordHash).not.toContain(created.generatedPassword ?? '?');
    expect((await login('ops-lead', created.generatedPassword ?? '')).status).toBe(200);
  });

  test('with a password it uses it and returns none', async () => {
    const created = await createAdmin(deps(), {
      username: 'second-admin',
      password: 'chosen admin password',
    });
    expect(created.generatedPassword).toBeUndefined();
    expect((await login('second-admin', 'chosen admin password')).status).toBe(200);
  });

  test('a taken username is 409 ALREADY_EXISTS; invalid input names the field', async () => {
    await expect(createAdmin(deps(), { username: 'ops-lead' })).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
      status: 409,
    });
    expect(await issuesOf(createAdmin(deps(), { username: 'bad name!', password: 'short' }))).toEqual([
      'username',
      'password',
    ]);
  });
});
