/**
 * KisFlow engine.
 *
 * Glossary:
 * - function: a small named step (`fname`) with a mode (Verify, Save, Load, Calculate, Expand). It receives
 *   the previous step's rows and commits new rows.
 * - flow: an ordered chain of function instances (`flow_name`), each position with its own params.
 * - connector: a named, typed link to an outside store (`cname`), initialised lazily once per registry.
 * - action: how a function steers the flow: DataReuse, ForceEntryNext, JumpFunc, Abort.
 * - run: one execution of a flow over source rows; re-entrant, with its own AbortSignal and logger.
 * - registry: an instance holding function implementations, connector types and loaded config. No globals.
 */
export * from './config/index.js';
