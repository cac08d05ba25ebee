/**
 * Architecture check (DESIGN §1): the dependency direction between workspaces, no deep imports across
 * packages, no relative import that leaves its workspace, and no import cycles between files.
 * Exits non-zero with one line per violation.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, relative, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

/** Which workspaces each workspace may import. Anything not listed here may import nothing of ours. */
const allowed: Record<string, readonly string[]> = {
  'packages/flow': [],
  'packages/protocol': [],
  'packages/db': ['packages/protocol'],
  'packages/executor': ['packages/flow', 'packages/protocol'],
  'packages/testing': ['packages/protocol', 'packages/db'],
  'apps/scheduler': ['packages/flow', 'packages/protocol', 'packages/db', 'packages/executor'],
  'apps/cli': ['packages/flow', 'packages/protocol', 'packages/db', 'packages/executor', 'apps/scheduler'],
  'apps/web': ['packages/protocol'],
};
/** Test code of a workspace may also use the testing helper and the workspaces it tests end to end. */
const testExtras = ['packages/testing'];
const crossWorkspaceTestRoots = ['test', 'bench'];

const sourceExt = /\.(ts|tsx|mts)$/;
const skipDirs = new Set(['node_modules', 'dist', 'generated', 'coverage', '.kisjobs']);

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (skipDirs.has(name)) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (sourceExt.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
}

function workspaces(): Map<string, string> {
  const byName = new Map<string, string>();
  for (const group of ['packages', 'apps']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir)) {
      const pkgFile = join(groupDir, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name: string };
      byName.set(pkg.name, `${group}/${name}`);
    }
  }
  return byName;
}

const importPattern =
  /(?:^|[^\w.])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const specs: string[] = [];
  for (const m of text.matchAll(importPattern)) {
    const spec = m[1] ?? m[2];
    if (spec !== undefined) specs.push(spec);
  }
  return specs;
}

function workspaceOf(relPath: string): string | undefined {
  const parts = relPath.split(sep);
  if ((parts[0] === 'packages' || parts[0] === 'apps') && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return undefined;
}

function resolveRelative(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    `${base}.ts`,
    join(base, 'index.ts'),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

const violations: string[] = [];
const byName = workspaces();
const files: string[] = [];
for (const group of ['packages', 'apps', ...crossWorkspaceTestRoots, 'scripts', 'examples'])
  walk(join(root, group), files);

const graph = new Map<string, string[]>();
for (const file of files) {
  const rel = relative(root, file);
  const own = workspaceOf(rel);
  const isTest = /(^|\/)(test|tests)\//.test(rel.split(sep).join('/')) || rel.startsWith('bench');
  const edges: string[] = [];
  for (const spec of importsOf(file)) {
    if (spec.startsWith('.')) {
      const target = resolveRelative(file, spec);
      if (target === undefined) continue;
      const targetWs = workspaceOf(relative(root, target));
      if (own !== undefined && targetWs !== own) {
        violations.push(`${rel}: relative import '${spec}' leaves ${own}; import the package by name`);
      }
      edges.push(target);
      continue;
    }
    const match = /^(@kisjobs\/[^/]+)(\/.*)?$/.exec(spec);
    if (!match) continue;
    const [, pkgName, subpath] = match;
    const target = pkgName === undefined ? undefined : byName.get(pkgName);
    if (target === undefined) {
      violations.push(`${rel}: imports unknown workspace '${spec}'`);
      continue;
    }
    if (subpath !== undefined) violations.push(`${rel}: deep import '${spec}'; import '${pkgName}' instead`);
    if (own === undefined || own === target) continue;
    const ok = (allowed[own] ?? []).includes(target) || (isTest && testExtras.includes(target));
    if (!ok) violations.push(`${rel}: ${own} may not import ${target} (DESIGN §1 dependency direction)`);
  }
  graph.set(file, edges);
}

// Tarjan's strongly connected components over the file graph: any component with >1 file is a cycle.
let index = 0;
const indices = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
function connect(v: string): void {
  indices.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!indices.has(w)) {
      connect(w);
      low.set(v, Math.min(low.get(v)!, low.get(w)!));
    } else if (onStack.has(w)) {
      low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
  }
  if (low.get(v) === indices.get(v)) {
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      component.push(relative(root, w));
    } while (w !== v);
    if (component.length > 1) violations.push(`import cycle: ${component.reverse().join(' -> ')}`);
  }
}
for (const v of graph.keys()) if (!indices.has(v)) connect(v);

if (violations.length > 0) {
  for (const v of violations) console.error(v);
  console.error(`architecture check failed: ${violations.length} violation(s)`);
  process.exit(1);
}
console.log(`architecture check passed: ${files.length} files`);
