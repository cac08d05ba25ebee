/**
 * Who a request acts for: the session or API token, with the user's role and scene grants as Postgres holds
 * them. Reused for at most a couple of seconds within a process (principal-cache.ts); a role change or a
 * revoked grant made through this process takes effect on the next request, one made elsewhere within that TTL.
 */
import type { Role } from '@kisjobs/protocol';

export type Credential =
  | { readonly kind: 'session'; readonly sessionId: string; readonly expiresAt: Date }
  | { readonly kind: 'token'; readonly tokenId: string; readonly expiresAt: Date | null };

export interface Principal {
  readonly userId: string;
  readonly username: string;
  readonly role: Role;
  /** The scenes granted to the user (admins see every scene regardless). */
  readonly grantedSceneIds: readonly string[];
  readonly credential: Credential;
}

/**
 * The scenes a principal may see: `'all'` for admins, else the granted ones. Every listing filters with it
 * (an empty list matches nothing).
 */
export function visibleSceneIds(principal: Principal): 'all' | readonly string[] {
  return principal.role === 'admin' ? 'all' : principal.grantedSceneIds;
}

/** The `sceneIds` filter for a repository listing: undefined (no filter) for admins. */
export function sceneFilterOf(principal: Principal): readonly string[] | undefined {
  const visible = visibleSceneIds(principal);
  return visible === 'all' ? undefined : visible;
}

/** Whether the principal may see things in `sceneId` (null: in no scene, which only admins see). */
export function canSeeScene(principal: Principal, sceneId: string | null): boolean {
  if (principal.role === 'admin') return true;
  return sceneId !== null && principal.grantedSceneIds.includes(sceneId);
}
