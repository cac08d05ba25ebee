import { randomBytes } from 'node:crypto';

/** Crockford base32, lowercase: ids sort as their creation time does. */
const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeTime(ms: number): string {
  let out = '';
  let rest = Math.floor(ms);
  for (let i = 0; i < 10; i++) {
    out = alphabet.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) out += alphabet.charAt(byte % 32);
  return out;
}

/**
 * A new id with a type prefix, e.g. `newId('evt')` → `evt_01jd4c2m7q8x5k0c3v9b2n4p6r`. The first ten characters
 * after the prefix encode the creation time in milliseconds, so ids sort roughly by creation; sixteen random
 * characters (80 bits) follow. Deterministic ids (runs of a scheduled fire) are built by the scheduler, not here.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${encodeTime(now)}${encodeRandom(randomBytes(16))}`;
}
