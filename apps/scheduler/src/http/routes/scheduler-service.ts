/** The scheduler facade for routes that act through it (trigger, terminate, schedule, executors). */
import { UnavailableError, type TriggerType } from '@kisjobs/protocol';
import type { Scheduler } from '../../scheduler.js';
import type { RouteDeps } from '../deps.js';

/** The scheduler, or 503 UNAVAILABLE when this app serves the API without one. */
export function schedulerOf(deps: RouteDeps): Scheduler {
  const scheduler = deps.services.scheduler;
  if (scheduler === undefined) throw new UnavailableError('This API server runs without a scheduler');
  return scheduler;
}

/** Who acted, as runs and audit rows record it: the API token when one was used, else the user. */
export function actorOf(principal: {
  readonly userId: string;
  readonly credential: { readonly kind: string; readonly tokenId?: string };
}): string {
  return principal.credential.kind === 'token' && principal.credential.tokenId !== undefined
    ? principal.credential.tokenId
    : principal.userId;
}

/**
 * The trigger type of a run someone asked for over HTTP: `manual` for a person signed in (a login session:
 * the console or the CLI), `api` for a script with an API token.
 */
export function triggerTypeOf(principal: {
  readonly credential: { readonly kind: 'session' | 'token' };
}): Extract<TriggerType, 'manual' | 'api'> {
  return principal.credential.kind === 'session' ? 'manual' : 'api';
}
