/**
 * Messages between the executor's main thread (heartbeat.ts) and its heartbeat thread (heartbeat-thread.ts,
 * heartbeat-beater.ts): structured clone over postMessage, never over Redis, so no zod here (both ends are
 * this package, as in isolation/messages.ts).
 */
import type { LogFields } from './logger.js';
import type { HeartbeatSnapshot } from './heartbeat-payload.js';

/** What the heartbeat thread is started with (`workerData.data`). */
export interface HeartbeatThreadData {
  readonly redisUrl: string;
  readonly connectionName: string;
  readonly instanceId: string;
  readonly group: string;
  /** The executor's record key: beats rewrite the heartbeat key only while it exists. */
  readonly executorKey: string;
  readonly heartbeatKey: string;
  readonly intervalMs: number;
  readonly ttlMs: number;
  /** Beats are withheld once the main thread has been silent (no message) for longer than this. */
  readonly mainStallLimitMs: number;
}

export type ToHeartbeatThread =
  /** Registration is done: beat every interval from now on. */
  | { readonly type: 'start'; readonly snapshot: HeartbeatSnapshot }
  /** The main thread is alive; a snapshot when it changed since the last one sent. */
  | { readonly type: 'tick'; readonly snapshot?: HeartbeatSnapshot }
  /** Beat now (a ping, a drain); answered by the `requestIds` of a `beaten` or `failed`. */
  | { readonly type: 'beat'; readonly requestId: number; readonly snapshot: HeartbeatSnapshot }
  /** Stop beating, wait for a beat under way, close the connection, then answer `stopped`. */
  | { readonly type: 'stop' };

export type FromHeartbeatThread =
  | { readonly type: 'ready' }
  /** A beat reached Redis: `ok` (the key was rewritten) or `missing` (the record is gone). */
  | {
      readonly type: 'beaten';
      readonly state: 'ok' | 'missing';
      readonly requestIds: readonly number[];
    }
  /** A beat failed: Redis answered with an error. */
  | { readonly type: 'failed'; readonly message: string; readonly requestIds: readonly number[] }
  /** A beat was due while the previous one was still waiting for Redis. */
  | { readonly type: 'stalled' }
  /** A beat was withheld: the main thread has been silent for `silentForMs`. `first` of a stall. */
  | { readonly type: 'withheld'; readonly silentForMs: number; readonly first: boolean }
  /** The main thread spoke again after a stall that withheld `withheldBeats` beats. */
  | { readonly type: 'resumed'; readonly silentForMs: number; readonly withheldBeats: number }
  /** A line for the executor's logger (e.g. the thread's Redis connection was lost). */
  | {
      readonly type: 'log';
      readonly level: 'debug' | 'info' | 'warn' | 'error';
      readonly msg: string;
      readonly fields?: LogFields;
    }
  /** Answer to `stop`: nothing more comes from the thread. */
  | { readonly type: 'stopped' };
