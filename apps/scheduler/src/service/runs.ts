/**
 * Reading runs and their log lines (for the tests and the later HTTP API): one run (typed 404), a filtered
 * page newest first, and a run's log lines in (run, seq) order after a sequence number.
 */
import {
  listRunLogLines,
  listRuns,
  type Page,
  type PageRequest,
  type PrismaClient,
  type Run,
  type RunFilter,
  type RunLogLine,
} from '@kisjobs/db';
import { NotFoundError } from '@kisjobs/protocol';

export async function getRun(prisma: PrismaClient, runId: string): Promise<Run> {
  const run = await prisma.run.findUnique({ where: { id: runId } });
  if (run === null) throw new NotFoundError('run', runId);
  return run;
}

export function listRunsPage(
  prisma: PrismaClient,
  filter: RunFilter = {},
  page: PageRequest = {},
): Promise<Page<Run>> {
  return listRuns(prisma, filter, page);
}

export async function runLogs(
  prisma: PrismaClient,
  runId: string,
  options: { readonly afterSeq?: number; readonly limit?: number } = {},
): Promise<RunLogLine[]> {
  await getRun(prisma, runId);
  return listRunLogLines(prisma, runId, options);
}
