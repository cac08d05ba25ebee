#!/usr/bin/env node
/**
 * Generates the Prisma client into packages/db/src/generated/prisma (gitignored). Runs as the root
 * `postinstall`, so `git clone && npm ci` leaves a client that typecheck and tests can import.
 *
 * Offline: `prisma generate` itself needs no native engine, but the CLI insists on finding the schema engine
 * binary first and tries to download it. PRISMA_SCHEMA_ENGINE_BINARY pointing at any existing file satisfies
 * that check (DESIGN §8); we point it at the wasm schema engine that @kisjobs/db really uses, unless the
 * caller set it. Plain JavaScript on purpose: it runs before anything else is set up.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function resolveFile(specifier) {
  try {
    const path = fileURLToPath(import.meta.resolve(specifier));
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const cli = resolveFile('prisma/build/index.js');
if (cli === undefined) {
  // `npm ci --omit=dev`: no CLI to generate with. The client must then come from the build that made the image.
  console.warn('[db-generate] prisma CLI not installed (npm ci --omit=dev?): skipping client generation');
  process.exit(0);
}

const engineStandIn =
  resolveFile('@prisma/schema-engine-wasm/schema_engine_bg') !== undefined
    ? fileURLToPath(
        new URL(
          './schema_engine_bg.wasm',
          import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg'),
        ),
      )
    : process.execPath;

const result = spawnSync(process.execPath, [cli, 'generate'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? engineStandIn,
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
if (result.error !== undefined) throw result.error;
process.exit(result.status ?? 1);
