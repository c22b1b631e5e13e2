// A run's results.json (written at the end of a run, read back by `ziplm report`) and its report
// (report.md + SVG plots).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '@ziplm/core/node';
import type { RunDirectory } from './internal/run-dir.js';
import { ReportError } from './report/errors.js';
import { checkRunResults, writeReport } from './report/index.js';
import type { RunResults } from './results.js';
import { parseRunResults } from './schemas/results.js';

export const RESULTS_FILE = 'results.json';

/** Writes results.json and the report. The results are checked first, so results.json is never written unreadable. */
export async function writeRunReport(run: RunDirectory, results: RunResults): Promise<void> {
  checkRunResults(results);
  // In the schema's key order (a member re-searched after it was written has its keys added last), so that
  // results.json read back and written again is byte-identical.
  const canonical = parseRunResults(JSON.parse(JSON.stringify(results)), run.path(RESULTS_FILE));
  await writeJsonAtomic(run.path(RESULTS_FILE), canonical);
  await writeReport(run.dir, canonical);
}

/**
 * Reads and checks the results.json of the run directory `dir`.
 * @throws {ReportError} naming the file: unreadable (field `(file)`), not JSON (`(root)`), or the first
 *   offending field.
 */
export async function readRunResults(dir: string): Promise<RunResults> {
  const file = join(dir, RESULTS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ReportError('(file)', `cannot be read: ${(error as Error).message}`, file, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ReportError('(root)', `is not valid JSON: ${(error as Error).message}`, file, { cause: error });
  }
  return parseRunResults(json, file);
}
