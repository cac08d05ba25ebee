/**
 * The authorization policy, declared on every route and enforced in one place (http/adapter.ts):
 *
 *   access: { public: true }                                    no credentials needed
 *   access: { action: 'read' | 'operate' | 'admin' }             a role check only (lists filter by scene)
 *   access: { action, scene: (req) => req.params.id }            ...and the scene named by the request
 *   access: { action, scene: 'from-resource' }                  ...and the scene of the resource the handler
 *                                                                loads: it calls `req.access.requireScene()`
 *
 * Roles: viewers read; operators read and operate (trigger, terminate, edit jobs, pause scenes); admins do
 * everything, including users, scenes and executor groups. Viewers and operators act only inside the scenes
 * granted to them; admins in every scene. This file is pure: `decide` is table-tested in auth-policy.test.ts.
 */
import { ForbiddenError, UnauthenticatedError, type KisJobsError, type Role } from '@kisjobs/protocol';
import { canSeeScene, type Principal } from './principal.js';

export const ACTIONS = ['read', 'operate', 'admin'] as const;
export type Action = (typeof ACTIONS)[number];

export interface PublicAccess {
  readonly public: true;
}

/** Where the scene a request acts in comes from. */
export type SceneRule<Req> = 'from-resource' | ((req: Req) => string | null);

export interface ProtectedAccess<Req> {
  readonly action: Action;
  /** Absent: the route is not about one scene (a listing filters with `visibleSceneIds` instead). */
  readonly scene?: SceneRule<Req>;
}

export type AccessPolicy<Req> = PublicAccess | ProtectedAccess<Req>;

export function isPublic<Req>(access: AccessPolicy<Req>): access is PublicAccess {
  return 'public' in access;
}

/** Whether a role may perform an action at all (before looking at scenes). */
export function roleAllows(role: Role, action: Action): boolean {
  switch (action) {
    case 'read':
      return true;
    case 'operate':
      return role === 'admin' || role === 'operator';
    case 'admin':
      return role === 'admin';
  }
}

export type Decision = { readonly allow: true } | { readonly allow: false; readonly error: KisJobsError };

const ALLOW: Decision = { allow: true };

/** The role check: 401 without a principal, 403 FORBIDDEN when the role may not perform the action. */
export function decideRole(principal: Principal | null, action: Action): Decision {
  if (principal === null) return { allow: false, error: new UnauthenticatedError() };
  if (!roleAllows(principal.role, action)) {
    return {
      allow: false,
      error: new ForbiddenError(
        `The ${principal.role} role may not ${action === 'admin' ? 'administer' : action}`,
        'FORBIDDEN',
        {
          role: principal.role,
          action,
        },
      ),
    };
  }
  return ALLOW;
}

/** The scene check: 403 SCENE_ACCESS_DENIED unless the scene is granted (or the principal is an admin). */
export function decideScene(principal: Principal, sceneId: string | null): Decision {
  if (canSeeScene(principal, sceneId)) return ALLOW;
  return {
    allow: false,
    error: new ForbiddenError(
      sceneId === null
        ? 'Only admins may access resources outside every scene'
        : `No access to scene ${sceneId}`,
      'SCENE_ACCESS_DENIED',
      { sceneId },
    ),
  };
}

/** Both checks, for a request whose scene is known. */
export function decide(principal: Principal | null, action: Action, sceneId?: string | null): Decision {
  const role = decideRole(principal, action);
  if (!role.allow || principal === null || sceneId === undefined) return role;
  return decideScene(principal, sceneId);
}
