/**
 * The registry stream's entries (`kind`, `payload`; see the protocol catalog and REGISTRY_ENTRY_KINDS) as
 * the executor writes them from its registration Lua script:
 *   - `executorRecord`: a registration that the script accepted (the token matched the group);
 *   - `registrationRejected`: a registration refused for its token (never holds the token);
 *   - `deregistration`: a clean shutdown or the end of a drain.
 * A `registration` entry (RegistrationRequest, with the plaintext token) is accepted too, for a writer
 * that does not check the token itself: the scheduler checks it, and never stores the token.
 */
import {
  REGISTRY_ENTRY_KINDS,
  STREAM_FIELDS,
  decodePayload,
  type Deregistration,
  type ExecutorRecord,
  type RegistrationRejected,
  type RegistrationRequest,
} from '@kisjobs/protocol';

export type RegistryEntry =
  | { readonly kind: 'registered'; readonly record: ExecutorRecord }
  | { readonly kind: 'registration'; readonly request: RegistrationRequest }
  | { readonly kind: 'rejected'; readonly rejection: RegistrationRejected }
  | { readonly kind: 'deregistered'; readonly deregistration: Deregistration }
  | { readonly kind: 'invalid'; readonly reason: string };

export function decodeRegistryEntry(fields: Readonly<Record<string, string>>): RegistryEntry {
  const kind = fields[STREAM_FIELDS.kind] ?? '';
  const payload = fields[STREAM_FIELDS.payload] ?? '';
  switch (kind) {
    case REGISTRY_ENTRY_KINDS.registered: {
      const decoded = decodePayload('executorRecord', payload);
      return decoded.ok ? { kind: 'registered', record: decoded.value } : invalid(decoded.error.message);
    }
    case 'registration': {
      const decoded = decodePayload('registration', payload);
      return decoded.ok ? { kind: 'registration', request: decoded.value } : invalid(decoded.error.message);
    }
    case REGISTRY_ENTRY_KINDS.deregistered: {
      const decoded = decodePayload('deregistration', payload);
      return decoded.ok
        ? { kind: 'deregistered', deregistration: decoded.value }
        : invalid(decoded.error.message);
    }
    case REGISTRY_ENTRY_KINDS.rejected: {
      const decoded = decodePayload('registrationRejected', payload);
      return decoded.ok ? { kind: 'rejected', rejection: decoded.value } : invalid(decoded.error.message);
    }
    default:
      return invalid(`unexpected registry entry kind ${JSON.stringify(kind)}`);
  }
}

function invalid(reason: string): RegistryEntry {
  return { kind: 'invalid', reason };
}
