import { seededRandom } from '@ziplm/test-utils';
import { describe, expect, it } from 'vitest';
import {
  CalibrationError,
  HessianAccumulator,
  LevelError,
  ShapeError,
  obsSweep,
  preparedHessian,
  type ObsProblem,
  type SweepResult,
} from '../src/index.js';
import { closedFormOptimum, dataError, expand, keptColumns, quadraticLoss, relDiff, relativeMaxDiff } from './helpers/oracle.js';
import { correlatedTokens, hessianOf, randomMatrix } from './helpers/random.js';

interface Fixture {
  problem: ObsProblem & { weight: Float64Array; bias: Float64Array; mean: Float64Array };
  x: Float64Array;
  tokens: number;
}

function fixture(rows: number, cols: number, tokens: number, seed: number, mixing: 'dense' | 'banded' = 'dense'): Fixture {
  const x = correlatedTokens(tokens, cols, seed, 0.3, mixing);
  const hessian = hessianOf(x, tokens, cols);
  const mean = new Float64Array(cols);
  for (let t = 0; t < tokens; t++) for (let c = 0; c < cols; c++) mean[c] += x[t * cols + c]! / tokens;
  const weight = randomMatrix(rows, cols, seed + 100);
  const bias = randomMatrix(1, rows, seed + 200);
  return { problem: { weight, rows, cols, hessian, mean, bias }, x, tokens };
}

/**
 * Checks every snapshot against the closed-form optimum for its kept set (with the damped H_p the
 * solver reports), the loss against ½tr(ΔW·H_p·ΔWᵀ) and the error against the data itself.
 */
function checkAgainstOracle(f: Fixture, result: SweepResult, tol = 1e-9): void {
  const { weight, rows, cols, hessian, bias } = f.problem;
  const hp = preparedHessian(hessian, cols, result);
  const w0 = weight.slice();
  for (const d of result.dead) for (let i = 0; i < rows; i++) w0[i * cols + d] = 0;
  for (const snap of result.snapshots) {
    const kept = keptColumns(snap.keptIndices, result.groupSize);
    expect(snap.weight.length).toBe(rows * kept.length);
    for (const v of snap.weight) expect(Number.isFinite(v)).toBe(true);
    const full = snap.kept === 0 ? new Float64Array(rows * cols) : expand(snap.weight, rows, cols, kept);
    if (snap.kept > 0) {
      const oracle = closedFormOptimum(w0, rows, cols, hp, kept);
      expect(relativeMaxDiff(snap.weight, oracle)).toBeLessThan(tol);
    }
    const dw = new Float64Array(rows * cols);
    for (let i = 0; i < dw.length; i++) dw[i] = w0[i]! - full[i]!;
    const loss = quadraticLoss(dw, rows, cols, hp);
    expect(relDiff(snap.obsLoss, loss)).toBeLessThan(tol);
    if (snap.kept > 0) {
      const direct = dataError(weight, full, bias, f.x, f.tokens, rows, cols);
      expect(Math.abs(snap.error - direct)).toBeLessThan(tol * Math.max(direct, 1e-3));
    } else {
      expect(snap.error).toBe(1);
    }
  }
}

