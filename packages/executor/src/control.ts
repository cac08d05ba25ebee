/**
 * Control messages from the scheduler: a dedicated subscriber connection on the broadcast channel and this
 * executor's own channel. ioredis subscribes again by itself after a reconnect. Pub/sub is fire-and-forget,
 * so terminate is backed by the durable cancel flag (checked at dequeue and at every heartbeat).
 */
import type { Redis } from 'ioredis';
import {
  assertNever,
  decodePayload,
  type DrainMessage,
  type Keyspace,
  type PingMessage,
  type TerminateMessage,
} from '@kisjobs/protocol';
import { errorMessage, type ExecutorLogger } from './logger.js';
import { closeRedis, watchConnection } from './redis.js';

export interface ControlHandlers {
  readonly terminate: (message: TerminateMessage) => void;
  /** Only drain requests addressed to this instance arrive here. */
  readonly drain: (message: DrainMessage) => void;
  readonly ping: (message: PingMessage) => void;
}

export interface ControlSubscriberOptions {
  /** A connection to duplicate (same server and options). */
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly instanceId: string;
  readonly handlers: ControlHandlers;
  readonly logger: ExecutorLogger;
}

export class ControlSubscriber {
  readonly #subscriber: Redis;

  private constructor(subscriber: Redis) {
    this.#subscriber = subscriber;
  }

  static async open(options: ControlSubscriberOptions): Promise<ControlSubscriber> {
    const { keyspace, instanceId, handlers, logger } = options;
    const subscriber = options.redis.duplicate({ connectionName: `kisjobs-control-${instanceId}` });
    watchConnection(subscriber, 'control', logger);
    subscriber.on('message', (channel: string, raw: string) => {
      const decoded = decodePayload('control', raw);
      if (!decoded.ok) {
        logger.warn('control message ignored: invalid payload', { channel, error: decoded.error.message });
        return;
      }
      const message = decoded.value;
      try {
        switch (message.type) {
          case 'terminate':
            handlers.terminate(message);
            return;
          case 'drain':
            if (message.instanceId === instanceId) handlers.drain(message);
            return;
          case 'ping':
            handlers.ping(message);
            return;
          default:
            assertNever(message, 'unknown control message');
        }
      } catch (error) {
        logger.error('control message handler failed', { type: message.type, error: errorMessage(error) });
      }
    });
    await subscriber.subscribe(keyspace.controlChannel(), keyspace.executorControlChannel(instanceId));
    return new ControlSubscriber(subscriber);
  }

  close(timeoutMs: number): Promise<void> {
    return closeRedis(this.#subscriber, timeoutMs);
  }
}
