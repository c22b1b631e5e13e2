// The retarget loop re-searches on the latency table calibrated to the members measured so far
// (@ziplm/latency's `calibrateToMembers`), kept only when it predicts held-out members better than
// the table. The device is scripted (verifySpeedups of @ziplm/latency/measure is mocked) and the
// table is hand-made (smooth, monotone, its non-prunable part small), so that the calibration's
// decision depends on the scripted measurements alone, not on this machine's timings.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attentionLevels, ffnLevels } from '@ziplm/hessian';
import {
  applyMemberCalibration,
  calibrateToMembers,
  inferenceEnvironment,
  LATENCY_TABLE_FORMAT,
  LATENCY_TABLE_VERSION,
  type LatencyTable,
  type LevelTime,
  modelShapeOf,
  predictRuntime,
  saveLatencyTable,
} from '@ziplm/latency';
import { ortFingerprint, type VerificationReport, type VerifyCandidate } from '@ziplm/latency/measure';
import { builtinModelDir, loadModelDir } from '@ziplm/models';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MemberResult } from '../../src/index.js';
import { runOneShot, type OneShotOptions } from '../../src/oneshot.js';
import { scriptedReport } from '../fixtures/scripted-verification.js';

/** The fake device: the measured speedup of a candidate, given which verification (0, 1, …) times it. */
let device: (candidate: VerifyCandidate, verification: number) => number = () => {
  throw new Error('the test set no device');
};
let verifications = 0;

vi.mock('@ziplm/latency/measure', async (importOriginal) => {
  const original = await importOriginal<typeof import('@ziplm/latency/measure')>();
  return {
    ...original,
    async verifySpeedups(options: { candidates: readonly VerifyCandidate[]; tolerance?: number }): Promise<VerificationReport[]> {
      const tolerance = options.tolerance ?? 0.02;
      const verification = verifications++;
      return options.candidates.map((c) => scriptedReport(c, { measured: device(c, verification), uncertainty: UNCERTAINTY }, tolerance));
    },
  };
});

/** Relative standard error of every scripted measurement. */
const UNCERTAINTY = 0.001;
const TARGETS = [1.5, 2, 3, 4];

const root = mkdtempSync(join(tmpdir(), 'ziplm-retarget-calibration-'));
const tablePath = join(root, 'table.json');
let table: LatencyTable;

/**
 * A smooth, monotone table for tiny-bert in the run's default environment: dense 10 ms, 0.4 ms of it
 * not prunable, each level a fixed cost plus a cost per kept head / neuron.
 */
async function handTable(): Promise<LatencyTable> {
  const { config } = (await loadModelDir(builtinModelDir('tiny-bert'))).checkpoint;
  const summary = (median: number) => ({ median, dispersion: 0.01, relativeError: 0.002, samples: 20 });
  const levels = (grid: readonly number[], fixed: number, full: number, size: number): LevelTime[] =>
    grid.map((kept) => (kept === 0 ? { kept, time: 0 } : { kept, time: fixed + (full - fixed) * (kept / size) }));
  const nonPrunable = 0.4;
  const dense = nonPrunable + config.numLayers * (1.2 + 1.2);
  return {
    format: LATENCY_TABLE_FORMAT,
    version: LATENCY_TABLE_VERSION,
    createdAt: '2026-11-22T10:00:00.000Z',
    environment: inferenceEnvironment({}),
    fingerprint: await ortFingerprint(),
    model: modelShapeOf(config),
    unit: 'ms',
    dense: summary(dense),
    nonPrunable: summary(nonPrunable),
    prunable: dense - nonPrunable,
    blockTiming: { context: 'isolated', overhead: { attention: 0, ffn: 0 }, scale: 1 },
    attention: levels(attentionLevels(config.numHeads), 0.2, 1.2, config.numHeads),
    ffn: levels(ffnLevels(config.intermediateSize), 0.1, 1.2, config.intermediateSize),
  };
}

const base = (runDir: string): OneShotOptions => ({
  modelDir: builtinModelDir('tiny-bert'),
  runDir,
  tablePath,
  targets: TARGETS,
  task: 'samples',
  methods: ['ziplm'],
  calibrationSamples: 8,
  engine: 'js',
  spdy: false,
  evaluate: false,
  tolerance: 0.02,
  retarget: 2,
});

/** The version of a member the first verification measured: the member itself, or the first one it replaced. */
const firstVersion = (m: MemberResult) => m.attempts?.[0] ?? m;

beforeAll(async () => {
  table = await handTable();
  await saveLatencyTable(tablePath, table);
});