describe('obsSweep, group size 1 (lazy)', () => {
  const f = fixture(6, 40, 200, 1);
  const levels = [40, 37, 30, 21, 13, 5, 1, 0];

  it('matches the closed-form optimum, the quadratic loss and the data error at every level', async () => {
    for (const [lazyBlock, scoreUpdate] of [
      [1, 'matvec'],
      [3, 'matvec'],
      [64, 'matvec'],
      [1, 'gram'],
      [5, 'gram'],
    ] as const) {
      const result = await obsSweep(f.problem, { levels, lazyBlock, scoreUpdate });
      expect(result.snapshots.map((s) => s.kept)).toEqual(levels);
      expect(result.order.length).toBe(39);
      checkAgainstOracle(f, result);
    }
  });

  it('gives the same greedy order and weights for any flush block size and score update', async () => {
    const reference = await obsSweep(f.problem, { levels, lazyBlock: 1 });
    for (const [lazyBlock, scoreUpdate] of [
      [2, 'matvec'],
      [7, 'matvec'],
      [16, 'gram'],
      [40, 'gram'],
    ] as const) {
      const result = await obsSweep(f.problem, { levels, lazyBlock, scoreUpdate });
      expect(Array.from(result.order)).toEqual(Array.from(reference.order));
      result.snapshots.forEach((snap, i) => {
        expect(relativeMaxDiff(snap.weight, reference.snapshots[i]!.weight)).toBeLessThan(1e-12);
      });
    }
  });

  it('snapshots the dense layer at kept = cols and the removed module at kept = 0', async () => {
    const result = await obsSweep(f.problem, { levels: [0, 40] });
    const [dense, removed] = result.snapshots;
    expect(dense!.weight).toEqual(f.problem.weight);
    expect(dense!.obsLoss).toBe(0);
    expect(dense!.error).toBe(0);
    expect(removed!.kept).toBe(0);
    expect(removed!.error).toBe(1);
    const hp = preparedHessian(f.problem.hessian, 40, result);
    expect(relDiff(removed!.obsLoss, quadraticLoss(f.problem.weight, 6, 40, hp))).toBeLessThan(1e-12);
    // E‖Wx + b‖² from H and the mean equals the data's.
    let energy = 0;
    for (let t = 0; t < f.tokens; t++) {
      for (let i = 0; i < 6; i++) {
        let y = f.problem.bias[i]!;
        for (let c = 0; c < 40; c++) y += f.problem.weight[i * 40 + c]! * f.x[t * 40 + c]!;
        energy += (y * y) / f.tokens;
      }
    }
    expect(relDiff(result.outputEnergy, energy)).toBeLessThan(1e-10);
  });

  it('stores float32 snapshots on request and gives identical results when H is overwritten', async () => {
    const a = await obsSweep(f.problem, { levels: [30, 10], snapshotPrecision: 'float32' });
    expect(a.snapshots[0]!.weight).toBeInstanceOf(Float32Array);
    const copy = { ...f.problem, hessian: f.problem.hessian.slice() };
    const b = await obsSweep(copy, { levels: [30, 10], overwriteHessian: true });
    expect(Array.from(b.order)).toEqual(Array.from(a.order));
    b.snapshots.forEach((snap, i) => {
      expect(relDiff(snap.error, a.snapshots[i]!.error)).toBeLessThan(1e-9);
      expect(relDiff(snap.obsLoss, a.snapshots[i]!.obsLoss)).toBeLessThan(1e-12);
    });
  });
});

describe('obsSweep, groups', () => {
  it('matches the oracle with group size 4', async () => {
    const f = fixture(5, 32, 150, 2);
    const result = await obsSweep(f.problem, { levels: [8, 7, 5, 2, 1, 0], groupSize: 4 });
    expect(result.snapshots.map((s) => s.kept)).toEqual([8, 7, 5, 2, 1, 0]);
    expect(result.pinvFallbacks).toBe(0);
    checkAgainstOracle(f, result);
  });

  it('prunes 12 heads of 64 columns (attention output projection), rank-deficient H', async () => {
    // 300 tokens < 768 inputs: H is singular and only the damping makes it invertible.
    const f = fixture(8, 768, 300, 3, 'banded');
    const result = await obsSweep(f.problem, { levels: [11, 6, 1], groupSize: 64 });
    expect(result.order.length).toBe(11);
    expect(new Set(result.order).size).toBe(11);
    checkAgainstOracle(f, result);
  });
});

describe('obsSweep, greedy order', () => {
  /** Brute force: at every step try every kept structure with the closed-form optimum. */
  function bruteForceOrder(f: Fixture, groupSize: number, steps: number, result: SweepResult): number[] {
    const { weight, rows, cols, hessian } = f.problem;
    const hp = preparedHessian(hessian, cols, result);
    let kept = Array.from({ length: cols / groupSize }, (_, i) => i);
    const order: number[] = [];
    for (let step = 0; step < steps; step++) {
      let best = Infinity;
      let choice = -1;
      for (const candidate of kept) {
        const rest = kept.filter((g) => g !== candidate);
        const cols_ = keptColumns(rest, groupSize);
        const full = expand(closedFormOptimum(weight, rows, cols, hp, cols_), rows, cols, cols_);
        const dw = weight.map((v, i) => v - full[i]!);
        const loss = quadraticLoss(dw, rows, cols, hp);
        if (loss < best) {
          best = loss;
          choice = candidate;
        }
      }
      order.push(choice);
      kept = kept.filter((g) => g !== choice);
    }
    return order;
  }

  it('equals a brute-force greedy search on tiny problems', async () => {
    for (const [rows, cols, groupSize, seed] of [
      [3, 10, 1, 4],
      [4, 12, 2, 5],
      [2, 9, 3, 6],
    ] as const) {
      const f = fixture(rows, cols, 30, seed);
      const count = cols / groupSize;
      const result = await obsSweep(f.problem, { levels: [1], groupSize, lazyBlock: 3 });
      expect(Array.from(result.order)).toEqual(bruteForceOrder(f, groupSize, count - 1, result));
    }
  });

  it('breaks exact ties by the lowest structure index', async () => {
    // H = 2I and W = ±1: every column has the same saliency, and removals do not couple columns.
    const cols = 6;
    const hessian = new Float64Array(cols * cols);
    for (let i = 0; i < cols; i++) hessian[i * cols + i] = 2;
    const weight = Float64Array.from({ length: 2 * cols }, (_, i) => (i % 3 === 0 ? -1 : 1));
    const result = await obsSweep({ weight, rows: 2, cols, hessian }, { levels: [0] });
    expect(result.order.length).toBe(0);
    const all = await obsSweep({ weight, rows: 2, cols, hessian }, { levels: [1], lazyBlock: 2 });
    expect(Array.from(all.order)).toEqual([0, 1, 2, 3, 4]);
    // A column with a smaller norm goes first; the rest keep index order.
    weight[3] = 0.5;
    weight[cols + 3] = 0.5;
    const partial = await obsSweep({ weight, rows: 2, cols, hessian }, { levels: [2] });
    expect(Array.from(partial.order)).toEqual([3, 0, 1, 2]);
    const groups = await obsSweep({ weight, rows: 2, cols, hessian }, { levels: [1], groupSize: 2 });
    expect(Array.from(groups.order)).toEqual([1, 0]);
  });
});

