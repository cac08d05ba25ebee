/**
 * Every row of the authorization matrix, one module per group of routes. A module adding routes adds its
 * rows file here.
 */
import type { Case } from './kit.js';
import { CONFIG_ROWS } from './rows-configs.js';
import { CORE_ROWS } from './rows-core.js';
import { EXECUTOR_ROWS } from './rows-executors.js';
import { JOB_ROWS } from './rows-jobs.js';
import { REPORT_ROWS } from './rows-reports.js';
import { RUN_ROWS } from './rows-runs.js';

export const MATRIX: Readonly<Record<string, Case>> = {
  ...CORE_ROWS,
  ...JOB_ROWS,
  ...RUN_ROWS,
  ...EXECUTOR_ROWS,
  ...CONFIG_ROWS,
  ...REPORT_ROWS,
};
