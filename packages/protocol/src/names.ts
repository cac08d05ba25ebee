/**
 * Names that end up inside Redis keys and BullMQ queue names. The charset leaves out `:` (the key
 * separator, and BullMQ rejects it in queue names and job ids), `{` and `}` (they would move the Redis
 * Cluster hash tag), whitespace and anything needing escaping.
 */
import { z } from 'zod';

/** An executor group name, e.g. `etl` or `reports-eu`: lower-case, digits, `_` and `-`; 1–64 chars. */
export const GroupName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, {
    message: 'Invalid group name: use a-z, 0-9, "_" and "-", starting with a letter or digit',
  });
export type GroupName = z.infer<typeof GroupName>;

/**
 * An executor instance id, chosen by the executor and stable for its process lifetime, e.g.
 * `host-7.eu.example.com-4123` or a `newId('exe')`: letters, digits, `.`, `_`, `-`; 1–128 chars.
 */
export const InstanceId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    message: 'Invalid instance id: use A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit',
  });
export type InstanceId = z.infer<typeof InstanceId>;

/** The keyspace prefix (the text inside the hash tag), e.g. `kisjobs` or a per-test `t_lx3k_9f2a`. */
export const KeyPrefix = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, { message: 'Invalid key prefix: use A-Z, a-z, 0-9, "_" and "-"' });
export type KeyPrefix = z.infer<typeof KeyPrefix>;

/** A short lock or schedule sub-name used inside a key, e.g. `maintenance`. */
export const KeySegment = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, { message: 'Invalid key segment: use A-Z, a-z, 0-9, ".", "_" and "-"' });
export type KeySegment = z.infer<typeof KeySegment>;
