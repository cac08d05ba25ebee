/** Matrix rows of the report routes: listings over the caller's scenes, and one named scene. */
import { signedIn, type Case } from './kit.js';

export const REPORT_ROWS: Record<string, Case> = {
  'reports.daily': { method: 'GET', request: () => ({ path: '/api/reports/daily' }), inside: signedIn(200) },
  'reports.jobs': { method: 'GET', request: () => ({ path: '/api/reports/jobs' }), inside: signedIn(200) },
};
