/**
 * Names as well as ids on the command line: `kisjobs trigger aggregate-orders` finds the job by its name
 * (exact, in the scenes the caller can see); an id (`job_…`, `scn_…`) is used as it is.
 */
import type { Job, Scene } from '@kisjobs/protocol';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import type { ApiClient, Page } from './api-client.js';

async function allPages<T>(client: ApiClient, path: string, query: Record<string, string>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null | undefined;
  do {
    const page = await client.get<Page<T>>(path, {
      query: { ...query, limit: 500, cursor: cursor ?? undefined },
    });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null && cursor !== undefined && items.length < 10_000);
  return items;
}

export async function findScene(client: ApiClient, idOrName: string): Promise<Scene> {
  if (idOrName.startsWith('scn_')) return client.get<Scene>(`/api/scenes/${encodeURIComponent(idOrName)}`);
  const scenes = await allPages<Scene>(client, '/api/scenes', {});
  const found = scenes.find((s) => s.name === idOrName);
  if (found === undefined) {
    throw new CliError('NOT_FOUND', `no scene named "${idOrName}" (among the scenes you can see)`, {
      exitCode: EXIT.notFound,
      hint: 'List them with `kisjobs scenes list`.',
    });
  }
  return found;
}

export async function findJob(client: ApiClient, idOrName: string, scene?: string): Promise<Job> {
  if (idOrName.startsWith('job_')) return client.get<Job>(`/api/jobs/${encodeURIComponent(idOrName)}`);
  const sceneId = scene === undefined ? undefined : (await findScene(client, scene)).id;
  const jobs = (
    await allPages<Job>(client, '/api/jobs', { q: idOrName, ...(sceneId ? { sceneId } : {}) })
  ).filter((j) => j.name === idOrName);
  if (jobs.length === 0) {
    throw new CliError('NOT_FOUND', `no job named "${idOrName}" (among the jobs you can see)`, {
      exitCode: EXIT.notFound,
      hint: 'List them with `kisjobs jobs list`.',
    });
  }
  if (jobs.length > 1) {
    throw new CliError(
      'AMBIGUOUS',
      `${jobs.length} jobs are named "${idOrName}": ${jobs.map((j) => j.id).join(', ')}`,
      {
        exitCode: EXIT.usage,
        hint: 'Pass the job id, or --scene <name>.',
      },
    );
  }
  return jobs[0] as Job;
}
