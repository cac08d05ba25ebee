/**
 * Saving KisFlow YAML documents (func, flow, conn, global) with their version history.
 *
 * The uploaded sources are validated together with the documents already stored, so a new flow may name a
 * function saved earlier, and a function that a stored flow uses cannot be replaced by a broken one. An
 * uploaded document replaces the stored one of the same kind and name (the loader keeps the first
 * declaration of a name, and uploads come first; the stored duplicates are then dropped and the load
 * repeated). Nothing is written unless the whole set loads: every issue is reported at once, naming its file,
 * document and field (CONFIG_INVALID, 422).
 *
 * A document whose parsed model did not change keeps its version; a changed one gets `currentVersion + 1`
 * and a `config_versions` row, in one transaction. `dryRun` validates the same way and says what would
 * change, writing nothing.
 */
import {
  exportConfigDocuments,
  formatIssue,
  parseConfigSources,
  type ConfigDocument,
  type ConfigSource,
  type KisConfig,
} from '@kisjobs/flow';
import { newId as newDbId, type PrismaClient } from '@kisjobs/db';
import { ValidationError, newId } from '@kisjobs/protocol';

export interface SavedConfigDocument {
  readonly id: string;
  readonly kind: ConfigDocument['kind'];
  readonly name: string;
  readonly version: number;
  /** False when the stored document was already equal (no new version). */
  readonly changed: boolean;
}

const STORED_PREFIX = 'stored:';

export async function putConfigDocuments(
  prisma: PrismaClient,
  sources: readonly ConfigSource[],
  options: {
    readonly createdById?: string | null;
    /** Validate and report what would change, writing nothing. */
    readonly dryRun?: boolean;
  } = {},
): Promise<SavedConfigDocument[]> {
  const stored = await prisma.configDocument.findMany({ select: { kind: true, name: true, yaml: true } });
  let storedSources: ConfigSource[] = stored.map((doc) => ({
    file: `${STORED_PREFIX}${doc.kind}/${doc.name}`,
    text: doc.yaml,
  }));
  let result = parseConfigSources([...sources, ...storedSources]);
  if (!result.ok) {
    // Stored documents that an upload redefines show up as duplicates: drop them and load again.
    const replaced = new Set(
      result.issues
        .filter((i) => i.code === 'DUPLICATE_NAME' && i.file.startsWith(STORED_PREFIX))
        .map((i) => i.file),
    );
    if (replaced.size > 0) {
      storedSources = storedSources.filter((s) => !replaced.has(s.file));
      result = parseConfigSources([...sources, ...storedSources]);
    }
  }
  if (!result.ok) {
    throw new ValidationError(
      result.issues.map((i) => ({
        path: `${i.file}#${i.document}${i.field === '' ? '' : `.${i.field}`}`,
        message: i.message,
      })),
      {
        code: 'CONFIG_INVALID',
        message: `KisFlow config is invalid: ${result.issues.map(formatIssue).join('; ')}`,
      },
    );
  }
  const kept = new Set(storedSources.map((s) => s.file.slice(STORED_PREFIX.length)));
  const uploaded = documentsOf(result.config).filter((doc) => !kept.has(`${doc.kind}/${nameOf(doc)}`));

  if (options.dryRun === true) {
    const existing = await prisma.configDocument.findMany({
      select: { id: true, kind: true, name: true, currentVersion: true, parsed: true },
    });
    const byKey = new Map(existing.map((row) => [`${row.kind}/${row.name}`, row]));
    return uploaded.map((doc) => {
      const name = nameOf(doc);
      const row = byKey.get(`${doc.kind}/${name}`);
      const same = row !== undefined && sameJson(row.parsed, JSON.parse(JSON.stringify(doc)));
      return {
        id: row?.id ?? '',
        kind: doc.kind,
        name,
        version: same ? (row?.currentVersion ?? 0) : (row?.currentVersion ?? 0) + 1,
        changed: !same,
      };
    });
  }

  return prisma.$transaction(async (tx) => {
    const saved: SavedConfigDocument[] = [];
    for (const doc of uploaded) {
      const name = nameOf(doc);
      const yaml = yamlOf(doc);
      const parsed = JSON.parse(JSON.stringify(doc)) as object;
      const existing = await tx.configDocument.findUnique({ where: { kind_name: { kind: doc.kind, name } } });
      if (existing !== null && sameJson(existing.parsed, parsed)) {
        saved.push({
          id: existing.id,
          kind: doc.kind,
          name,
          version: existing.currentVersion,
          changed: false,
        });
        continue;
      }
      const version = (existing?.currentVersion ?? 0) + 1;
      const row =
        existing === null
          ? await tx.configDocument.create({
              data: { id: newId('cfg'), kind: doc.kind, name, currentVersion: version, yaml, parsed },
            })
          : await tx.configDocument.update({
              where: { id: existing.id },
              data: { currentVersion: version, yaml, parsed },
            });
      await tx.configVersion.create({
        data: {
          id: newDbId('cfv'),
          documentId: row.id,
          version,
          yaml,
          parsed,
          createdById: options.createdById ?? null,
        },
      });
      saved.push({ id: row.id, kind: doc.kind, name, version, changed: true });
    }
    return saved;
  });
}

function documentsOf(config: KisConfig): ConfigDocument[] {
  return [
    ...(config.global === undefined ? [] : [config.global]),
    ...Object.values(config.conns),
    ...Object.values(config.funcs),
    ...Object.values(config.flows),
  ];
}

function nameOf(doc: ConfigDocument): string {
  return doc.kind === 'global' ? 'global' : doc.name;
}

/** The document alone, as YAML in the current dialect (what export writes). */
function yamlOf(doc: ConfigDocument): string {
  const single: KisConfig = {
    funcs: doc.kind === 'func' ? { [doc.name]: doc } : {},
    flows: doc.kind === 'flow' ? { [doc.name]: doc } : {},
    conns: doc.kind === 'conn' ? { [doc.name]: doc } : {},
    ...(doc.kind === 'global' ? { global: doc } : {}),
  };
  return exportConfigDocuments(single)
    .map((source) => source.text)
    .join('---\n');
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  );
}
