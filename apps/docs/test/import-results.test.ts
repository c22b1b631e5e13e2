// results:import: a run directory becomes a results page that shows its command and includes its
// report; bad input is refused with a message naming the problem.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport, type RunResults } from '@ziplm/pipeline';
import { describe, expect, it } from 'vitest';
import { importRun, indexedRunsTable, importedRuns, runsTable } from '../scripts/import-results.ts';

const results: RunResults = {
  format: 'ziplm-run-results',
  version: 1,
  mode: 'oneshot',
  task: 'samples',
  metric: { name: 'agreement', label: 'agreement with the dense model (%)', higherIsBetter: true },
  model: { modelType: 'bert', numLayers: 2, hiddenSize: 8, numHeads: 2, intermediateSize: 16, layerParameters: 1000 },
  environment: 'onnxruntime-node 2 threads opt=all latency 1x16',
  dense: { metric: 100, timeMs: 1 },
  members: [
    {
      method: 'ziplm',
      target: 2,
      predictedSpeedup: 2.1,
      measuredSpeedup: 2.05,
      deviation: 0.025,
      status: 'pass',
      metric: 90,
      searchError: 0.5,
      layerHeads: [1, 1],
      layerIntermediate: [8, 0],
      layerParameters: 400,
      dir: 'members/ziplm-2.00x',
    },
  ],
  notes: [],
};

async function runDirectory(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ziplm-docs-import-run-'));
  await writeReport(dir, results);
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ createdAt: '2026-11-22T00:00:00.000Z', versions: { '@ziplm/pipeline': '0.0.0' }, tableSha256: 'ab'.repeat(32) }),
  );
  writeFileSync(join(dir, 'latency-table.json'), '{}');
  return dir;
}

describe('results:import', () => {
  it('copies the report, plots and data and writes a page with the command', async () => {
    const run = await runDirectory();
    const docsRoot = mkdtempSync(join(tmpdir(), 'ziplm-docs-import-site-'));
    const page = await importRun(run, 'demo-run', 'pnpm ziplm prune --targets 2', { docsRoot, now: new Date('2026-11-23T00:00:00Z') });
    expect(page).toBe(join(docsRoot, 'results/demo-run/index.md'));
    for (const f of ['report.md', 'accuracy-vs-speedup.svg', 'structure.svg'])
      expect(existsSync(join(docsRoot, 'results/demo-run', f)), f).toBe(true);
    for (const f of ['results.json', 'latency-table.json', 'run.json'])
      expect(existsSync(join(docsRoot, 'public/results/demo-run', f)), f).toBe(true);
    expect(readFileSync(join(docsRoot, 'results/demo-run/report.md'), 'utf8')).toBe(readFileSync(join(run, 'report.md'), 'utf8'));
    const text = readFileSync(page, 'utf8');
    expect(text).toContain('```sh\npnpm ziplm prune --targets 2\n```');
    // The report is included without its title line: the page has its own h1.
    expect(readFileSync(join(run, 'report.md'), 'utf8')).toMatch(/^# ZipLM run report: samples\n/);
    expect(text).toContain('*ZipLM run report: samples*');
    expect(text).toContain('<!--@include: ./report.md{2,}-->');
    expect(text.match(/^# /gm)).toHaveLength(1);
    expect(text).toContain('- **environment:** onnxruntime-node 2 threads opt=all latency 1x16');
    expect(text).toContain('[results.json](/results/demo-run/results.json)');
    const provenance = JSON.parse(readFileSync(join(docsRoot, 'public/results/demo-run/run.json'), 'utf8'));
    expect(provenance).toMatchObject({
      name: 'demo-run',
      command: 'pnpm ziplm prune --targets 2',
      importedAt: '2026-11-23T00:00:00.000Z',
      createdAt: '2026-11-22T00:00:00.000Z',
    });
    // The overview's table lists the run (only when the overview exists: here it does not).
    expect(runsTable(await importedRuns(docsRoot))).toBe(
      '| run | mode | task | model | environment | targets | methods |\n|---|---|---|---|---|---|---|\n' +
        '| [demo-run](/results/demo-run/) | oneshot | samples | BERT 2×8 | onnxruntime-node 2 threads opt=all latency 1x16 | 2× | ziplm |',
    );
    // Re-importing replaces the run (no stale files from the previous import).
    writeFileSync(join(docsRoot, 'results/demo-run/stale.svg'), '<svg/>');
    await importRun(run, 'demo-run', 'pnpm ziplm prune --targets 2', { docsRoot });
    expect(existsSync(join(docsRoot, 'results/demo-run/stale.svg'))).toBe(false);
  });

  it('rewrites the runs table of the results overview between its markers', async () => {
    const run = await runDirectory();
    const docsRoot = mkdtempSync(join(tmpdir(), 'ziplm-docs-import-site-'));
    await mkdir(join(docsRoot, 'results'));
    const marker = '<!-- runs:start (written by scripts/import-results.ts) -->';
    writeFileSync(join(docsRoot, 'results/index.md'), `# Results\n\n${marker}\n\nold\n\n<!-- runs:end -->\n\nafter\n`);
    await importRun(run, 'demo-run', 'cmd', { docsRoot });
    const index = readFileSync(join(docsRoot, 'results/index.md'), 'utf8');
    expect(index).not.toContain('old');
    expect(index).toContain('| [demo-run](/results/demo-run/) |');
    expect(index.endsWith('<!-- runs:end -->\n\nafter\n')).toBe(true);
    expect(await indexedRunsTable(docsRoot)).toBe(runsTable(await importedRuns(docsRoot)));
  });

  it('refuses a bad name, a missing command, and a directory that is not a finished run', async () => {
    const run = await runDirectory();
    const docsRoot = mkdtempSync(join(tmpdir(), 'ziplm-docs-import-site-'));
    await expect(importRun(run, 'Bad Name', 'x', { docsRoot })).rejects.toThrow(/lower-case letters, digits and dashes/);
    await expect(importRun(run, 'ok', '  ', { docsRoot })).rejects.toThrow(/--command is required/);
    const empty = join(docsRoot, 'empty');
    await mkdir(empty);
    await expect(importRun(empty, 'ok', 'x', { docsRoot })).rejects.toThrow(/results\.json: missing/);
    writeFileSync(join(run, 'results.json'), JSON.stringify({ ...results, version: 2 }));
    await expect(importRun(run, 'ok', 'x', { docsRoot })).rejects.toThrow(/results\.json: not a valid run result.*version/);
  });
});
