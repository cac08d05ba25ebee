/**
 * A seeded generator of hostile HTTP requests for the API fuzz test. Requests are derived from the OpenAPI
 * document, so routes added later are fuzzed without edits here: a valid-looking request is built from each
 * operation's schemas, then mutated (fields dropped, retyped, added; ids malformed; paths and query strings
 * mangled; bodies truncated, replaced by random bytes or sent under the wrong media type).
 */

/** mulberry32: a small, fast, seedable PRNG (the same seed replays the same requests). */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), 1 | t);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Json = Record<string, unknown>;

export interface FuzzRequest {
  readonly method: string;
  /** Raw request target, sent as is (bytes 0x21-0xff). */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

const NASTY_STRINGS = [
  '',
  ' ',
  'a',
  '0',
  '-1',
  'null',
  'true',
  '__proto__',
  'constructor',
  'prototype',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '../../etc/passwd',
  '\u0000',
  '\u202e',
  '🙂'.repeat(20),
  'x'.repeat(5_000),
  '%00',
  '${jndi:ldap://x}',
  'scn_01m00000000000000000000000',
  'usr_01m00000000000000000000000',
  'tok_01m00000000000000000000000',
];
const FIELD_NAMES = [
  'name',
  'username',
  'password',
  'role',
  'sceneIds',
  'description',
  'expiresAt',
  'disabled',
  '__proto__',
  'constructor',
  'limit',
  'cursor',
  'x',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/merge-patch+json',
  '*/*',
  '',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO'];
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export class FuzzGen {
  constructor(private readonly rand: () => number) {}

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  asciiString(max: number): string {
    let out = '';
    const length = this.int(max + 1);
    for (let i = 0; i < length; i++) out += String.fromCharCode(0x21 + this.int(0x5e));
    return out;
  }

  string(): string {
    return this.chance(0.5) ? this.pick(NASTY_STRINGS) : this.asciiString(40);
  }

  value(depth = 0): unknown {
    const kind = this.int(depth > 3 ? 5 : 8);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 12, 500, 501]);
      case 3:
      case 4:
        return this.string();
      case 5:
        return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      default: {
        const out: Json = {};
        for (let i = this.int(4); i > 0; i--) out[this.pick(FIELD_NAMES)] = this.value(depth + 1);
        return out;
      }
    }
  }

  /** A value that satisfies a (simple) JSON schema, as far as this generator understands it. */
  valid(schema: Json, ids: Readonly<Record<string, string>>): unknown {
    if (Array.isArray(schema.enum)) return this.pick(schema.enum as unknown[]);
    if (Array.isArray(schema.anyOf)) return this.valid(this.pick(schema.anyOf as Json[]), ids);
    switch (schema.type) {
      case 'object': {
        const out: Json = {};
        const properties = (schema.properties ?? {}) as Record<string, Json>;
        const required = new Set((schema.required ?? []) as string[]);
        for (const [name, property] of Object.entries(properties)) {
          if (required.has(name) || this.chance(0.5)) out[name] = this.valid(property, ids);
        }
        return out;
      }
      case 'array':
        return schema.items === undefined
          ? []
          : Array.from({ length: this.int(2) }, () => this.valid(schema.items as Json, ids));
      case 'integer':
      case 'number':
        return typeof schema.minimum === 'number' ? schema.minimum : 1;
      case 'boolean':
        return this.chance(0.5);
      case 'string':
        return this.validString(schema, ids);
      default:
        return this.value();
    }
  }

  private validString(schema: Json, ids: Readonly<Record<string, string>>): string {
    const pattern = typeof schema.pattern === 'string' ? schema.pattern : '';
    const prefix = /^\^([a-z]{3})_/.exec(pattern)?.[1];
    if (prefix !== undefined) {
      const real = ids[prefix];
      if (real !== undefined && this.chance(0.6)) return real;
      return `${prefix}_${Array.from({ length: 26 }, () => this.pick(ALPHABET.split(''))).join('')}`;
    }
    if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
    const min = typeof schema.minLength === 'number' ? schema.minLength : 1;
    return `fuzz-${this.int(1e9)}`.padEnd(min, 'z');
  }

  /** A mutation of a valid value: drop, retype, add, nest. */
  mutate(value: unknown): unknown {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || this.chance(0.15))
      return this.value();
    const out: Json = { ...(value as Json) };
    const keys = Object.keys(out);
    switch (this.int(5)) {
      case 0:
        if (keys.length > 0) delete out[this.pick(keys)];
        break;
      case 1:
        if (keys.length > 0) out[this.pick(keys)] = this.value();
        break;
      case 2:
        out[this.pick(FIELD_NAMES)] = this.value();
        break;
      case 3:
        return [out];
      default:
        if (keys.length > 0) out[this.pick(keys)] = this.mutate(out[this.pick(keys)]);
    }
    return out;
  }

  /** A path segment: valid-looking, nasty, or percent-garbage. */
  segment(valid: string): string {
    switch (this.int(6)) {
      case 0:
        return valid;
      case 1:
        return encodeURIComponent(this.string()).slice(0, 300) || '%20';
      case 2:
        return this.pick(['%', '%zz', '%E0%A4%A', '%00', '..', '.', '%2e%2e', '%2F', 'A'.repeat(2_000)]);
      case 3:
        return valid.toUpperCase();
      case 4:
        return `${valid}${this.asciiString(5).replace(/[?#]/g, '')}`;
      default:
        return this.asciiString(12).replace(/[?#/]/g, '') || 'x';
    }
  }

  query(params: readonly Json[], ids: Readonly<Record<string, string>>): string {
    const parts: string[] = [];
    for (const param of params) {
      if (param.in !== 'query' || !this.chance(0.5)) continue;
      const value = this.chance(0.6) ? String(this.valid(param.schema as Json, ids)) : this.string();
      parts.push(`${encodeURIComponent(String(param.name))}=${encodeURIComponent(value)}`);
    }
    for (let i = this.int(3); i > 0; i--) {
      parts.push(
        this.pick([
          `${this.asciiString(6)}=${this.asciiString(6)}`,
          '__proto__[x]=1',
          'limit=1&limit=2',
          'a[]=1',
          '=',
          '&&',
          '%=%',
          'cursor=%E0',
        ]),
      );
    }
    return parts.length === 0 ? '' : `?${parts.join('&').replace(/[#\s]/g, '')}`;
  }

  method(documented: string): string {
    return this.chance(0.8) ? documented : this.pick(METHODS);
  }

  contentType(): string {
    return this.chance(0.75) ? 'application/json' : this.pick(CONTENT_TYPES);
  }

  body(valid: unknown): Buffer {
    switch (this.int(8)) {
      case 0:
        return Buffer.from(JSON.stringify(valid));
      case 1: {
        const text = JSON.stringify(this.mutate(valid));
        return Buffer.from(text.slice(0, this.int(text.length + 1)));
      }
      case 2:
        return Buffer.from(Array.from({ length: this.int(200) }, () => this.int(256)));
      case 3:
        return Buffer.from(
          this.pick([
            '',
            '{',
            '[]',
            'null',
            '"x"',
            '1',
            '{"a":1}}',
            '{"__proto__":{"admin":true}}',
            '\ufeff{}',
          ]),
        );
      case 4:
        return Buffer.from(JSON.stringify(this.value()));
      default:
        return Buffer.from(JSON.stringify(this.mutate(valid)));
    }
  }
}
