// The only IO of the report: write report.md and its plots into a run directory. Each file is
// written atomically (tmp + rename, `writeFileAtomic`), so a killed run never leaves a truncated
// report that a browser or `ziplm report` would show; the plots are written before report.md, so
// report.md never links a plot that is not there yet.

import { join } from 'node:path';
import { writeFileAtomic } from '@ziplm/core/node';
import type { RunResults } from '../results.js';
import { ReportWriteError } from './errors.js';
import { REPORT_MD, renderReport } from './report.js';

/**
 * Renders the report of `results` and writes `accuracy-vs-speedup.svg`, `structure.svg` and
 * `report.md` into `dir` (created if missing), each atomically. Rendering happens first, so
 * inconsistent results write nothing.
 * @returns the paths written, plots first.
 * @throws {ReportError} when the results cannot be rendered.
 * @throws {ReportWriteError} naming the file that could not be written.
 */
export async function writeReport(dir: string, results: RunResults): Promise<string[]> {
  const { markdown, svgs } = renderReport(results);
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
