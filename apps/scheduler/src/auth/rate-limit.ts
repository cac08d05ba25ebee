/**
 * Login throttling in Redis, shared by every scheduler replica: failed attempts are counted per username and
 * per client IP, each in a fixed window that starts with the first failure. When either count reaches its
 * limit, further attempts are refused with 429 RATE_LIMITED (and `Retry-After`) until that window ends;
 * refused attempts never reach the password check, so they cost no scrypt work.
 *
 * `consume` takes a slot in both counters atomically *before* the password check, so parallel guesses cannot
 * overshoot the limit; a successful login gives its slots back (`succeeded`: the username's count is reset,
 * the IP's decremented). Unknown usernames are counted like known ones: the limiter tells nothing about which
 * names exist. Both keys share the keyspace hash tag, so the script is legal on Redis Cluster.
 *
 * Limits per username protect one account from a distributed guesser; limits per IP protect every account
 * from one guesser spraying names. The price of the first: someone who knows a username can keep its owner
 * locked out for one window at a time (an API token keeps working meanwhile).
 */
import type { Redis } from 'ioredis';
import { sha256Hex } from '@kisjobs/protocol';

export interface Limit {
  readonly max: number;
  readonly windowMs: number;
}

export interface LoginLimits {
  readonly perUser: Limit;
  readonly perIp: Limit;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perUser: { max: 10, windowMs: 15 * 60_000 },
  perIp: { max: 50, windowMs: 15 * 60_000 },
};

/** `{ allowed: true }` or the wait before the next attempt may be made. */
export type Consumed =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export interface LoginRateLimiter {
  consume(username: string, ip: string): Promise<Consumed>;
  succeeded(username: string, ip: string): Promise<void>;
}

// KEYS: user, ip. ARGV: userMax, userWindowMs, ipMax, ipWindowMs. Returns 0 (slot taken) or the wait in ms.
const CONSUME = `
local function wait(key, max, window)
  local n = tonumber(redis.call('GET', key) or '0')
  if n < max then return 0 end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, window); ttl = window end
  return ttl
end
local function take(key, window)
  local n = redis.call('INCR', key)
  if n == 1 or redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
end
local w = math.max(wait(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])), wait(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4])))
if w > 0 then return w end
take(KEYS[1], tonumber(ARGV[2]))
take(KEYS[2], tonumber(ARGV[4]))
return 0
`;

// KEYS: user, ip.
const SUCCEEDED = `
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 0
`;

export function createLoginRateLimiter(options: {
  readonly redis: Redis;
  /** The keyspace hash tag, e.g. `{kisjobs}`. */
  readonly hashTag: string;
  readonly limits?: LoginLimits;
}): LoginRateLimiter {
  const { redis, hashTag } = options;
  const limits = options.limits ?? DEFAULT_LOGIN_LIMITS;
  const keys = (username: string, ip: string): [string, string] => [
    `${hashTag}:ratelimit:login:user:${sha256Hex(username)}`,
    `${hashTag}:ratelimit:login:ip:${sha256Hex(ip)}`,
  ];
  return {
    async consume(username, ip) {
      const [userKey, ipKey] = keys(username, ip);
      const wait = await redis.eval(
        CONSUME,
        2,
        userKey,
        ipKey,
        limits.perUser.max,
        limits.perUser.windowMs,
        limits.perIp.max,
        limits.perIp.windowMs,
      );
      const ms = Number(wait);
      return ms > 0 ? { allowed: false, retryAfterMs: ms } : { allowed: true };
    },
    async succeeded(username, ip) {
      const [userKey, ipKey] = keys(username, ip);
      await redis.eval(SUCCEEDED, 2, userKey, ipKey);
    },
  };
}
