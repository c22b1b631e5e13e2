// The only IO of the report: write report.md and its plots into a run directory. Each file is
// written atomically (tmp + rename, `writeFileAtomic`), so a killed run never leaves a truncated
// report that a browser or `ziplm report` would show; the plots are written before report.md, so
// report.md never links a plot that is not there yet.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@ziplm/core/node';
import { loadLatencyTable } from '@ziplm/latency';
import type { RunResults } from '../results.js';
import { ReportWriteError } from './errors.js';
import { REPORT_MD, type ReportInputs, renderReport } from './report.js';

/** The latency table a run directory holds (the one its search used). */
export const RUN_LATENCY_TABLE = 'latency-table.json';

/**
 * The run directory's latency table for the report, when there is one. A damaged table does not stop
 * the report: it is rendered without the table's plot and CPU line, and a note says why.
 */
export async function readReportInputs(dir: string): Promise<ReportInputs> {
  const file = join(dir, RUN_LATENCY_TABLE);
  if (!existsSync(file)) return {};
  try {
    return { latencyTable: (await loadLatencyTable(file)).table };
  } catch (err) {
    // The message names the absolute path; the report names the file relative to itself, so that
    // the same run gives the same report wherever its directory is.
    return { latencyTableProblem: `${RUN_LATENCY_TABLE}: ${(err as Error).message.replaceAll(file, RUN_LATENCY_TABLE)}` };
  }
}

/**
 * Renders the report of `results` (with the run directory's latency table, when it has one) and
 * writes `accuracy-vs-speedup.svg`, `structure.svg`, `latency-table.svg` (with a table) and
 * `report.md` into `dir` (created if missing), each atomically. Rendering happens first, so
 * inconsistent results write nothing.
 * @returns the paths written, plots first.
 * @throws {ReportError} when the results cannot be rendered.
 * @throws {ReportWriteError} naming the file that could not be written.
 */
export async function writeReport(dir: string, results: RunResults): Promise<string[]> {
  const { markdown, svgs } = renderReport(results, await readReportInputs(dir));
  const files: [string, string][] = [...Object.entries(svgs), [REPORT_MD, markdown]];
  const written: string[] = [];
  for (const [name, content] of files) {
    const file = join(dir, name);
    try {
      await writeFileAtomic(file, content);
    } catch (err) {
      throw new ReportWriteError(file, `could not be written: ${(err as Error).message}`, { cause: err });
    }
    written.push(file);
  }
  return written;
}
