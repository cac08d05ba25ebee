/**
 * The route table of the API, in one list: what the app mounts, what the OpenAPI document and /docs show,
 * and what the authorization matrix test enumerates (a route added here without an expectation there fails
 * that test). Resource routes (jobs, runs, configs, executors, reports, alerts) are added as more modules
 * here, each a `(deps: RouteDeps) => Route[]` of `defineRoute` entries.
 */
import type { RouteDeps } from '../deps.js';
import type { Route } from '../route.js';
import { auditRoutes } from './audit.js';
import { authRoutes } from './auth.js';
import { configRoutes } from './configs.js';
import { executorRoutes } from './executors.js';
import { jobActionRoutes } from './job-actions.js';
import { jobRoutes } from './jobs.js';
import { reportRoutes } from './reports.js';
import { runLogStreamRoutes } from './run-logs-stream.js';
import { runRoutes } from './runs.js';
import { sceneRoutes } from './scenes.js';
import { systemRoutes } from './system.js';
import { tokenRoutes } from './tokens.js';
import { userRoutes } from './users.js';

export const ROUTE_MODULES: readonly ((deps: RouteDeps) => Route[])[] = [
  systemRoutes,
  authRoutes,
  tokenRoutes,
  userRoutes,
  sceneRoutes,
  auditRoutes,
  jobRoutes,
  jobActionRoutes,
  runRoutes,
  executorRoutes,
  configRoutes,
  reportRoutes,
  (deps) => runLogStreamRoutes(deps),
];

export function coreRoutes(deps: RouteDeps): Route[] {
  return ROUTE_MODULES.flatMap((module) => module(deps));
}
