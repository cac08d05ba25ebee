import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256, sha256Hex, tokenHash, newSecretToken, SECRET_TOKEN_PREFIX } from '@kisjobs/protocol';

const reference = (input: string | Uint8Array): string => createHash('sha256').update(input).digest('hex');

describe('sha256', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('matches node:crypto across block boundaries and for UTF-8 text', () => {
    for (let length = 0; length <= 200; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length * 7) & 0xff);
      expect(sha256Hex(bytes)).toBe(reference(bytes));
    }
    for (const text of ['é', '定时任务', '🚀 launch', 'a'.repeat(1_000_003)]) {
      expect(sha256Hex(text)).toBe(reference(text));
    }
    expect(sha256('abc')).toHaveLength(32);
  });
});

describe('secret tokens', () => {
  it('are random, prefixed, and hashed to 64 hex characters', () => {
    const a = newSecretToken();
    const b = newSecretToken();
    expect(a).not.toBe(b);
    expect(a).toMatch(new RegExp(`^${SECRET_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`));
    expect(tokenHash(a)).toBe(reference(a));
    expect(tokenHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});
