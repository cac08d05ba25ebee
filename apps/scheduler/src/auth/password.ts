/**
 * Password hashing with scrypt (node:crypto, DESIGN §2.7). Stored form, PHC-like and self-describing:
 *
 *   $scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>
 *
 * The cost parameters travel with each hash, so they can be raised later: `verify` reports `needsRehash`
 * when a stored hash is weaker than the hasher's parameters, and the login rehashes it. Defaults: N = 2^15
 * (32 MiB), r = 8, p = 1, a 16-byte random salt per hash and a 32-byte key: above Django's scrypt defaults
 * (N = 2^14), measured at ~0.1-0.4 s per hash on this project's 2-core machines. Passwords are NFKC-normalised
 * first, so the same text typed on two keyboards hashes the same.
 *
 * Every comparison is constant-time (`timingSafeEqual`). Unknown users are checked against a dummy hash of the
 * same cost (`verifyDummy`), so response time does not tell which usernames exist.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { logN: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Parameters read back from a stored hash are bounded, so a tampered row cannot make a login take minutes. */
const LIMITS = { logN: [10, 20], r: [1, 32], p: [1, 16] } as const;

export interface PasswordVerdict {
  readonly ok: boolean;
  /** The stored hash is weaker than the current parameters: store a new one after a successful login. */
  readonly needsRehash: boolean;
}

export interface PasswordHasher {
  readonly params: ScryptParams;
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<PasswordVerdict>;
  /** Spends the same time as `verify` and always fails: for unknown users. */
  verifyDummy(password: string): Promise<false>;
}

export function createPasswordHasher(params: ScryptParams = DEFAULT_SCRYPT_PARAMS): PasswordHasher {
  assertParams(params);
  let dummy: Promise<string> | undefined;
  const hash = async (password: string): Promise<string> => {
    const salt = randomBytes(SALT_BYTES);
    const key = await derive(password, salt, params);
    return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
  };
  return {
    params,
    hash,
    async verify(password, stored) {
      const parsed = parseHash(stored);
      if (parsed === undefined) {
        await this.verifyDummy(password);
        return { ok: false, needsRehash: false };
      }
      const key = await derive(password, parsed.salt, parsed.params);
      const ok = key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
      const weaker =
        parsed.params.logN < params.logN || parsed.params.r < params.r || parsed.params.p < params.p;
      return { ok, needsRehash: ok && weaker };
    },
    async verifyDummy(password) {
      dummy ??= hash('kisjobs dummy password for unknown users');
      const parsed = parseHash(await dummy);
      if (parsed !== undefined) {
        const key = await derive(password, parsed.salt, parsed.params);
        timingSafeEqual(key, parsed.key);
      }
      return false;
    },
  };
}

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const HASH_PATTERN =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export function parseHash(stored: string): ParsedHash | undefined {
  const match = HASH_PATTERN.exec(stored);
  if (match === null) return undefined;
  const params = { logN: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (!withinLimits(params)) return undefined;
  const salt = Buffer.from(match[4] ?? '', 'base64');
  const key = Buffer.from(match[5] ?? '', 'base64');
  if (salt.length < 8 || key.length < 16) return undefined;
  return { params, salt, key };
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = {
    N,
    r: params.r,
    p: params.p,
    maxmem: 128 * N * params.r * (params.p + 1) + 4_194_304,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, options, (error, key) => {
      if (error === null) resolve(key);
      else reject(error);
    });
  });
}

function withinLimits(params: ScryptParams): boolean {
  return (
    params.logN >= LIMITS.logN[0] &&
    params.logN <= LIMITS.logN[1] &&
    params.r >= LIMITS.r[0] &&
    params.r <= LIMITS.r[1] &&
    params.p >= LIMITS.p[0] &&
    params.p <= LIMITS.p[1]
  );
}

function assertParams(params: ScryptParams): void {
  if (!withinLimits(params)) {
    throw new RangeError(
      `scrypt parameters out of range: ${JSON.stringify(params)} (limits ${JSON.stringify(LIMITS)})`,
    );
  }
}

/** A strong random password for `createAdmin` and the dev stack: 24 base64url characters (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
