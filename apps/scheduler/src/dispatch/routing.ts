/**
 * Routing choice (DESIGN §3): which executor(s) of a group get a run. Pure: the caller passes the
 * candidates (online executors that implement every function of the flow) and any state it keeps.
 */
import { createHash } from 'node:crypto';
import type { RoutingStrategy } from '@kisjobs/protocol';

export type { RoutingStrategy };

export interface RoutingCandidate {
  readonly instanceId: string;
  /** Registration time, ms since epoch: the stable order for failover. */
  readonly registeredAt: number;
}

export interface RoutingInput {
  readonly strategy: RoutingStrategy;
  readonly candidates: readonly RoutingCandidate[];
  /** consistent_hash: the sticky key. */
  readonly key?: string;
  /** round_robin: a counter that increases by one per dispatch of the job. */
  readonly counter?: number;
  /** pinned: the named executor. */
  readonly pinnedInstanceId?: string;
}

export type RoutingDecision =
  /** Enqueue on the group's shared queue: the first free executor takes it. */
  | { readonly kind: 'group' }
  /** Enqueue on these executors' direct queues; broadcast gives one run per target with its shard. */
  | {
      readonly kind: 'direct';
      readonly targets: readonly {
        readonly instanceId: string;
        readonly shardIndex: number;
        readonly shardTotal: number;
      }[];
    }
  | { readonly kind: 'unroutable'; readonly reason: string };

const stableOrder = (candidates: readonly RoutingCandidate[]): RoutingCandidate[] =>
  [...candidates].sort((a, b) => a.registeredAt - b.registeredAt || a.instanceId.localeCompare(b.instanceId));

/** Rendezvous (highest random weight) hashing: adding or removing one executor moves only its keys. */
export function rendezvousPick(
  key: string,
  candidates: readonly RoutingCandidate[],
): RoutingCandidate | undefined {
  let best: RoutingCandidate | undefined;
  let bestWeight = -1n;
  for (const candidate of candidates) {
    const digest = createHash('sha256').update(`${key}\u0000${candidate.instanceId}`).digest();
    const weight = digest.readBigUInt64BE(0);
    if (
      weight > bestWeight ||
      (weight === bestWeight && best !== undefined && candidate.instanceId < best.instanceId)
    ) {
      best = candidate;
      bestWeight = weight;
    }
  }
  return best;
}

const single = (instanceId: string): RoutingDecision => ({
  kind: 'direct',
  targets: [{ instanceId, shardIndex: 0, shardTotal: 1 }],
});

export function chooseRoute(input: RoutingInput): RoutingDecision {
  const { candidates } = input;
  switch (input.strategy) {
    case 'any':
      // The shared group queue works even when no executor is online yet: the run waits for one.
      return { kind: 'group' };
    case 'pinned': {
      const target = input.pinnedInstanceId;
      if (target === undefined)
        return { kind: 'unroutable', reason: 'pinned routing needs an executor instance id' };
      if (!candidates.some((c) => c.instanceId === target)) {
        return {
          kind: 'unroutable',
          reason: `pinned executor ${target} is not online or does not implement the flow`,
        };
      }
      return single(target);
    }
    case 'round_robin': {
      const ordered = stableOrder(candidates);
      if (ordered.length === 0)
        return { kind: 'unroutable', reason: 'no online executor implements the flow' };
      const counter = input.counter ?? 0;
      const picked = ordered[((counter % ordered.length) + ordered.length) % ordered.length];
      return picked === undefined
        ? { kind: 'unroutable', reason: 'no candidate' }
        : single(picked.instanceId);
    }
    case 'failover': {
      const first = stableOrder(candidates)[0];
      return first === undefined
        ? { kind: 'unroutable', reason: 'no online executor implements the flow' }
        : single(first.instanceId);
    }
    case 'consistent_hash': {
      const picked = rendezvousPick(input.key ?? '', candidates);
      return picked === undefined
        ? { kind: 'unroutable', reason: 'no online executor implements the flow' }
        : single(picked.instanceId);
    }
    case 'broadcast': {
      const ordered = stableOrder(candidates);
      if (ordered.length === 0)
        return { kind: 'unroutable', reason: 'no online executor implements the flow' };
      return {
        kind: 'direct',
        targets: ordered.map((c, shardIndex) => ({
          instanceId: c.instanceId,
          shardIndex,
          shardTotal: ordered.length,
        })),
      };
    }
  }
}
