// Calibration of a table to measured members (calibration.ts): exact, deterministic cases. The
// "device" is a true table; a member's measured speedup is its speedup under the true table.
import { bertConfig, type LayerShapes } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { selectCalibration } from '../src/calibration.js';
import type { LatencyTable, LayerErrors, MeasuredMember } from '../src/index.js';
import {
  applyMemberCalibration,
  calibrateToMembers,
  inferenceEnvironment,
  parseLatencyTable,
  predictRuntime,
  searchForSpeedup,
} from '../src/index.js';
import { buildLatencyTable } from '../src/measure/index.js';
import { fakeEngine, type GraphInfo } from './fake-runner.js';
import { handTable } from './helpers.js';

const HEADS = { 4: 4, 3: 3.1, 2: 2.2, 1: 1.3 };
const FFN = { 16: 8, 12: 6.1, 8: 4.2, 4: 2.3, 2: 1.2, 1: 0.7 };

/** A 4-layer table with the given level times; dense = rest + 4 full layers under `truth` (the device's dense time). */
function table(attention: Record<number, number>, ffn: Record<number, number>): LatencyTable {
  return handTable({ numLayers: 4, numHeads: 4, intermediateSize: 16, attention, ffn, dense: 2 + 4 * (4 + 8), nonPrunable: 2 });
}

const map = (times: Record<number, number>, f: (t: number) => number) =>
  Object.fromEntries(Object.entries(times).map(([k, t]) => [k, f(t)])) as Record<number, number>;

/** What the device does: every present module costs 10% more than the table says plus 0.3 ms. */
const truth = table(HEADS, FFN);
const measuredTable = table(
  map(HEADS, (t) => (t - 0.3) / 1.1),
  map(FFN, (t) => (t - 0.3) / 1.1),
);

const SHAPES: LayerShapes[] = [
  { layerHeads: [4, 3, 2, 1], layerIntermediate: [16, 8, 4, 2] },
  { layerHeads: [2, 2, 1, 1], layerIntermediate: [4, 4, 2, 1] },
  { layerHeads: [1, 1, 0, 0], layerIntermediate: [2, 1, 1, 0] },
  { layerHeads: [3, 0, 4, 1], layerIntermediate: [12, 0, 8, 1] },
  { layerHeads: [1, 0, 0, 1], layerIntermediate: [1, 1, 0, 0] },
];

/** Members as a device with `truth`'s times measures them, each speedup times (1 + noise[i]). */
function measure(shapes: readonly LayerShapes[], noise: readonly number[] = []): MeasuredMember[] {
  return shapes.map((s, i) => ({ ...s, measuredSpeedup: predictRuntime(truth, s).speedup * (1 + (noise[i] ?? 0)) }));
}

/** Errors that make the search prune FFN before attention, everything smoothly. */
function errors(t: LatencyTable): LayerErrors[] {
  const out: LayerErrors[] = [];
  for (let layer = 0; layer < 4; layer++)
    for (const module of ['attention', 'ffn'] as const) {
      const full = module === 'attention' ? 4 : 16;
      const levels = (module === 'attention' ? t.attention : t.ffn).map((l) => ({
        kept: l.kept,
        error: (module === 'attention' ? 2 : 1) * (1 + 0.1 * layer) * (1 - l.kept / full) ** 2,
      }));
      out.push({ layer, module, levels });
    }
  return out;
}

describe('calibrateToMembers', () => {
  it('recovers the scale and the per-module cost the level times miss, so re-searched members meet their targets', () => {
    const calibration = calibrateToMembers(measuredTable, measure(SHAPES));
    expect(calibration.model).toBe('scale+offset');
    expect(calibration.members).toBe(5);
    expect(calibration.scale).toBeCloseTo(1.1, 8);
    expect(calibration.offset).toBeCloseTo(0.3, 8);
    expect(calibration.uncalibratedError).toBeGreaterThan(0.05);
    expect(calibration.heldOutError['scale+offset']).toBeLessThan(1e-9);
    expect(calibration.error).toBeLessThan(1e-9);
    const calibrated = applyMemberCalibration(measuredTable, calibration);
    // Every shape, measured or not, is predicted as the device runs it.
    const unseen = { layerHeads: [4, 4, 0, 2], layerIntermediate: [1, 16, 12, 0] };
    expect(predictRuntime(calibrated, unseen).time).toBeCloseTo(predictRuntime(truth, unseen).time, 8);
    // The table as measured promises 3x and the device gives less; the calibrated table keeps its promise.
    const e = errors(measuredTable);
    const before = searchForSpeedup(measuredTable, e, { target: 3 });
    expect(predictRuntime(truth, before).speedup).toBeLessThan(3 * 0.98);
    const after = searchForSpeedup(calibrated, e, { target: 3 });
    expect(predictRuntime(truth, after).speedup).toBeGreaterThanOrEqual(3);
  });

  it('keeps the table when a fit does not predict held-out members better (measurement noise only)', () => {
    // The table is right; the measurements scatter by ±1.5%. A fit absorbs part of the scatter in
    // sample, but predicts the member it did not see worse than the table does.
    const noise = [0.015, -0.015, 0.015, -0.015, 0.015];
    const calibration = calibrateToMembers(truth, measure(SHAPES, noise));
    expect(calibration.model).toBe('none');
    expect(calibration.scale).toBe(1);
    expect(calibration.offset).toBe(0);
    expect(calibration.heldOutError.scale).toBeGreaterThan(calibration.uncalibratedError);
    expect(calibration.heldOutError['scale+offset']).toBeGreaterThan(calibration.uncalibratedError);
    expect(calibration.reason).toMatch(/no fit predicts held-out models better/);
    expect(applyMemberCalibration(truth, calibration)).toBe(truth);
  });

  it('needs three members before it trusts any fit', () => {
    const calibration = calibrateToMembers(measuredTable, measure(SHAPES.slice(0, 2)));
    expect(calibration.model).toBe('none');
    expect(calibration.reason).toMatch(/at least 3/);
    // Three members: the scale alone can be tested (the offset needs four).
    const three = calibrateToMembers(
      table(
        map(HEADS, (t) => t / 1.1),
        map(FFN, (t) => t / 1.1),
      ),
      measure(SHAPES.slice(0, 3)),
    );
    expect(three.model).toBe('scale');
    expect(three.scale).toBeCloseTo(1.1, 8);
    expect(three.heldOutError['scale+offset']).toBeUndefined();
  });

  it('rejects members of another shape or with a level the table lacks', () => {
    expect(() => calibrateToMembers(truth, [{ layerHeads: [4], layerIntermediate: [16], measuredSpeedup: 1 }])).toThrow(/1 layers/);
    expect(() => calibrateToMembers(truth, [{ layerHeads: [4, 4, 4, 4], layerIntermediate: [16, 16, 16, 5], measuredSpeedup: 1 }])).toThrow(
      /keeps 5 of a FFN module/,
    );
  });
});

