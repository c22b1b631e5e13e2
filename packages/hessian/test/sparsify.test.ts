// Unstructured OBS sparsity (SparseGPT) against three oracles: the sequential OBS pass written in the test (same
// mask), the closed-form least-squares optimum for a mask (what the refit must reach), and a brute force over every
// mask of tiny layers (the best any method can do). Plus the magnitude baseline, the error on the data and the
// argument checks.

import { describe, expect, it } from 'vitest';
import { NotPositiveDefiniteError, ShapeError } from '../src/errors.js';
import { sparsifyMagnitude, sparsifyObs } from '../src/sparsify.js';
import { closedFormOptimum, expand, quadraticLoss, sequentialObs, subsets } from './helpers/oracle.js';
import { correlatedTokens, hessianOf, randomMatrix } from './helpers/random.js';

function layer(rows: number, cols: number, tokens: number, seed: number) {
  const x = correlatedTokens(tokens, cols, seed);
  return { w: Float32Array.from(randomMatrix(rows, cols, seed + 1, 0.2)), x, h: hessianOf(x, tokens, cols) };
}

/** tr(ΔW H ΔWᵀ) of one row replaced by the closed-form optimum over the columns `kept` (the others 0). */
function rowOptimum(w: Float32Array, cols: number, r: number, h: Float64Array, kept: number[]): number {
  const row = Float64Array.from(w.subarray(r * cols, (r + 1) * cols));
  const best = expand(closedFormOptimum(row, 1, cols, h, kept), 1, cols, kept);
  return (
    2 *
    quadraticLoss(
      row.map((v, c) => v - best[c]!),
      1,
      cols,
      h,
    )
  );
}

const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

function keptOfRow(mask: Uint8Array, cols: number, r: number): number[] {
  return Array.from({ length: cols }, (_, c) => c).filter((c) => mask[r * cols + c] === 1);
}

