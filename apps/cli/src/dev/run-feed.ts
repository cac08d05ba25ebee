/** The dev stack's console feed: one line per run that ended, so a newcomer sees the schedule working. */
import type { PrismaClient } from '@kisjobs/db';

export interface RunFeed {
  stop(): Promise<void>;
}

function shortTime(date: Date): string {
  return date.toISOString().slice(11, 19);
}

export function startRunFeed(
  prisma: PrismaClient,
  print: (line: string) => void,
  intervalMs = 1_000,
): RunFeed {
  let since = new Date();
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  const poll = async (): Promise<void> => {
    const runs = await prisma.run.findMany({
      where: { finishedAt: { gt: since } },
      orderBy: [{ finishedAt: 'asc' }, { id: 'asc' }],
      take: 50,
      select: {
        id: true,
        status: true,
        finishedAt: true,
        durationMs: true,
        attempt: true,
        maxAttempts: true,
        errorMessage: true,
        job: { select: { name: true } },
      },
    });
    for (const run of runs) {
      const at = run.finishedAt ?? new Date();
      since = at > since ? at : since;
      const error = run.errorMessage === null ? '' : `  ${run.errorMessage}`;
      const attempt = run.maxAttempts > 1 ? `  attempt ${run.attempt}/${run.maxAttempts}` : '';
      print(
        `${shortTime(at)}  ${(run.job?.name ?? '(deleted job)').padEnd(20)} ${run.status.padEnd(10)} ${String(run.durationMs ?? '-').padStart(6)} ms  ${run.id}${attempt}${error}`,
      );
    }
  };
  const timer = setInterval(() => {
    if (stopped) return;
    current = current.then(poll).catch(() => undefined);
  }, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
