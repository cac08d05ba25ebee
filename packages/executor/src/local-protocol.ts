/**
 * LOCAL PROTOCOL DEFINITIONS: payloads and codes the executor needs that `@kisjobs/protocol` does not have
 * yet. Each is proposed for the protocol package (see the executor report); until then the scheduler must
 * read them exactly as defined here. Remove this file once protocol exports them.
 */
import { z } from 'zod';
import { GroupName, InstanceId, IsoDateTime, ShortText } from '@kisjobs/protocol';

/**
 * PROPOSED for protocol `payloads/executor.ts` + the catalog as `registrationRejected`: the registry stream
 * entry written (by the registration Lua script) when a registration presents a token that is not valid for
 * its group. Never holds the token.
 */
export const RegistrationRejected = z.object({
  group: GroupName,
  instanceId: InstanceId,
  host: z.string().min(1).max(255),
  reason: ShortText,
  at: IsoDateTime,
});
export type RegistrationRejected = z.infer<typeof RegistrationRejected>;

/**
 * Registry stream `kind` values the executor writes. `executorRecord` and `deregistration` are catalog kinds
 * already; `registrationRejected` is PROPOSED (the catalog's `registration` kind carries the plaintext token,
 * so the executor never writes it to Redis).
 */
export const REGISTRY_ENTRY_KINDS = {
  registered: 'executorRecord',
  rejected: 'registrationRejected',
  deregistered: 'deregistration',
} as const;

/**
 * PROPOSED for protocol `payloads/run-event.ts`: the `RunError.code` values an executor reports in a
 * `finished` event, besides the flow engine's own codes (FUNCTION_FAILED, FUNCTION_TIMEOUT, FLOW_NOT_FOUND...,
 * passed through unchanged).
 */
export const EXECUTOR_RUN_ERROR_CODES = {
  /** The RunRequest failed schema validation (the message names the fields). */
  payloadInvalid: 'PAYLOAD_INVALID',
  /** The request's `flow` is not a valid resolved KisFlow config. */
  flowInvalid: 'FLOW_INVALID',
  /** The run outlived the request's `timeoutMs`. Status `timed_out`. */
  timeout: 'TIMEOUT',
  /** A terminate request (pub/sub or the durable cancel flag). Status `terminated`. */
  terminated: 'TERMINATED',
  /** The executor shut down before the run finished within its drain timeout. Status `terminated`. */
  shutdown: 'EXECUTOR_SHUTDOWN',
  /** The isolation thread died under the run (uncaught error, out of memory, exit). Status `failed`. */
  threadCrashed: 'EXECUTOR_THREAD_CRASHED',
  /** A bug in the executor itself. Status `failed`. */
  internal: 'EXECUTOR_INTERNAL',
} as const;
export type ExecutorRunErrorCode = (typeof EXECUTOR_RUN_ERROR_CODES)[keyof typeof EXECUTOR_RUN_ERROR_CODES];