describe('unstructured OBS sparsity (SparseGPT)', () => {
  it('removes exactly round(cols · sparsity) weights of every row, each block its share, to exactly 0', async () => {
    const { w, h } = layer(6, 20, 80, 2);
    for (const [sparsity, perBlock] of [
      [0.5, [5, 5]],
      [0.7, [7, 7]],
      [0.33, [3, 4]], // round(10·0.33) = 3, round(20·0.33) − 3 = 4
    ] as const) {
      const result = await sparsifyObs(w, 6, 20, h, { sparsity, blockSize: 10 });
      for (let r = 0; r < 6; r++) {
        for (const [b, block] of [0, 10].entries()) {
          let removed = 0;
          for (let c = block; c < block + 10; c++) removed += 1 - result.mask[r * 20 + c]!;
          expect(removed).toBe(perBlock[b]);
        }
      }
      for (let i = 0; i < result.mask.length; i++) if (!result.mask[i]) expect(Object.is(result.weights[i], 0)).toBe(true);
      expect(result.sparsity).toBeCloseTo((perBlock[0] + perBlock[1]) / 20, 12);
    }
  });

  it('equals the sequential OBS oracle for its own mask, whatever the mask block size', async () => {
    for (const seed of [5, 6, 7]) {
      const rows = 4;
      const cols = 12;
      const { w, h } = layer(rows, cols, 60, seed);
      for (const blockSize of [1, 3, 128]) {
        const result = await sparsifyObs(w, rows, cols, h, { sparsity: 0.5, blockSize, refitIterations: 0 });
        const oracle = sequentialObs(w, rows, cols, h, 0.01, (_r, _i, current) => current, result.mask);
        for (let i = 0; i < oracle.length; i++) expect(result.weights[i]).toBeCloseTo(oracle[i]!, 6);
      }
    }
  });

  it('with the refit, reaches the closed-form least-squares optimum for its mask', async () => {
    // damp 0: the refit then minimises the undamped error, whose optimum for a mask is ŵ_K = H_KK⁻¹·H_K,:·w per row.
    for (const seed of [21, 22, 23]) {
      const rows = 5;
      const cols = 16;
      const { w, h } = layer(rows, cols, 100, seed);
      for (const sparsity of [0.5, 0.75]) {
        const result = await sparsifyObs(w, rows, cols, h, { sparsity, damp: 0, refitIterations: 4 * cols });
        let optimum = 0;
        for (let r = 0; r < rows; r++) optimum += rowOptimum(w, cols, r, h, keptOfRow(result.mask, cols, r));
        expect(Math.abs(result.error - optimum) / optimum).toBeLessThan(1e-6);
      }
    }
  });

  it('never increases the damped objective along the refit steps', async () => {
    const { w, h } = layer(6, 24, 100, 41);
    const errors: number[] = [];
    for (const refitIterations of [0, 1, 2, 4, 8, 16]) {
      // damp 0, so that the reported (undamped) error is the objective the steps minimise.
      errors.push((await sparsifyObs(w, 6, 24, h, { sparsity: 0.6, damp: 0, refitIterations })).error);
    }
    for (let k = 1; k < errors.length; k++) expect(errors[k]).toBeLessThanOrEqual(errors[k - 1]! * (1 + 1e-12));
    expect(errors.at(-1)).toBeLessThan(errors[0]! * 0.9);
  });

  it('is never below the best mask of a brute force, and with the refit within 3× of it', async () => {
    // 2 rows × 6 columns, 3 removed per row: the rows are independent, so the optimum is, per row, the best of the
    // 20 masks, each with its closed-form kept weights. Measured over these 10 seeds (error / optimum): SparseGPT
    // 1.13–3.32 (mean 1.88); with the refit 1.00–2.87 (mean 1.57; the optimum itself in 5 of 10); magnitude 1.5–5.5
    // (mean 3.3). The refit is exact for its mask, so what remains is the mask, chosen greedily block by block. (The
    // refit minimises the damped objective: the undamped error reported can rise slightly, by up to 0.04% here.)
    const rows = 2;
    const cols = 6;
    const ratios: number[] = [];
    const plainRatios: number[] = [];
    for (let seed = 60; seed < 70; seed++) {
      const { w, h } = layer(rows, cols, 40, seed);
      let best = 0;
      for (let r = 0; r < rows; r++) best += Math.min(...subsets(cols, 3).map((kept) => rowOptimum(w, cols, r, h, kept)));
      const plain = await sparsifyObs(w, rows, cols, h, { sparsity: 0.5, refitIterations: 0 });
      const refit = await sparsifyObs(w, rows, cols, h, { sparsity: 0.5 });
      expect(plain.error).toBeGreaterThanOrEqual(best * (1 - 1e-9));
      expect(refit.error).toBeGreaterThanOrEqual(best * (1 - 1e-9));
      ratios.push(refit.error / best);
      plainRatios.push(plain.error / best);
    }
    expect(Math.max(...ratios)).toBeLessThan(3);
    expect(mean(ratios)).toBeLessThan(1.7);
    expect(mean(plainRatios)).toBeLessThan(2);
  });

  it('reports the output error on the calibration data, (2/n)·‖ΔW X‖²', async () => {
    const rows = 6;
    const cols = 10;
    const tokens = 50;
    const { w, x, h } = layer(rows, cols, tokens, 31);
    for (const result of [
      await sparsifyObs(w, rows, cols, h, { sparsity: 0.6, blockSize: 4 }),
      await sparsifyMagnitude(w, rows, cols, h, { sparsity: 0.6 }),
    ]) {
      let fromData = 0;
      for (let t = 0; t < tokens; t++) {
        for (let r = 0; r < rows; r++) {
          let y = 0;
          for (let c = 0; c < cols; c++) y += (w[r * cols + c]! - result.weights[r * cols + c]!) * x[t * cols + c]!;
          fromData += y * y;
        }
      }
      expect(result.error).toBeCloseTo((2 * fromData) / tokens, 10);
    }
  });

  it('returns the weights unchanged, with error 0, when nothing is removed', async () => {
    const { w, h } = layer(3, 8, 30, 3);
    for (const result of [
      await sparsifyObs(w, 3, 8, h, { sparsity: 0 }),
      await sparsifyObs(w, 3, 8, h, { sparsity: 0.05 }), // round(8 · 0.05) = 0
      await sparsifyMagnitude(w, 3, 8, h, { sparsity: 0 }),
    ]) {
      expect([...result.weights]).toEqual([...w]);
      expect(result.mask.every((m) => m === 1)).toBe(true);
      expect(result.error).toBe(0);
    }
  });

  it('has a smaller output error than magnitude pruning on average', async () => {
    // The mean, not every layer: on these small layers (10 × 32, 128 tokens, 80% leaves 6 weights a row) the
    // greedy block-by-block mask is little better than magnitude's, and plain SparseGPT loses 1 of the 10 (seed 14
    // at 80%). Measured (OBS / magnitude): with the refit 0.46–0.94, mean 0.70; plain SparseGPT 0.67–1.03, mean 0.87.
    // On wider layers the gap is far larger (README, "Unstructured sparsity").
    const ratios: number[] = [];
    const plainRatios: number[] = [];
    for (let seed = 11; seed <= 15; seed++) {
      const { w, h } = layer(10, 32, 128, seed);
      for (const sparsity of [0.5, 0.8]) {
        const magnitude = await sparsifyMagnitude(w, 10, 32, h, { sparsity });
        const refit = await sparsifyObs(w, 10, 32, h, { sparsity });
        const plain = await sparsifyObs(w, 10, 32, h, { sparsity, refitIterations: 0 });
        expect(refit.sparsity).toBe(magnitude.sparsity);
        ratios.push(refit.error / magnitude.error);
        plainRatios.push(plain.error / magnitude.error);
      }
    }
    expect(mean(ratios)).toBeLessThan(0.75);
    expect(mean(plainRatios)).toBeLessThan(0.9);
    expect(Math.max(...ratios)).toBeLessThan(1);
  });

  it('refuses shapes and options that do not fit, with a ShapeError', async () => {
    const { w, h } = layer(2, 4, 20, 1);
    await expect(sparsifyObs(w, 2, 4, h, { sparsity: 1.5 })).rejects.toThrow(/sparsity must be in \[0, 1\]/);
    await expect(sparsifyObs(w, 2, 4, h, { sparsity: Number.NaN })).rejects.toThrow(ShapeError);
    await expect(sparsifyMagnitude(w, 2, 4, h, { sparsity: -0.1 })).rejects.toThrow(ShapeError);
    await expect(sparsifyObs(w, 2, 5, h, { sparsity: 0.5 })).rejects.toThrow(/weights hold 8 values/);
    await expect(sparsifyObs(w, 2, 4, h.subarray(1), { sparsity: 0.5 })).rejects.toThrow(/the Hessian holds 15 values/);
    await expect(sparsifyObs(w, 2, 4, h, { sparsity: 0.5, blockSize: 0 })).rejects.toThrow(/blockSize must be a positive integer/);
    await expect(sparsifyObs(w, 2, 4, h, { sparsity: 0.5, refitIterations: 1.5 })).rejects.toThrow(ShapeError);
    await expect(sparsifyObs(w, 2, 4, h, { sparsity: 0.5, damp: -1 })).rejects.toThrow(ShapeError);
    // Fewer tokens than inputs and no damping: H is singular, which the factorisation reports as such.
    const singular = layer(2, 8, 3, 2);
    await expect(sparsifyObs(singular.w, 2, 8, singular.h, { sparsity: 0.5, damp: 0 })).rejects.toThrow(NotPositiveDefiniteError);
  });
});
