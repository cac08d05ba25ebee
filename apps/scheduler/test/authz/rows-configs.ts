/**
 * Matrix rows of the config routes: each import or validation brings a function document of its own, and
 * the reads look at one stored on first use.
 */
import { operate, signedIn, type Case, type Ctx } from './kit.js';

const funcYaml = (name: string): string =>
  `kistype: func\nfname: ${name}\nfmode: Calculate\nsource:\n  name: matrix\n  must: []\n`;

const stored = new WeakSet<object>();

async function storedFunc(ctx: Ctx): Promise<string> {
  const scheduler = ctx.env.scheduler;
  if (scheduler === undefined) throw new Error('the matrix runs with a scheduler');
  if (!stored.has(scheduler)) {
    await scheduler.putConfigDocuments([{ file: 'matrix-read.yml', text: funcYaml('MatrixRead') }]);
    stored.add(scheduler);
  }
  return 'MatrixRead';
}

const files = (ctx: Ctx) => ({
  files: [{ name: 'f.yml', content: funcYaml(ctx.fresh('Fn').replace(/-/g, '')) }],
});

export const CONFIG_ROWS: Record<string, Case> = {
  'configs.validate': {
    method: 'POST',
    request: (ctx) => ({ path: '/api/configs/validate', body: files(ctx) }),
    inside: signedIn(200),
  },
  'configs.import': {
    method: 'POST',
    request: (ctx) => ({ path: '/api/configs/import', body: files(ctx) }),
    inside: operate(200),
  },
  'configs.list': { method: 'GET', request: () => ({ path: '/api/configs' }), inside: signedIn(200) },
  'configs.export': {
    method: 'GET',
    request: () => ({ path: '/api/configs/export' }),
    inside: signedIn(200),
  },
  'configs.get': {
    method: 'GET',
    request: async (ctx) => ({ path: `/api/configs/func/${await storedFunc(ctx)}` }),
    inside: signedIn(200),
  },
  'configs.versions': {
    method: 'GET',
    request: async (ctx) => ({ path: `/api/configs/func/${await storedFunc(ctx)}/versions` }),
    inside: signedIn(200),
  },
};
