/**
 * KisFlow config: the resolved model (the engine's contract), loading and validating YAML in both dialects
 * (from text or from a directory), the issues a load reports, and export back to YAML.
 */
export * from './model.js';
export { CONFIG_ISSUE_CODES, ConfigLoadError, formatIssue } from './issues.js';
export type { ConfigIssue, ConfigIssueCode, ConfigLoadResult, LoadedConfig } from './issues.js';
export { parseConfigSources, parseConfigSourcesOrThrow } from './load.js';
export type { ConfigSource } from './load.js';
export { loadConfigDir, loadConfigDirOrThrow, readConfigDir } from './load-dir.js';
export { exportConfig, exportConfigDocuments } from './export.js';