describe('applyMemberCalibration', () => {
  it('composes with the scale and offset the table already had, and stays a valid table', () => {
    const base: LatencyTable = { ...measuredTable, blockTiming: { ...measuredTable.blockTiming, scale: 1.2, offset: 0.01 } };
    const calibration = calibrateToMembers(base, measure(SHAPES));
    const calibrated = applyMemberCalibration(base, calibration);
    expect(calibrated.blockTiming.scale).toBeCloseTo(1.2 * 1.1, 8);
    expect(calibrated.blockTiming.offset).toBeCloseTo(1.1 * 0.01 + 0.3, 8);
    expect(calibrated.ffn.at(-1)).toEqual({ kept: 0, time: 0 });
    expect(calibrated.attention[0]!.time).toBeCloseTo(4, 8);
    expect(parseLatencyTable(JSON.parse(JSON.stringify(calibrated)))).toEqual(calibrated);
  });
});

describe('selectCalibration (the table build uses it with scale + offset only)', () => {
  it('judges a fit on the models it was not fitted on: an in-sample improvement is not enough', () => {
    // Five whole models whose times scatter ±2% around an exact table.
    const points = [0.02, -0.02, 0.02, -0.02, 0.02].map((noise, i) => ({
      sum: 10 + 6 * i,
      modules: 8 - i,
      time: (2 + 10 + 6 * i) * (1 + noise),
    }));
    const choice = selectCalibration(points, 2, 0.5, ['scale+offset']);
    expect(choice.model).toBe('none');
    expect(choice.heldOutError.scale).toBeUndefined();
    expect(choice.heldOutError['scale+offset']).toBeGreaterThan(choice.uncalibratedError);
  });
});

describe('buildLatencyTable: whole-model calibration judged on held-out models', () => {
  const config = bertConfig({ hiddenSize: 16, numHeads: 4, intermediateSize: 32, numLayers: 3, vocabSize: 50, maxPositions: 32 });
  const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 8 });
  // The simulated costs of build.test.ts: level times are exact, the runtime model adds up.
  const exact = (info: GraphInfo) =>
    info.layerHeads.reduce((s, h, l) => s + 0.1 * h + 0.01 * info.layerIntermediate[l]!, 0) + (info.kind === 'model' ? 1.2 : 0.2);

  it('rejects a fit that only absorbs the scatter of its own calibration models', async () => {
    // The layers of the pruned 3-layer models take 5% more or less than the levels add up to (a busy
    // machine; the sign follows the last FFN's size, unrelated to how large the model is). A fit
    // lowers the error on its own points, so the former in-sample test kept it, yet it predicts each
    // model left out worse than the exact level times do.
    const scatter = (info: GraphInfo) => {
      const pruned = info.kind === 'model' && info.layerHeads.length === 3 && info.layerHeads.some((h) => h !== 4 && h !== 0);
      if (!pruned) return exact(info);
      const sign = info.layerIntermediate[2]! % 2 === 1 ? 1 : -1;
      return 1.2 + (exact(info) - 1.2) * (1 + 0.05 * sign);
    };
    const engine = fakeEngine(scatter);
    const table = await buildLatencyTable(config, env, {
      warmupRuns: 1,
      minRounds: 4,
      maxRounds: 8,
      contextLayers: 1, // the 3-layer models are then the whole models only
      runner: engine.runner,
      clock: engine.clock,
    });
    const c = table.build!.calibration!;
    expect(c.applied).toBe(false);
    expect(table.blockTiming.scale).toBe(1);
    expect(table.blockTiming.offset).toBeUndefined();
    for (const l of table.attention) expect(l.time).toBeCloseTo(0.1 * l.kept, 10);
  });
});
