/**
 * The schedule engine (issue #4): the fire loop (fire-loop.ts: claim, plan, fire at the instant, then move
 * `next_fire_at`), the job lifecycle (lifecycle.ts: pause, resume with misfires, enable, disable,
 * recompute) and the preview of next fire times, behind one options bag. The dispatcher comes in through
 * the `FireDispatcher` port (fire-port.ts; `fireThroughTrigger(dispatcher)` adapts the real one).
 */
import type { PrismaClient } from '@kisjobs/db';
import { newId } from '@kisjobs/protocol';
import type { Clock, Logger } from '../registry/ports.js';
import type { FireDispatcher } from './fire-port.js';
import { createFireLoop, type FireLoop, type FireLoopOptions } from './fire-loop.js';
import { createJobLifecycle, type JobLifecycle } from './lifecycle.js';
import { previewFireTimes, type PreviewRequest } from './preview.js';

export interface ScheduleEngineOptions extends Omit<FireLoopOptions, 'instanceId'> {
  readonly prisma: PrismaClient;
  readonly dispatcher: FireDispatcher;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Names this replica in lease tokens and logs. Default: a new random id. */
  readonly instanceId?: string;
}

export interface ScheduleEngine extends FireLoop, JobLifecycle {
  /** The next `count` (default 10, at most 1000) fire instants of a job or of an unsaved schedule. */
  preview(request: PreviewRequest): Promise<Date[]>;
}

export function createScheduleEngine(options: ScheduleEngineOptions): ScheduleEngine {
  const instanceId = options.instanceId ?? newId('exe').slice(-12);
  const loop = createFireLoop({ ...options, instanceId });
  const lifecycle = createJobLifecycle({
    prisma: options.prisma,
    dispatcher: options.dispatcher,
    clock: options.clock,
    logger: options.logger,
    instanceId,
  });
  return {
    instanceId,
    start: () => loop.start(),
    tick: () => loop.tick(),
    idle: () => loop.idle(),
    stats: () => loop.stats(),
    close: () => loop.close(),
    ...lifecycle,
    preview: (request) => previewFireTimes(options.prisma, request, options.clock.now()),
  };
}
