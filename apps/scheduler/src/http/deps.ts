/**
 * What route modules receive: the ports of the app factory, the auth services, the OpenAPI document of the
 * whole table, and the services the resource routes use (the scheduler facade).
 */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { PrismaClient } from '@kisjobs/db';
import type { PasswordHasher } from '../auth/password.js';
import type { CredentialChanges } from '../auth/principal-cache.js';
import type { LoginRateLimiter } from '../auth/rate-limit.js';
import type { AuthSettings } from '../auth/settings.js';
import type { Clock, Logger } from '../registry/ports.js';
import type { Scheduler } from '../scheduler.js';
import type { JsonObject } from './openapi.js';

/** Services the resource routes (jobs, runs, configs, executors, reports) call into. */
export interface HttpServices {
  /** The scheduler facade: trigger, terminate, groups, executors, runs, configs, jobs. */
  readonly scheduler?: Scheduler;
}

export interface RouteDeps {
  readonly prisma: PrismaClient;
  readonly redis: Redis;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metricsRegistry: Registry;
  readonly auth: {
    readonly settings: AuthSettings;
    readonly hasher: PasswordHasher;
    readonly limiter: LoginRateLimiter;
    /** Routes that end or change credentials report it here: this process's cached lookups drop them at once. */
    readonly credentials: CredentialChanges;
  };
  /** The OpenAPI document of the whole route table (built once, on first use). */
  readonly openapi: () => JsonObject;
  readonly services: HttpServices;
}
