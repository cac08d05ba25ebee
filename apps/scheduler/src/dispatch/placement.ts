/**
 * Where runs go, on top of `chooseRoute`. Pure: the caller passes the candidates (online executors of the
 * job's group that are not draining and implement every function of the flow).
 * - `planFire`: a new trigger; one target, or one per candidate with its shard for `broadcast`.
 * - `planRun`: a run that already exists (a held run advanced, a retry, a redispatch, a reroute). It keeps
 *   its shard; a broadcast shard goes to the `shardIndex mod n`-th candidate in registration order.
 *   `exclude` leaves out one executor (the one a retried run failed on) when another candidate exists.
 */
import type { RoutingStrategy } from '@kisjobs/protocol';
import { chooseRoute, type RoutingCandidate } from './routing.js';

export type Target =
  | { readonly kind: 'group' }
  | { readonly kind: 'direct'; readonly instanceId: string }
  | { readonly kind: 'unroutable'; readonly reason: string };

export interface ShardTarget {
  readonly target: Target;
  readonly shardIndex: number;
  readonly shardTotal: number;
}

export interface RoutingSpec {
  readonly strategy: RoutingStrategy;
  readonly key: string;
  readonly pinnedInstanceId?: string;
}

export function planFire(
  routing: RoutingSpec,
  candidates: readonly RoutingCandidate[],
  counter = 0,
): ShardTarget[] {
  const decision = chooseRoute({
    strategy: routing.strategy,
    candidates,
    key: routing.key,
    counter,
    ...(routing.pinnedInstanceId === undefined ? {} : { pinnedInstanceId: routing.pinnedInstanceId }),
  });
  switch (decision.kind) {
    case 'group':
      return [{ target: { kind: 'group' }, shardIndex: 0, shardTotal: 1 }];
    case 'unroutable':
      return [{ target: decision, shardIndex: 0, shardTotal: 1 }];
    case 'direct':
      return decision.targets.map((t) => ({
        target: { kind: 'direct', instanceId: t.instanceId },
        shardIndex: t.shardIndex,
        shardTotal: t.shardTotal,
      }));
  }
}

export interface PlanRunOptions {
  readonly shardIndex: number;
  readonly counter?: number;
  readonly exclude?: string | null;
  /** When no candidate is left, wait in the group queue instead (never for `pinned`). */
  readonly fallbackToGroup?: boolean;
}

export function planRun(
  routing: RoutingSpec,
  candidates: readonly RoutingCandidate[],
  options: PlanRunOptions,
): Target {
  const exclude = options.exclude ?? undefined;
  const others = exclude === undefined ? candidates : candidates.filter((c) => c.instanceId !== exclude);
  const pool = routing.strategy === 'pinned' || others.length === 0 ? candidates : others;
  const decision = chooseRoute({
    strategy: routing.strategy,
    candidates: pool,
    key: routing.key,
    counter: options.counter ?? 0,
    ...(routing.pinnedInstanceId === undefined ? {} : { pinnedInstanceId: routing.pinnedInstanceId }),
  });
  switch (decision.kind) {
    case 'group':
      return decision;
    case 'unroutable':
      return options.fallbackToGroup === true && routing.strategy !== 'pinned' ? { kind: 'group' } : decision;
    case 'direct': {
      const n = decision.targets.length;
      const picked = decision.targets[routing.strategy === 'broadcast' ? options.shardIndex % n : 0];
      return picked === undefined
        ? { kind: 'unroutable', reason: 'no candidate' }
        : { kind: 'direct', instanceId: picked.instanceId };
    }
  }
}
