/**
 * The `kisjobs` exit codes, stable for scripts (docs/cli.md lists them). A command that fails exits with the
 * code of its first error; `trigger --wait` reports how the run ended.
 */
export const EXIT = {
  ok: 0,
  /** Something unexpected: the message says what. */
  failure: 1,
  /** A bad flag, argument or input file. */
  usage: 2,
  /** Not signed in, or the token expired: run `kisjobs login`. */
  unauthenticated: 3,
  /** Signed in, but the role or the scene grants do not allow it. */
  forbidden: 4,
  /** The job, run, scene, executor or document does not exist. */
  notFound: 5,
  /** The server refused the input (validation 400/422) or the state (409). */
  rejected: 6,
  /** The server could not be reached, or answered 5xx / 503. */
  unavailable: 7,
  /** `trigger --wait`: the run ended, but not `succeeded`. */
  runNotSucceeded: 8,
  /** `trigger --wait --timeout`: the run had not ended in time. */
  waitTimedOut: 9,
  /** The database (migrate, admin create, groups ensure) could not be reached or refused. */
  database: 10,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