describe('obsSweep, degenerate calibration data', () => {
  it('removes dead inputs first, zeroes them and stays exact', async () => {
    const f = fixture(4, 20, 80, 7);
    const dead = [3, 11, 12];
    for (let t = 0; t < f.tokens; t++) for (const d of dead) f.x[t * 20 + d] = 0;
    f.problem.hessian = hessianOf(f.x, f.tokens, 20);
    f.problem.mean = new Float64Array(20);
    for (let t = 0; t < f.tokens; t++) for (let c = 0; c < 20; c++) f.problem.mean[c] += f.x[t * 20 + c]! / f.tokens;
    const result = await obsSweep(f.problem, { levels: [20, 17, 10, 2, 0] });
    expect(Array.from(result.dead)).toEqual(dead);
    expect(Array.from(result.order.slice(0, 3))).toEqual(dead);
    // Removing dead inputs changes nothing on the calibration data.
    expect(result.snapshots[1]!.error).toBeLessThan(1e-14);
    checkAgainstOracle(f, result);
  });

  it('removes a dead input inside a group like any other column and stays exact (group size 4)', async () => {
    const f = fixture(5, 24, 90, 13);
    const dead = [5, 14, 15]; // one inside group 1, two inside group 3
    for (let t = 0; t < f.tokens; t++) for (const d of dead) f.x[t * 24 + d] = 0;
    f.problem.hessian = hessianOf(f.x, f.tokens, 24);
    f.problem.mean = new Float64Array(24);
    for (let t = 0; t < f.tokens; t++) for (let c = 0; c < 24; c++) f.problem.mean[c] += f.x[t * 24 + c]! / f.tokens;
    const result = await obsSweep(f.problem, { levels: [6, 5, 4, 2, 1, 0], groupSize: 4 });
    expect(Array.from(result.dead)).toEqual(dead);
    expect(result.pinvFallbacks).toBe(0);
    expect(result.snapshots.map((s) => s.kept)).toEqual([6, 5, 4, 2, 1, 0]);
    // The dense snapshot already has the dead columns zeroed (they never fire on the data).
    const dense = result.snapshots[0]!;
    for (let i = 0; i < 5; i++) for (const d of dead) expect(dense.weight[i * 24 + d]).toBe(0);
    expect(dense.error).toBeLessThan(1e-14);
    checkAgainstOracle(f, result);
  });

  it('falls back to the pseudo-inverse when a group block of H⁻¹ is numerically singular', async () => {
    // A block B = [H_p⁻¹]_MM is positive definite in exact arithmetic, so the fallback is a numerical
    // safety net. It needs a near-null vector v of H_p that is large on M: then B ≈ vᵀ_M·v_M/λ + O(1/h)
    // and its Cholesky fails once λ/h ≲ s·ε. Exact duplicates inside one group do not get there: their
    // null vector lies in M only, so the Cholesky of H_p itself (tolerance cols·ε ≥ s·ε) fails first and
    // the damping is escalated. Here the null vector v = (1, −1, 0, 0, 1/1024, 0, 0, 0) reaches into
    // group 2 with a small component, which keeps the pivot of H_p at column 4 at ~2²⁰·λ. The data are
    // small integers and dyadic fractions, so H (and its null vector) are exact in float64, and with
    // maxDampingSteps 0 the sweep runs at exactly this damping.
    const rows = 3;
    const cols = 8;
    const tokens = 64;
    const random = seededRandom(5);
    const x = new Float64Array(tokens * cols);
    for (let i = 0; i < x.length; i++) x[i] = Math.floor(random() * 9) - 4;
    for (let t = 0; t < tokens; t++) x[t * cols + 1] = x[t * cols]! + x[t * cols + 4]! / 1024; // x₁ = x₀ + x₄/1024
    const hessian = hessianOf(x, tokens, cols);
    const weight = randomMatrix(rows, cols, 7);
    // Group 0's output is W₀·(x₀ − x₁) = −W₀·x₄/1024: column 4 can take it over at no cost, and the
    // pseudo-inverse keeps exactly the direction (1, −1) that carries it.
    for (let i = 0; i < rows; i++) weight[i * cols + 1] = -weight[i * cols]!;
    const f: Fixture = { problem: { weight, rows, cols, hessian, mean: new Float64Array(cols), bias: new Float64Array(rows) }, x, tokens };
    const levels = [3, 2, 1, 0];
    const result = await obsSweep(f.problem, { levels, groupSize: 2, relativeDamping: 1e-16, maxDampingSteps: 0 });
    expect(result.damping.tried).toEqual([1e-16]);
    expect(result.pinvFallbacks).toBeGreaterThan(0);
    // Valid, nested kept sets that agree with the removal order.
    expect(result.snapshots.map((s) => s.kept)).toEqual(levels);
    expect(new Set(result.order).size).toBe(3);
    let previous = new Set([0, 1, 2, 3]);
    for (const snap of result.snapshots) {
      const kept = Array.from(snap.keptIndices);
      expect(kept.length).toBe(snap.kept);
      for (const q of kept) expect(previous.has(q)).toBe(true);
      // The order covers the removals down to the smallest positive level (kept 0 drops the module).
      if (snap.kept > 0) expect(kept).toEqual([0, 1, 2, 3].filter((q) => !result.order.slice(0, 4 - snap.kept).includes(q)));
      previous = new Set(kept);
      expect(snap.weight.length).toBe(rows * 2 * snap.kept);
      for (const v of snap.weight) expect(Number.isFinite(v)).toBe(true);
      expect(Number.isFinite(snap.obsLoss) && Number.isFinite(snap.error)).toBe(true);
      expect(snap.error).toBeGreaterThanOrEqual(0);
      expect(snap.error).toBeLessThanOrEqual(1);
    }
    for (let i = 1; i < levels.length; i++) {
      expect(result.snapshots[i]!.error).toBeGreaterThanOrEqual(result.snapshots[i - 1]!.error);
      expect(result.snapshots[i]!.obsLoss).toBeGreaterThanOrEqual(result.snapshots[i - 1]!.obsLoss);
    }
    // The free group goes first, its removal costs nothing, and that snapshot is the exact optimum.
    expect(result.order[0]).toBe(0);
    const first = result.snapshots[0]!;
    expect(first.error).toBeLessThan(1e-12);
    const hp = preparedHessian(hessian, cols, result);
    expect(relativeMaxDiff(first.weight, closedFormOptimum(weight, rows, cols, hp, keptColumns(first.keptIndices, 2)))).toBeLessThan(1e-9);
    // Later levels: H_p has condition ~1e16 here, so H_p⁻¹ itself is only good to a few digits; the
    // sweep without any fallback (5× the damping) is no closer. Both agree with the data to that level.
    const plain = await obsSweep(f.problem, { levels, groupSize: 2, relativeDamping: 5e-16, maxDampingSteps: 0 });
    expect(plain.pinvFallbacks).toBe(0);
    expect(Array.from(result.order)).toEqual(Array.from(plain.order));
    for (const snap of result.snapshots.slice(1, -1)) {
      const kept = keptColumns(snap.keptIndices, 2);
      expect(relativeMaxDiff(snap.weight, closedFormOptimum(weight, rows, cols, hp, kept))).toBeLessThan(1e-1);
      const direct = dataError(weight, expand(snap.weight, rows, cols, kept), undefined, x, tokens, rows, cols);
      expect(relDiff(snap.error, direct)).toBeLessThan(1e-2);
    }
  });

  it('refuses an all-zero H (every input dead) instead of reporting error 0', async () => {
    const f = fixture(3, 8, 20, 14);
    const zero = { ...f.problem, hessian: new Float64Array(64), mean: new Float64Array(8) };
    await expect(obsSweep(zero, { levels: [3, 0], groupSize: 2 })).rejects.toThrow(CalibrationError);
    await expect(obsSweep(zero, { levels: [4, 1] })).rejects.toThrow(/every one of the 8 inputs is dead/);
  });

  it('handles a single calibration token', async () => {
    const f = fixture(3, 16, 1, 8);
    const result = await obsSweep(f.problem, { levels: [16, 12, 4, 1, 0] });
    checkAgainstOracle(f, result);
  });

  it('escalates the damping when H is singular and damping is off, and reports it', async () => {
    const f = fixture(3, 24, 6, 9); // rank 6
    const result = await obsSweep(f.problem, { levels: [20, 8, 2], relativeDamping: 0 });
    expect(result.damping.tried[0]).toBe(0);
    expect(result.damping.tried.length).toBeGreaterThan(1);
    expect(result.damping.relative).toBe(result.damping.tried[result.damping.tried.length - 1]);
    expect(result.damping.absolute).toBeCloseTo(result.damping.relative * result.damping.meanDiagonal, 15);
    checkAgainstOracle(f, result, 1e-8);
  });

  it('stays finite and exact on a badly conditioned H', async () => {
    const f = fixture(4, 20, 100, 10);
    // Feature 5 duplicates feature 4 up to 1e-9, feature 7 is 1e4× larger than the rest.
    for (let t = 0; t < f.tokens; t++) {
      f.x[t * 20 + 5] = f.x[t * 20 + 4]! * (1 + 1e-9 * Math.sin(t));
      f.x[t * 20 + 7] *= 1e4;
    }
    f.problem.hessian = hessianOf(f.x, f.tokens, 20);
    f.problem.mean = new Float64Array(20);
    for (let t = 0; t < f.tokens; t++) for (let c = 0; c < 20; c++) f.problem.mean[c] += f.x[t * 20 + c]! / f.tokens;
    const result = await obsSweep(f.problem, { levels: [19, 10, 3, 0], relativeDamping: 1e-4 });
    checkAgainstOracle(f, result, 1e-8);
  });

  it('gets H and the mean from the accumulator for exact errors', async () => {
    const f = fixture(5, 24, 120, 11);
    const acc = new HessianAccumulator(24, { precision: 'float64', chunkTokens: 50, tileSize: 7 });
    await acc.add(f.x, f.tokens);
    const stats = await acc.finalize();
    const problem = { ...f.problem, hessian: stats.hessian, mean: stats.mean };
    const result = await obsSweep(problem, { levels: [20, 9, 3] });
    checkAgainstOracle({ ...f, problem }, result);
  });
});

