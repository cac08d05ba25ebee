/**
 * The executor and group routes end to end over real HTTP with real executor child processes: a group made
 * through the API gives the token an executor registers with; the executor is listed online with its
 * functions and load; draining it through the API makes it finish, deregister and exit; rotating the token
 * stops the old one from registering anything while the new one works; and only admins may change groups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@kisjobs/testing';
import { serveApi, type ApiUser, type ServedApi } from '../support/http-api.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';

let p: Pipeline;
let api: ServedApi;
let admin: ApiUser;
let operator: ApiUser;

type ExecutorBody = {
  instanceId: string;
  group: string;
  online: boolean;
  draining: boolean;
  functions: string[];
  status: string;
};
type GroupBody = {
  group: { name: string; online: number; total: number; tokenRotatedAt: string | null };
  token: string;
};

beforeAll(async () => {
  p = await startPipeline('e2e-http-executors');
  api = await serveApi(p);
  admin = await api.login('admin');
  operator = await api.login('operator', [p.sceneId]);
});
afterAll(async () => {
  await api?.close();
  await p?.close();
});

describe('groups and executors', () => {
  it('registers an executor with a group token from the API, lists it online, and drains it', async () => {
    const created = await api.call('POST', '/api/groups', {
      token: admin.token,
      body: { name: 'api-made', description: 'made over HTTP' },
    });
    expect(created.status).toBe(201);
    const { group, token } = created.body as GroupBody;
    expect(group).toMatchObject({ name: 'api-made', online: 0, total: 0 });
    expect(token.length).toBeGreaterThan(20);
    const stored = await p.prisma.executorGroup.findUniqueOrThrow({ where: { name: 'api-made' } });
    expect(stored.registrationTokenHash).not.toBeNull();
    expect(stored.registrationTokenHash).not.toContain(token); // only its hash is kept
    const again = await api.call('POST', '/api/groups', { token: admin.token, body: { name: 'api-made' } });
    expect(again.status).toBe(409);

    const executor = await p.spawnExecutor({
      instanceId: 'api-exe-1',
      group: 'api-made',
      token,
      waitOnline: false,
    });
    await waitFor(
      async () => {
        const list = await api.call('GET', '/api/executors?group=api-made&online=true', {
          token: operator.token,
        });
        return (list.body as { items: ExecutorBody[] }).items.length === 1;
      },
      { timeoutMs: 15_000, message: 'executor online' },
    );
    const one = await api.call('GET', '/api/executors/api-exe-1', { token: operator.token });
    const body = one.body as ExecutorBody & { activeRuns: number | null; concurrency: number };
    expect(body).toMatchObject({ group: 'api-made', online: true, draining: false, status: 'online' });
    expect(body.functions).toEqual(expect.arrayContaining(['Source', 'Log', 'Count', 'Spin']));
    expect(body.activeRuns).toBe(0);
    const groups = await api.call('GET', '/api/groups', { token: operator.token });
    expect(
      (groups.body as { items: GroupBody['group'][] }).items.find((g) => g.name === 'api-made'),
    ).toMatchObject({
      online: 1,
      total: 1,
    });

    expect((await api.call('POST', '/api/executors/api-exe-1/drain', { token: operator.token })).status).toBe(
      403,
    );
    const drained = await api.call('POST', '/api/executors/api-exe-1/drain', { token: admin.token });
    expect(drained.status).toBe(202);
    expect(drained.body).toEqual({ instanceId: 'api-exe-1', status: 'draining' });
    const exit = await executor.exit();
    expect(exit.code).toBe(0);
    const after = await api.call('GET', '/api/executors/api-exe-1', { token: admin.token });
    expect((after.body as ExecutorBody).online).toBe(false);
    const audit = await api.call('GET', '/api/audit?action=executors.drain', { token: admin.token });
    expect((audit.body as { items: { target: { id: string } }[] }).items.map((a) => a.target.id)).toContain(
      'api-exe-1',
    );
  });

  it('rotates a group token: the old token registers nothing, the new one works', async () => {
    const { token: old } = (
      await api.call('POST', '/api/groups', { token: admin.token, body: { name: 'rotating' } })
    ).body as GroupBody;
    expect((await api.call('POST', '/api/groups/rotating/token', { token: operator.token })).status).toBe(
      403,
    );
    const rotated = await api.call('POST', '/api/groups/rotating/token', { token: admin.token });
    expect(rotated.status).toBe(200);
    const { token: fresh, group } = rotated.body as GroupBody;
    expect(fresh).not.toBe(old);
    expect(group.tokenRotatedAt).not.toBeNull();
    const refused = await p.spawnExecutor({
      instanceId: 'rot-old',
      group: 'rotating',
      token: old,
      waitOnline: false,
    });
    expect((await refused.exit()).code).toBe(78);
    const accepted = await p.spawnExecutor({
      instanceId: 'rot-new',
      group: 'rotating',
      token: fresh,
      waitOnline: false,
    });
    await waitFor(
      async () =>
        (
          (await api.call('GET', '/api/executors/rot-new', { token: admin.token })).body as
            ExecutorBody | undefined
        )?.online === true,
      { timeoutMs: 15_000, message: 'rot-new online' },
    );
    await accepted.kill('SIGTERM');
  });

  it('refuses bad input naming the field, and unknown names with 404', async () => {
    const bad = await api.call('POST', '/api/groups', {
      token: admin.token,
      body: { name: 'has spaces!', x: 1 },
    });
    expect(bad.status).toBe(400);
    const paths = (
      bad.body as { error: { details: { issues: { path: string }[] } } }
    ).error.details.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['name']));
    expect((await api.call('GET', '/api/groups/nope', { token: admin.token })).status).toBe(404);
    expect((await api.call('POST', '/api/groups/nope/token', { token: admin.token })).status).toBe(404);
    expect((await api.call('GET', '/api/executors/nobody-here', { token: admin.token })).status).toBe(404);
    expect((await api.call('GET', '/api/executors?online=maybe', { token: admin.token })).status).toBe(400);
  });
});
