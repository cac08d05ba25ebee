/**
 * KisFlow config documents (kistype func, flow, conn, global) as the API takes and returns them: imported as
 * YAML files (one or several documents each, either dialect), validated all at once, versioned.
 */
import { z } from 'zod';
import { IsoDateTime } from '../common.js';

export const CONFIG_KINDS = ['func', 'flow', 'conn', 'global'] as const;
export const ConfigKind = z.enum(CONFIG_KINDS);
export type ConfigKind = z.infer<typeof ConfigKind>;

export const MAX_CONFIG_FILES = 200;
export const MAX_CONFIG_FILE_CHARS = 512 * 1024;

export const ConfigFile = z.strictObject({
  /** Shown in every issue about this file, e.g. `flows/orders.yml`. */
  name: z.string().trim().min(1).max(256),
  content: z.string().max(MAX_CONFIG_FILE_CHARS),
});
export type ConfigFile = z.infer<typeof ConfigFile>;

/** `POST /api/configs/import` and `/validate`. */
export const ConfigImportInput = z.strictObject({
  files: z.array(ConfigFile).min(1).max(MAX_CONFIG_FILES),
});
export type ConfigImportInput = z.infer<typeof ConfigImportInput>;

export const ConfigDocumentResult = z.object({
  kind: ConfigKind,
  name: z.string(),
  /** The document's version after the import (or after it, for a validation). */
  version: z.number().int().min(1),
  /** False when the stored document was already equal: no new version. */
  changed: z.boolean(),
});
export type ConfigDocumentResult = z.infer<typeof ConfigDocumentResult>;

export const ConfigImportResult = z.object({ documents: z.array(ConfigDocumentResult) });
export type ConfigImportResult = z.infer<typeof ConfigImportResult>;

export const ConfigSummary = z.object({
  kind: ConfigKind,
  name: z.string(),
  version: z.number().int(),
  updatedAt: IsoDateTime,
});
export type ConfigSummary = z.infer<typeof ConfigSummary>;

export const ConfigDocumentView = ConfigSummary.extend({
  /** The document alone, in the current dialect. */
  yaml: z.string(),
  /** The engine's model of it. */
  parsed: z.record(z.string(), z.unknown()),
});
export type ConfigDocumentView = z.infer<typeof ConfigDocumentView>;

export const ConfigVersionView = z.object({
  version: z.number().int(),
  yaml: z.string(),
  createdBy: z.string().nullable(),
  createdAt: IsoDateTime,
});
export type ConfigVersionView = z.infer<typeof ConfigVersionView>;

export const ConfigListQuery = z.strictObject({
  kind: ConfigKind.optional(),
  /** Case-insensitive substring of the name. */
  q: z.string().min(1).max(200).optional(),
});
export type ConfigListQuery = z.infer<typeof ConfigListQuery>;

export const ConfigExportQuery = z.strictObject({
  /** One flow with the functions and connectors it uses; omit for every stored document. */
  flow: z.string().min(1).max(256).optional(),
});
export type ConfigExportQuery = z.infer<typeof ConfigExportQuery>;
