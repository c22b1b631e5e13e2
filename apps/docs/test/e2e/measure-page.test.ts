// The "Measure this device" page (measure.md) in a real browser, end to end: headless Chromium opens the
// built site, served once with cross-origin isolation (COOP/COEP: 2 wasm threads) and once without (one
// thread, a 100 µs clock), builds tiny-bert's latency table in the page from the plan the site ships
// (a quick protocol through the URL: 3 rounds), downloads it, and the table must parse with
// `parseLatencyTable` and record the page's engine, threads and isolation. `ziplm prune --table` (the CLI,
// in-process) then prunes tiny-bert with it and must write members without re-timing them, and the
// page's "verify in this browser" re-times two of them against the dense model and prints well-formed
// verdicts. The page's figures (isolation, threads, build time, verdicts) are printed for the record.
//
// Needs the built site (`pnpm docs:build`) and Chromium; skips with a message otherwise (see test/browser.ts).

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { EXIT } from '@ziplm/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measurePlan, pruneCommandFor } from '../../browser/measure-plans.ts';
import {
  buildTableInPage,
  type MeasurePageData,
  openMeasurePage,
  type PageTable,
  type PageVerification,
  verifyInPage,
} from '../../scripts/measure-page-driver.ts';
import { browserTestsUnavailable, distDir, openSite, type SiteSession, watchedPage } from '../browser.ts';
import { runZiplm } from '../cli-script.ts';

const PLAN = measurePlan('tiny-bert')!;
const unavailable = browserTestsUnavailable(`levels/${PLAN.model}/manifest.json`);
if (unavailable !== undefined) console.warn(`measure page browser test skipped: ${unavailable}`);

const root = mkdtempSync(join(tmpdir(), 'ziplm-measure-page-'));

interface MeasureRun {
  readonly page: MeasurePageData;
  readonly built: PageTable;
  readonly runDir: string;
  readonly verification: PageVerification;
  readonly problems: readonly string[];
}

/**
 * Builds the table in the page, downloads it, prunes with it through the CLI, and re-times the run's
 * members in the same page.
 */
async function measureAndVerify(site: SiteSession, name: string, threads: number): Promise<MeasureRun> {
  const { page, context, problems } = await watchedPage(site);
  try {
    const query = `?model=${PLAN.model}&threads=${threads}&rounds=3&warmup=1&verify-rounds=8`;
    const opened = await openMeasurePage(page, `${site.origin}/measure.html${query}`);
    const built = await buildTableInPage(page, join(root, name), 240_000);

    const runDir = join(root, name, 'run');
    const prune = await runZiplm(
      [
        'prune',
        '--model',
        PLAN.model,
        ...PLAN.workloadArgs,
        '--table',
        built.file,
        '--task',
        'samples',
        '--targets',
        '1.5,2',
        '--calibration-samples',
        '8',
        '--no-spdy',
        '--retarget',
        '0',
        '--engine',
        'js',
        '--run',
        runDir,
      ],
      root,
    );
    if (prune.code !== EXIT.ok) throw new Error(`ziplm prune exited with ${prune.code}:\n${prune.stderr}`);
    expect(prune.stderr).toMatch(/not re-timed here/);

    const verification = await verifyInPage(page, runDir, 180_000);
    return { page: { ...opened, ...built.data }, built, runDir, verification, problems: [...problems] };
  } finally {
    await context.close();
  }
}

function report(name: string, run: MeasureRun): void {
  const rows = run.verification.verdicts.map(
    (v) =>
      `${v.member}: target ${v.target.toFixed(2)}x, predicted ${v.predicted.toFixed(2)}x, measured ${v.measured.toFixed(2)}x, ${v.status}`,
  );
  const { table } = run.built;
  const timer = table.build?.timer;
  console.log(
    `measure page, ${name}: crossOriginIsolated=${run.page.isolated} threads=${run.page.threads} backend=${run.page.backend} ` +
      `webgpu=${run.page.webgpu}; tiny-bert table built in ${run.built.buildSeconds} s, dense ${table.dense.median.toFixed(3)} ms, ` +
      `timer ${timer ? `${(timer.resolutionMs * 1000).toFixed(1)} µs × ${timer.runsPerSample} runs/sample` : '?'}\n  ${rows.join('\n  ')}`,
  );
}

