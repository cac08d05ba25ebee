import { randomBytes } from 'node:crypto';

/** A short random token safe for database names and Redis key prefixes. */
export function uniqueToken(label = 't'): string {
  const clean =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 16) || 't';
  return `${clean}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}
