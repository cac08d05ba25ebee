/**
 * The two Redis readings behind the detector's ingestion guard and its lease: Redis' own clock (stream
 * entry ids carry it), the age of the oldest entry still in the events stream (processed entries are
 * deleted, so this is the oldest one not yet ingested), and a lease so one replica sweeps at a time.
 */
import type { Redis } from 'ioredis';
import type { Keyspace } from '@kisjobs/protocol';

export async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}

/** The time part of the oldest entry still in the events stream (unprocessed or unacknowledged). */
export async function oldestEventMs(redis: Redis, ks: Keyspace): Promise<number | undefined> {
  const first = await redis.xrange(ks.runEventsStream(), '-', '+', 'COUNT', 1);
  const id = first[0]?.[0];
  return id === undefined ? undefined : Number(id.split('-')[0]);
}

const ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** A renewable lease (SET NX PX), held by `owner` until it stops renewing it for `leaseMs`. */
export class Lease {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #owner: string;
  readonly #leaseMs: number;
  #held = false;

  constructor(redis: Redis, key: string, owner: string, leaseMs: number) {
    this.#redis = redis;
    this.#key = key;
    this.#owner = owner;
    this.#leaseMs = leaseMs;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Takes the lease or renews it; false while another owner holds it. */
  async acquire(): Promise<boolean> {
    this.#held = (await this.#redis.eval(ACQUIRE, 1, this.#key, this.#owner, this.#leaseMs)) === 1;
    return this.#held;
  }

  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    await this.#redis.eval(RELEASE, 1, this.#key, this.#owner).catch(() => undefined);
  }
}