describe('obsSweep, input validation', () => {
  const f = fixture(2, 12, 20, 12);
  it('rejects shapes that do not fit', async () => {
    await expect(obsSweep(f.problem, { levels: [1], groupSize: 5 })).rejects.toThrow(ShapeError);
    await expect(obsSweep(f.problem, { levels: [1], groupSize: 5 })).rejects.toThrow(/not divisible by groupSize/);
    await expect(obsSweep({ ...f.problem, weight: new Float64Array(5) }, { levels: [1] })).rejects.toThrow(/weight holds 5 values/);
    await expect(obsSweep({ ...f.problem, hessian: new Float64Array(10) }, { levels: [1] })).rejects.toThrow(ShapeError);
    await expect(obsSweep({ ...f.problem, bias: new Float64Array(3) }, { levels: [1] })).rejects.toThrow(/bias has 3 entries/);
    await expect(obsSweep({ ...f.problem, mean: undefined }, { levels: [1] })).rejects.toThrow(/needs the input mean/);
  });

  it('rejects levels out of range', async () => {
    await expect(obsSweep(f.problem, { levels: [13] })).rejects.toThrow(LevelError);
    await expect(obsSweep(f.problem, { levels: [-1] })).rejects.toThrow(/out of range/);
    await expect(obsSweep(f.problem, { levels: [2.5] })).rejects.toThrow(LevelError);
    await expect(obsSweep(f.problem, { levels: [] })).rejects.toThrow(/levels is empty/);
    await expect(obsSweep(f.problem, { levels: [6], groupSize: 3 })).rejects.toThrow(/\[0, 4\]/);
    await expect(obsSweep(f.problem, { levels: [5], groupSize: 3 })).rejects.toThrow(LevelError);
  });
});
