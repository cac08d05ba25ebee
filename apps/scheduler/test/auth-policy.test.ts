/** The pure parts of auth: the policy decision table, scrypt hashes, bearer formats, audit redaction. */
import { describe, expect, test } from 'vitest';
import { ROLES, type Role } from '@kisjobs/protocol';
import { redact } from '../src/audit/recorder.js';
import { createPasswordHasher, generatePassword, parseHash } from '../src/auth/password.js';
import { ACTIONS, decide, roleAllows, type Action } from '../src/auth/policy.js';
import { visibleSceneIds, type Principal } from '../src/auth/principal.js';
import { bearerKind, bearerSecret, newApiTokenSecret, newSessionSecret } from '../src/auth/secrets.js';

const GRANTED = 'scn_granted';
const OTHER = 'scn_other';

function principal(role: Role): Principal {
  return {
    userId: `usr_${role}`,
    username: role,
    role,
    grantedSceneIds: [GRANTED],
    credential: { kind: 'session', sessionId: 'ses_x', expiresAt: new Date() },
  };
}

describe('policy', () => {
  // role → action → [no scene, granted scene, other scene, resource in no scene]
  const table: Record<Role | 'anonymous', Record<Action, [number, number, number, number]>> = {
    admin: { read: [0, 0, 0, 0], operate: [0, 0, 0, 0], admin: [0, 0, 0, 0] },
    operator: { read: [0, 0, 403, 403], operate: [0, 0, 403, 403], admin: [403, 403, 403, 403] },
    viewer: { read: [0, 0, 403, 403], operate: [403, 403, 403, 403], admin: [403, 403, 403, 403] },
    anonymous: { read: [401, 401, 401, 401], operate: [401, 401, 401, 401], admin: [401, 401, 401, 401] },
  };
  for (const who of [...ROLES, 'anonymous'] as const) {
    for (const action of ACTIONS) {
      test(`${who} ${action}`, () => {
        const p = who === 'anonymous' ? null : principal(who);
        const statuses = ([undefined, GRANTED, OTHER, null] as const).map((scene) => {
          const decision = decide(p, action, scene);
          return decision.allow ? 0 : decision.error.status;
        });
        expect(statuses).toEqual(table[who][action]);
      });
    }
  }

  test('scene denials say SCENE_ACCESS_DENIED, role denials FORBIDDEN', () => {
    const scene = decide(principal('viewer'), 'read', OTHER);
    const role = decide(principal('viewer'), 'operate', GRANTED);
    expect(scene.allow ? undefined : scene.error.code).toBe('SCENE_ACCESS_DENIED');
    expect(role.allow ? undefined : role.error.code).toBe('FORBIDDEN');
    expect(roleAllows('operator', 'operate')).toBe(true);
  });

  test('visibleSceneIds: all for admins, the grants for everyone else', () => {
    expect(visibleSceneIds(principal('admin'))).toBe('all');
    expect(visibleSceneIds(principal('operator'))).toEqual([GRANTED]);
    expect(visibleSceneIds(principal('viewer'))).toEqual([GRANTED]);
  });
});

describe('password hashing', () => {
  const hasher = createPasswordHasher({ logN: 14, r: 8, p: 1 });

  test('hash format with a per-hash salt; verify accepts only the right password', async () => {
    const a = await hasher.hash('correct horse battery staple');
    const b = await hasher.hash('correct horse battery staple');
    expect(a).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(a).not.toBe(b);
    expect(await hasher.verify('correct horse battery staple', a)).toEqual({ ok: true, needsRehash: false });
    expect(await hasher.verify('correct horse battery stapl', a)).toEqual({ ok: false, needsRehash: false });
    expect(await hasher.verify('', a)).toEqual({ ok: false, needsRehash: false });
  });

  test('NFKC: the same text in another Unicode form is the same password', async () => {
    const stored = await hasher.hash('caf\u00e9 password!');
    expect((await hasher.verify('cafe\u0301 password!', stored)).ok).toBe(true);
  });

  test('a hash made with weaker parameters verifies and asks to be redone', async () => {
    const weak = await createPasswordHasher({ logN: 12, r: 8, p: 1 }).hash('some long password');
    expect(await hasher.verify('some long password', weak)).toEqual({ ok: true, needsRehash: true });
  });

  test('malformed or out-of-bounds stored hashes never verify and never throw', async () => {
    for (const stored of [
      '',
      'plain',
      '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5',
      '$argon2id$v=19$x',
    ]) {
      expect(parseHash(stored)).toBeUndefined();
      expect(await hasher.verify('x', stored)).toEqual({ ok: false, needsRehash: false });
    }
    expect(await hasher.verifyDummy('anything')).toBe(false);
  });

  test('generated passwords are long and distinct', () => {
    const passwords = new Set(Array.from({ length: 50 }, () => generatePassword()));
    expect(passwords.size).toBe(50);
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  test('out-of-range parameters are refused when the hasher is made', () => {
    expect(() => createPasswordHasher({ logN: 4, r: 8, p: 1 })).toThrow(RangeError);
  });
});

describe('bearer secrets', () => {
  test('sessions and API tokens have distinct prefixes, 256 random bits, and only their hash is kept', () => {
    const session = newSessionSecret();
    const token = newApiTokenSecret();
    expect(session.secret).toMatch(/^kjs_sess_[A-Za-z0-9_-]{43}$/);
    expect(token.secret).toMatch(/^kjs_api_[A-Za-z0-9_-]{43}$/);
    expect(session.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(bearerKind(session.secret)).toBe('session');
    expect(bearerKind(token.secret)).toBe('token');
    expect(newSessionSecret().secret).not.toBe(session.secret);
  });

  test('anything else is not a bearer secret', () => {
    for (const text of [
      '',
      'kjs_sess_short',
      `kjs_x_${'a'.repeat(43)}`,
      `kjs_api_${'a'.repeat(44)}`,
      `KJS_API_${'a'.repeat(43)}`,
    ]) {
      expect(bearerKind(text)).toBeUndefined();
    }
    expect(bearerSecret('Bearer abc')).toBe('abc');
    expect(bearerSecret('bearer  abc ')).toBe('abc');
    expect(bearerSecret('Basic abc')).toBeUndefined();
    expect(bearerSecret('Bearer a b')).toBeUndefined();
  });
});

describe('audit redaction', () => {
  test('drops secret-looking keys at any depth and bounds strings', () => {
    const clean = redact({
      username: 'ann',
      password: 'hunter2hunter2',
      nested: {
        newPassword: 'x',
        token: 'kjs_api_x',
        tokenId: 'tok_1',
        secret: 's',
        passwordHash: 'h',
        ok: true,
      },
      long: 'y'.repeat(2_000),
      list: [{ apiKey: 'k', name: 'n' }],
    });
    expect(clean).toEqual({
      username: 'ann',
      nested: { tokenId: 'tok_1', ok: true },
      long: `${'y'.repeat(499)}…`,
      list: [{ name: 'n' }],
    });
    expect(redact({ huge: Array.from({ length: 50 }, () => 'z'.repeat(400)) })).toEqual({ truncated: true });
  });
});
