/**
 * Test glue for the schedule engine: a fake clock, a recording dispatcher port that records runs the way
 * the real dispatcher does (deterministic fire ids, ON CONFLICT DO NOTHING), and job seeding.
 */
import { createDb, insertRuns, type Db, type PrismaClient } from '@kisjobs/db';
import { fireRunId, newId } from '@kisjobs/protocol';
import { createMigratedDatabase, type TestDatabase } from '@kisjobs/testing';
import type { Clock, LogFields, Logger } from '../src/registry/ports.js';
import type { FireDispatcher, FireOutcome, ScheduledFire } from '../src/schedule/fire-port.js';

export class FakeClock implements Clock {
  #ms: number;
  constructor(start: Date | string) {
    this.#ms = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#ms);
  }
  set(at: Date | string): void {
    this.#ms = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.#ms += ms;
  }
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly fields?: LogFields;
}

export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (msg: string, fields?: LogFields) => void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface RecordingDispatcher extends FireDispatcher {
  /** Every fire handed over, in order, duplicates included. */
  readonly fires: ScheduledFire[];
  /** The run ids actually inserted (a duplicate fire inserts nothing). */
  readonly inserted: string[];
  /** Decides each fire's outcome (default: ok). Runs before anything is recorded. */
  outcome?: (fire: ScheduledFire) => FireOutcome;
  /** Called before recording, e.g. to look at the database as the fire happens. */
  onFire?: (fires: readonly ScheduledFire[]) => Promise<void>;
}

export function recordingDispatcher(prisma: PrismaClient, sceneId: string): RecordingDispatcher {
  const port: RecordingDispatcher = {
    fires: [],
    inserted: [],
    async fire(batch) {
      await port.onFire?.(batch);
      port.fires.push(...batch);
      const outcomes = batch.map((fire) => port.outcome?.(fire) ?? { ok: true as const });
      const ok = batch.filter((_, i) => outcomes[i]?.ok === true);
      const ids = await insertRuns(
        prisma,
        ok.map((fire) => ({
          id: fireRunId(fire.jobId, fire.scheduledAt),
          jobId: fire.jobId,
          sceneId,
          flowName: 'flow',
          triggerType: fire.triggerType,
          triggeredBy: 'scheduler',
          scheduledAt: fire.scheduledAt,
        })),
      );
      port.inserted.push(...ids);
      return outcomes;
    },
  };
  return port;
}

export interface ScheduleDb {
  readonly database: TestDatabase;
  readonly db: Db;
  readonly prisma: PrismaClient;
  readonly sceneId: string;
  readonly groupId: string;
  close(): Promise<void>;
}

export async function scheduleDb(label: string): Promise<ScheduleDb> {
  const database = await createMigratedDatabase(label);
  const db = createDb({ url: database.url });
  const sceneId = newId('scn');
  const groupId = newId('grp');
  await db.prisma.scene.create({ data: { id: sceneId, name: `scene-${label}` } });
  await db.prisma.executorGroup.create({ data: { id: groupId, name: `group-${label}` } });
  return {
    database,
    db,
    prisma: db.prisma,
    sceneId,
    groupId,
    async close() {
      await db.close();
      await database.drop();
    },
  };
}

export type JobSeed = Partial<Parameters<PrismaClient['job']['create']>[0]['data']> & {
  readonly scheduleType: 'cron' | 'fixed_rate' | 'once' | 'manual';
};

/** Inserts a job (a valid `job_…` id) and returns its id. */
export async function seedJob(s: ScheduleDb, seed: JobSeed): Promise<string> {
  const id = newId('job');
  await s.prisma.job.create({
    data: {
      name: `job-${id}`,
      flowName: 'flow',
      ...seed,
      id,
      sceneId: seed.sceneId ?? s.sceneId,
      executorGroupId: s.groupId,
    } as Parameters<PrismaClient['job']['create']>[0]['data'],
  });
  return id;
}

export async function runsOf(prisma: PrismaClient, jobId: string) {
  return prisma.run.findMany({
    where: { jobId },
    orderBy: { scheduledAt: 'asc' },
    select: { scheduledAt: true, triggerType: true, id: true },
  });
}

export const iso = (dates: readonly Date[]): string[] => dates.map((d) => d.toISOString());
