// writeReport: the report's only IO. Writes exactly what renderReport returns, atomically (no *.tmp
// left behind), overwrites an earlier report, and writes nothing when the results are inconsistent.

import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCURACY_SVG, REPORT_MD, ReportError, ReportWriteError, STRUCTURE_SVG, renderReport, writeReport } from '../src/report/index.js';
import type { RunResults } from '../src/results.js';
import { threeMethodRun } from './fixtures/report/runs.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ziplm-report-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeReport', () => {
  it('writes report.md and both plots, exactly as rendered, plots first', async () => {
    const results = threeMethodRun();
    const written = await writeReport(dir, results);
    expect(written).toEqual([join(dir, ACCURACY_SVG), join(dir, STRUCTURE_SVG), join(dir, REPORT_MD)]);
    expect((await readdir(dir)).sort()).toEqual([ACCURACY_SVG, REPORT_MD, STRUCTURE_SVG].sort());
    const rendered = renderReport(results);
    expect(await readFile(join(dir, REPORT_MD), 'utf8')).toBe(rendered.markdown);
    for (const [name, svg] of Object.entries(rendered.svgs)) expect(await readFile(join(dir, name), 'utf8')).toBe(svg);
  });

  it('creates a missing run directory and overwrites an earlier report', async () => {
    const nested = join(dir, 'runs', 'sst2');
    await writeReport(nested, threeMethodRun());
    await writeFile(join(nested, REPORT_MD), 'stale');
    const updated: RunResults = { ...threeMethodRun(), task: 'sst2-updated' };
    await writeReport(nested, updated);
    expect(await readFile(join(nested, REPORT_MD), 'utf8')).toContain('# ZipLM run report: sst2-updated');
    expect((await readdir(nested)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('writes nothing when the results cannot be rendered', async () => {
    const bad: RunResults = { ...threeMethodRun(), dense: { timeMs: -1 } };
    await expect(writeReport(dir, bad)).rejects.toBeInstanceOf(ReportError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('names the file it could not write and leaves no temporary file', async () => {
    // A directory where report.md should go: the rename onto it fails.
    await mkdir(join(dir, REPORT_MD));
    const error = await writeReport(dir, threeMethodRun()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ReportWriteError);
    expect((error as ReportWriteError).file).toBe(join(dir, REPORT_MD));
    expect((error as Error).message).toContain(join(dir, REPORT_MD));
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
