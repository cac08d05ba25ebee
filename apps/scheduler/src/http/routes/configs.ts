/**
 * `/api/configs`: KisFlow YAML documents. Import validates the files together with what is stored and saves
 * all or nothing (every issue reported at once, each naming its file, document and field: 422
 * CONFIG_INVALID); validate does the same and writes nothing. Each changed document gets a new version;
 * export writes YAML in the current dialect that loads back to the same config. Configs are global (not in
 * a scene): anyone signed in reads them, operators and admins import.
 */
import { z } from 'zod';
import { exportConfigDocuments, parseConfigSources, type KisConfig } from '@kisjobs/flow';
import {
  ConfigDocumentView,
  ConfigExportQuery,
  ConfigImportInput,
  ConfigImportResult,
  ConfigKind,
  ConfigListQuery,
  ConfigSummary,
  ConfigVersionView,
  NotFoundError,
} from '@kisjobs/protocol';
import { putConfigDocuments } from '../../configs/store.js';
import type { RouteDeps } from '../deps.js';
import { defineRoute, type Route } from '../route.js';
import { schedulerOf } from './scheduler-service.js';

const ByDocument = z.strictObject({ kind: ConfigKind, name: z.string().min(1).max(256) });

function yamlOf(config: KisConfig): string {
  return exportConfigDocuments(config)
    .map((source) => source.text)
    .join('---\n');
}

export function configRoutes(deps: RouteDeps): Route[] {
  const { prisma } = deps;
  const documentRow = async (kind: ConfigKind, name: string) => {
    const row = await prisma.configDocument.findUnique({ where: { kind_name: { kind, name } } });
    if (row === null) throw new NotFoundError('config', `${kind}/${name}`);
    return row;
  };
  const importRoute = (dryRun: boolean): Route =>
    defineRoute({
      id: dryRun ? 'configs.validate' : 'configs.import',
      method: 'POST',
      path: dryRun ? '/api/configs/validate' : '/api/configs/import',
      tags: ['configs'],
      summary: dryRun
        ? 'Validate KisFlow YAML files against what is stored, and say what an import would change'
        : 'Import KisFlow YAML files: all or nothing, a new version for each changed document',
      access: { action: dryRun ? 'read' : 'operate' },
      body: ConfigImportInput,
      responses: {
        200: { description: 'Per document: its version and whether it changed', schema: ConfigImportResult },
      },
      errors: [422],
      audit: { targetType: 'config', details: (req) => ({ files: req.body.files.map((f) => f.name) }) },
      handler: async (req) => {
        const sources = req.body.files.map((f) => ({ file: f.name, text: f.content }));
        const saved = dryRun
          ? await putConfigDocuments(prisma, sources, { dryRun: true })
          : await schedulerOf(deps).putConfigDocuments(sources, { createdById: req.principal.userId });
        return {
          status: 200,
          body: {
            documents: saved.map(({ kind, name, version, changed }) => ({ kind, name, version, changed })),
          },
        };
      },
    });
  return [
    importRoute(true),
    importRoute(false),
    defineRoute({
      id: 'configs.list',
      method: 'GET',
      path: '/api/configs',
      tags: ['configs'],
      summary: 'Stored documents by kind and name',
      access: { action: 'read' },
      query: ConfigListQuery,
      responses: { 200: { description: 'Documents', schema: z.object({ items: z.array(ConfigSummary) }) } },
      handler: async (req) => {
        const rows = await prisma.configDocument.findMany({
          where: {
            ...(req.query.kind === undefined ? {} : { kind: req.query.kind }),
            ...(req.query.q === undefined ? {} : { name: { contains: req.query.q, mode: 'insensitive' } }),
          },
          select: { kind: true, name: true, currentVersion: true, updatedAt: true },
          orderBy: [{ kind: 'asc' }, { name: 'asc' }],
        });
        const items = rows.map((r) => ({
          kind: r.kind,
          name: r.name,
          version: r.currentVersion,
          updatedAt: r.updatedAt.toISOString(),
        }));
        return { status: 200, body: { items } };
      },
    }),
    defineRoute({
      id: 'configs.export',
      method: 'GET',
      path: '/api/configs/export',
      tags: ['configs'],
      summary: 'Export YAML (current dialect) that loads back to the same config: one flow, or everything',
      access: { action: 'read' },
      query: ConfigExportQuery,
      responses: { 200: { description: 'Multi-document YAML', contentType: 'application/yaml' } },
      handler: async (req) => {
        let config: KisConfig;
        if (req.query.flow !== undefined) {
          config = (await schedulerOf(deps).dispatcher.flows.resolve(req.query.flow)).config;
        } else {
          const rows = await prisma.configDocument.findMany({
            select: { kind: true, name: true, yaml: true },
            orderBy: [{ kind: 'asc' }, { name: 'asc' }],
          });
          const loaded = parseConfigSources(rows.map((r) => ({ file: `${r.kind}/${r.name}`, text: r.yaml })));
          if (!loaded.ok) throw new Error('the stored configs do not load; import them again');
          config = loaded.config;
        }
        return { status: 200, contentType: 'application/yaml; charset=utf-8', text: yamlOf(config) };
      },
    }),
    defineRoute({
      id: 'configs.get',
      method: 'GET',
      path: '/api/configs/:kind/:name',
      tags: ['configs'],
      summary: 'One document: its YAML, its parsed model and its version',
      access: { action: 'read' },
      params: ByDocument,
      responses: { 200: { description: 'The document', schema: ConfigDocumentView } },
      handler: async (req) => {
        const row = await documentRow(req.params.kind, req.params.name);
        return {
          status: 200,
          body: {
            kind: row.kind,
            name: row.name,
            version: row.currentVersion,
            updatedAt: row.updatedAt.toISOString(),
            yaml: row.yaml,
            parsed: row.parsed as Record<string, unknown>,
          },
        };
      },
    }),
    defineRoute({
      id: 'configs.versions',
      method: 'GET',
      path: '/api/configs/:kind/:name/versions',
      tags: ['configs'],
      summary: 'The version history of one document, newest first',
      access: { action: 'read' },
      params: ByDocument,
      responses: {
        200: { description: 'Versions', schema: z.object({ items: z.array(ConfigVersionView) }) },
      },
      handler: async (req) => {
        const row = await documentRow(req.params.kind, req.params.name);
        const versions = await prisma.configVersion.findMany({
          where: { documentId: row.id },
          include: { createdBy: { select: { username: true } } },
          orderBy: { version: 'desc' },
        });
        const items = versions.map((v) => ({
          version: v.version,
          yaml: v.yaml,
          createdBy: v.createdBy?.username ?? null,
          createdAt: v.createdAt.toISOString(),
        }));
        return { status: 200, body: { items } };
      },
    }),
  ];
}