beforeEach(() => {
  verifications = 0;
});

describe('runOneShot retarget with the member calibration', () => {
  it('re-searches on the calibrated table when every member measures 8% below its prediction', async () => {
    // First verification: 8% below the table's prediction, every member; the re-searched versions land on target.
    device = (c, verification) => (verification === 0 ? 0.92 * c.predicted! : c.target);
    const stages: string[] = [];
    const results = await runOneShot({
      ...base(join(root, 'biased')),
      onEvent: (e) => e.kind === 'stage' && e.stage === 'latency' && stages.push(e.message),
    });
    expect(results.members).toHaveLength(TARGETS.length);

    // The calibration the loop should have fitted: every member as first measured.
    const first = results.members.map(firstVersion);
    const calibration = calibrateToMembers(
      table,
      first.map((v) => ({ layerHeads: v.layerHeads, layerIntermediate: v.layerIntermediate, measuredSpeedup: 0.92 * v.predictedSpeedup })),
    );
    expect(calibration.model).not.toBe('none');
    const calibrated = applyMemberCalibration(table, calibration);

    // It was announced, and is in the report's notes.
    expect(stages).toHaveLength(1);
    expect(stages[0]).toMatch(
      new RegExp(`calibrated to ${TARGETS.length} measured model\\(s\\) \\(${calibration.model.replace('+', '\\+')}: scale`),
    );
    expect(stages[0]).toContain(calibration.reason);
    expect(results.notes).toContain(stages[0]);

    const researched = results.members.filter((m) => m.attempts?.length);
    expect(researched.length).toBeGreaterThanOrEqual(3);
    for (const m of researched) {
      const was = m.attempts![0]!;
      expect(was.measuredSpeedup).toBeCloseTo(0.92 * was.predictedSpeedup, 12);
      // The search target: the target, corrected by what the calibrated table still gets wrong on
      // the member when that is beyond two standard errors of its measurement.
      const residual = predictRuntime(calibrated, was).speedup / was.measuredSpeedup;
      const correction = Math.abs(residual - 1) > 2 * UNCERTAINTY ? Math.min(1.25, Math.max(1 / 1.25, residual)) : 1;
      // (A search target equal to the target is not recorded.)
      const searchTarget = m.searchTarget ?? m.target;
      expect(searchTarget).toBeCloseTo(Math.max(1, m.target * correction), 10);
      // The calibration removed the bias: the search target is close to the target, not 8% above it.
      expect(searchTarget / m.target).toBeLessThan(1.03);
      // The prediction stored is the calibrated table's (what the member was searched with), and the
      // prediction error is measured against it.
      expect(m.predictedSpeedup).toBeCloseTo(predictRuntime(calibrated, m).speedup, 10);
      expect(predictRuntime(table, m).speedup / m.predictedSpeedup - 1).toBeGreaterThan(0.04);
      expect(m.verification!.predictionError).toBeCloseTo(m.measuredSpeedup! / m.predictedSpeedup - 1, 12);
      expect(m.measuredSpeedup).toBe(m.target);
    }
  }, 180_000);

  it('keeps the table as measured when a single member is off (noise, not a bias)', async () => {
    // First verification: every member as predicted but the 3x one, 15% short; its re-search lands on target.
    device = (c, verification) => (verification > 0 ? c.target : c.target === 3 ? 0.85 * c.predicted! : c.predicted!);
    const stages: string[] = [];
    const results = await runOneShot({
      ...base(join(root, 'noisy')),
      onEvent: (e) => e.kind === 'stage' && e.stage === 'latency' && stages.push(e.message),
    });
    expect(stages).toHaveLength(1);
    expect(stages[0]).toMatch(/with the latency table as measured \(no calibration kept, from 4 measured model\(s\)\)/);
    expect(stages[0]).toMatch(/no fit predicts held-out models better than the table/);
    expect(results.notes).toContain(stages[0]);

    const researched = results.members.filter((m) => m.attempts?.length);
    expect(researched.map((m) => m.target)).toEqual([3]);
    const [m] = researched;
    const was = m!.attempts![0]!;
    // The per-member correction alone, as without a calibration: target · predicted / measured.
    expect(m!.searchTarget).toBeCloseTo(3 / 0.85, 10);
    expect(m!.predictedSpeedup).toBeCloseTo(predictRuntime(table, m!).speedup, 10);
    expect(was.measuredSpeedup).toBeCloseTo(0.85 * was.predictedSpeedup, 12);
    expect(m!.measuredSpeedup).toBe(3);
  }, 180_000);
});
