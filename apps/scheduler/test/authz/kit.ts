/**
 * The vocabulary of the authorization matrix (../http-authz-matrix.test.ts): who calls, where (inside or
 * outside the granted scene), what each row expects, and small builders shared by the row modules.
 */
import type { HttpEnv, TestUser } from '../support/http-env.js';

export type Who = 'admin' | 'operator' | 'viewer' | 'anonymous';
export type Where = 'inside' | 'outside';
export type Expect = Readonly<Record<Who, number>>;

export interface Ctx {
  readonly env: HttpEnv;
  /** The standing users: an admin, an operator and a viewer granted the inside scene, a login target. */
  readonly users: Readonly<Record<'admin' | 'operator' | 'viewer' | 'loginTarget', TestUser>>;
  readonly who: Who;
  /** The signed-in user for `who` (undefined for anonymous). */
  readonly user: TestUser | undefined;
  /** The granted scene (inside) or one not granted (outside). */
  readonly sceneId: string;
  fresh(prefix: string): string;
}

export interface Req {
  readonly path: string;
  readonly body?: unknown;
  /** Use this bearer instead of `who`'s (routes that end or change the caller's own session). */
  readonly token?: string;
}

export interface Case {
  readonly method: string;
  readonly request: (ctx: Ctx) => Promise<Req> | Req;
  readonly inside: Expect;
  readonly outside?: Expect;
}

export const all = (status: number): Expect => ({
  admin: status,
  operator: status,
  viewer: status,
  anonymous: status,
});
export const signedIn = (status: number): Expect => ({
  admin: status,
  operator: status,
  viewer: status,
  anonymous: 401,
});
export const adminOnly = (status: number): Expect => ({
  admin: status,
  operator: 403,
  viewer: 403,
  anonymous: 401,
});
export const operate = (status: number): Expect => ({
  admin: status,
  operator: status,
  viewer: 403,
  anonymous: 401,
});
export const ownedByAdmin = (status: number): Expect => ({
  admin: status,
  operator: 403,
  viewer: 403,
  anonymous: 401,
});

/** A throwaway user of `who`'s role (signed in), for routes that change the caller's own account. */
export async function ownUser(ctx: Ctx): Promise<TestUser | undefined> {
  return ctx.who === 'anonymous' ? undefined : ctx.env.user(ctx.who);
}

export async function throwawayUserId(ctx: Ctx): Promise<string> {
  const created = await ctx.env.call('POST', '/api/users', {
    token: ctx.users.admin.token,
    body: { username: ctx.fresh('target'), password: 'target password 1', role: 'viewer' },
  });
  return (created.body as { id: string }).id;
}