/** What every run must show, isolated or not. */
function expectEndToEnd(run: MeasureRun, threads: number, isolated: boolean): void {
  const { table, file, command } = run.built;
  expect(run.problems).toEqual([]);
  // The table: this page's engine, threads and isolation, the plan's workload.
  expect(table.environment).toMatchObject({
    engine: 'onnxruntime-web',
    backend: 'wasm',
    threads,
    batchSize: 1,
    sequenceLength: PLAN.sequenceLength,
  });
  expect(table.fingerprint.web).toMatchObject({ crossOriginIsolated: isolated, simd: true, requestedThreads: isolated ? threads : 1 });
  const plan = JSON.parse(readFileSync(join(distDir(), 'levels', PLAN.model, 'manifest.json'), 'utf8')) as { ffnLevels: number[] };
  expect(table.ffn.map((l) => l.kept)).toEqual(plan.ffnLevels);
  expect(command).toBe(pruneCommandFor(PLAN, basename(file)));

  // The run searched with it and left re-timing to the browser.
  const results = JSON.parse(readFileSync(join(run.runDir, 'results.json'), 'utf8')) as {
    members: Array<{ dir: string; target: number; predictedSpeedup: number; measuredSpeedup?: number }>;
    notes: string[];
  };
  expect(results.members.map((m) => m.target)).toEqual([1.5, 2]);
  for (const m of results.members) {
    expect(existsSync(join(run.runDir, m.dir, 'model.onnx')), m.dir).toBe(true);
    expect(m.measuredSpeedup, m.dir).toBeUndefined();
  }

  // Verify in this browser: one well-formed verdict per member, with the run's targets and predictions.
  expect(run.verification.verdicts.map((v) => v.target)).toEqual([1.5, 2]);
  run.verification.verdicts.forEach((v, i) => {
    expect(['pass', 'inconclusive', 'fail']).toContain(v.status);
    expect(v.measured, v.member).toBeGreaterThan(0);
    expect(v.predicted, v.member).toBeCloseTo(results.members[i]!.predictedSpeedup, 6);
  });
  expect(run.verification.report).toMatch(/ziplm-1\.50x: .*\n?.*ziplm-2\.00x: /s);
}

describe.skipIf(unavailable !== undefined)('measure page in headless Chromium', () => {
  describe('cross-origin isolated (COOP/COEP): 2 wasm threads', () => {
    let site: SiteSession;
    beforeAll(async () => {
      site = await openSite({ crossOriginIsolation: true });
    });
    afterAll(() => site?.close());

    it('builds the tiny-bert table, prunes with it through the CLI and re-times two members here', { timeout: 600_000 }, async () => {
      const run = await measureAndVerify(site, 'isolated', 2);
      report('isolated, ?threads=2', run);
      expect(run.page).toMatchObject({ isolated: 'true', threads: '2', backend: 'wasm' });
      expectEndToEnd(run, 2, true);
    });
  });

  describe('not isolated: one thread', () => {
    let site: SiteSession;
    beforeAll(async () => {
      site = await openSite({ crossOriginIsolation: false });
    });
    afterAll(() => site?.close());

    it('builds the table on one thread whatever was asked, and says so', { timeout: 600_000 }, async () => {
      // ?threads=2 is ignored without isolation: there is no SharedArrayBuffer for worker threads.
      const run = await measureAndVerify(site, 'not-isolated', 2);
      report('not isolated', run);
      expect(run.page).toMatchObject({ isolated: 'false', threads: '1', backend: 'wasm', webgpu: 'unavailable' });
      expectEndToEnd(run, 1, false);
      // Chromium coarsens the clock without isolation: samples span several runs.
      expect(run.built.table.build!.timer!.resolutionMs).toBeGreaterThan(0.02);
    });
  });
});
