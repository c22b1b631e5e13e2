// Writes results.json and the report (report.md + SVG plots) of a run.

import { writeJsonAtomic } from './files.js';
import { writeReport } from './report/index.js';
import type { RunResults } from './results.js';
import type { RunDirectory } from './run-dir.js';

export const RESULTS_FILE = 'results.json';

export async function writeRunReport(run: RunDirectory, results: RunResults): Promise<void> {
  await writeJsonAtomic(run.path(RESULTS_FILE), results);
  await writeReport(run.dir, results);
}
