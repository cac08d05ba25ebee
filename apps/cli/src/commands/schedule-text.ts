/** A job's schedule in one short phrase, for tables. */
import type { JobSchedule } from '@kisjobs/protocol';

export function scheduleText(schedule: JobSchedule): string {
  switch (schedule.type) {
    case 'cron':
      return `cron ${schedule.expr} (${schedule.timezone})`;
    case 'fixed_rate':
      return `every ${schedule.everyMs} ms`;
    case 'once':
      return `once at ${schedule.at}`;
    case 'manual':
      return 'manual';
  }
}
