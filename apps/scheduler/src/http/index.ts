/**
 * The control-plane HTTP API: the app factory, the route-table API for adding resource routes, and the
 * identity services the CLI uses (`createAdmin`, the env bootstrap).
 */
export { createHttpApp, DEFAULT_BODY_LIMIT_BYTES, type HttpApp, type HttpAppOptions } from './app.js';
export type { HttpServerHandle, ListenOptions } from './listen.js';
export type { HttpServices, RouteDeps } from './deps.js';
export {
  defineRoute,
  HTTP_METHODS,
  isMutating,
  NoBody,
  NoFields,
  pathParams,
  type AccessContext,
  type ApiRequest,
  type ApiResponse,
  type AuditNote,
  type HttpMethod,
  type JsonResponse,
  type ProtectedRouteSpec,
  type PublicRouteSpec,
  type ResponseSpec,
  type Route,
  type StreamResponse,
  type StreamSink,
  type TextResponse,
} from './route.js';
export { QueryBoolean, queryList } from './validate.js';
export { found, loadInScene } from './resource.js';
export { buildOpenApi, openApiPath, type JsonObject, type OpenApiInfo } from './openapi.js';
export { ROUTE_MODULES, coreRoutes } from './routes/index.js';
export { sceneDto } from './routes/scenes.js';
export {
  ACTIONS,
  decide,
  decideRole,
  decideScene,
  roleAllows,
  type AccessPolicy,
  type Action,
  type ProtectedAccess,
  type PublicAccess,
  type SceneRule,
} from '../auth/policy.js';
export {
  canSeeScene,
  sceneFilterOf,
  visibleSceneIds,
  type Credential,
  type Principal,
} from '../auth/principal.js';
export {
  createAdmin,
  bootstrapAdminFromEnv,
  AdminBootstrapEnv,
  type BootstrapResult,
  type CreatedAdmin,
} from '../auth/admin.js';
export {
  createPasswordHasher,
  DEFAULT_SCRYPT_PARAMS,
  generatePassword,
  type PasswordHasher,
  type ScryptParams,
} from '../auth/password.js';
export { createUser, type NewUserRequest, type UserServiceDeps } from '../auth/users.js';
export { API_TOKEN_PREFIX, SESSION_TOKEN_PREFIX } from '../auth/secrets.js';
export { DEFAULT_LOGIN_LIMITS, type LoginLimits } from '../auth/rate-limit.js';
export type { AuthOptions, AuthSettings } from '../auth/settings.js';
export {
  createAuditRecorder,
  SYSTEM as SYSTEM_ACTOR,
  type AuditEntry,
  type AuditRecorder,
} from '../audit/recorder.js';
