import { maxAbsDiff } from '@ziplm/test-utils';
import { describe, expect, it } from 'vitest';
import {
  CalibrationError,
  HessianAccumulator,
  HessianError,
  NumericalError,
  ShapeError,
  createJsMatMulEngine,
  type MatMulEngine,
} from '../src/index.js';
import { correlatedTokens, hessianOf, maxAbs } from './helpers/random.js';

describe('HessianAccumulator', () => {
  const d = 13;
  const tokens = 101;
  const x = correlatedTokens(tokens, d, 1);

  it('accumulates H = 2XᵀX/n, the mean and the token count exactly in float64', async () => {
    // Odd chunk and tile sizes so that chunks, partial chunks and partial tiles all occur.
    const acc = new HessianAccumulator(d, { precision: 'float64', chunkTokens: 17, tileSize: 5 });
    await acc.add(x.subarray(0, 40 * d), 40);
    await acc.add(x.subarray(40 * d), tokens - 40);
    expect(acc.tokens).toBe(tokens);
    const stats = await acc.finalize();
    expect(stats.tokens).toBe(tokens);
    expect(stats.dim).toBe(d);
    const expected = hessianOf(x, tokens, d);
    expect(maxAbsDiff(stats.hessian, expected)).toBeLessThan(1e-13 * maxAbs(expected));
    for (let j = 0; j < d; j++) {
      let mean = 0;
      for (let t = 0; t < tokens; t++) mean += x[t * d + j]!;
      expect(stats.mean[j]).toBeCloseTo(mean / tokens, 13);
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) expect(stats.hessian[i * d + j]).toBe(stats.hessian[j * d + i]);
  });

  it('accumulates float32 chunk products in float64', async () => {
    const x32 = Float32Array.from(x);
    const acc = new HessianAccumulator(d, { chunkTokens: 32, tileSize: 4 });
    await acc.add(x32, tokens);
    const { hessian } = await acc.finalize();
    const expected = hessianOf(Float64Array.from(x32), tokens, d);
    // Each chunk product is rounded to float32 once: relative error ~2^-24 per chunk.
    expect(maxAbsDiff(hessian, expected)).toBeLessThan(1e-6 * maxAbs(expected));
  });

  it('skips masked tokens in H, the mean and the count', async () => {
    const mask = Array.from({ length: tokens }, (_, t) => (t % 3 === 0 ? 0 : 1));
    const acc = new HessianAccumulator(d, { precision: 'float64', chunkTokens: 10 });
    await acc.add(x, tokens, mask);
    const stats = await acc.finalize();
    const kept = x.filter((_, i) => mask[Math.floor(i / d)] === 1);
    const n = kept.length / d;
    expect(stats.tokens).toBe(n);
    const expected = hessianOf(kept, n, d);
    expect(maxAbsDiff(stats.hessian, expected)).toBeLessThan(1e-13 * maxAbs(expected));
    // The mean is over the counted tokens only: it must differ from the mean over all tokens.
    let maskedOutDiffers = false;
    for (let j = 0; j < d; j++) {
      let keptMean = 0;
      let allMean = 0;
      for (let t = 0; t < tokens; t++) {
        allMean += x[t * d + j]! / tokens;
        if (mask[t] === 1) keptMean += x[t * d + j]! / n;
      }
      expect(stats.mean[j]).toBeCloseTo(keptMean, 13);
      if (Math.abs(keptMean - allMean) > 1e-6) maskedOutDiffers = true;
    }
    expect(maskedOutDiffers).toBe(true);
  });

  it('sends only block-upper-triangular tiles through the engine', async () => {
    const calls: Array<[number, number, number]> = [];
    const js = createJsMatMulEngine();
    const counting: MatMulEngine = {
      name: 'counting',
      matmulF64: js.matmulF64,
      matmulF32: async (a, b, m, k, n, o) => {
        calls.push([m, k, n]);
        return js.matmulF32(a, b, m, k, n, o);
      },
    };
    const acc = new HessianAccumulator(10, { engine: counting, chunkTokens: 8, tileSize: 4 });
    await acc.add(new Float32Array(8 * 10).fill(1), 8);
    await acc.finalize();
    // Tiles of 4, 4, 2 columns: pairs (0,0) (0,1) (0,2) (1,1) (1,2) (2,2).
    expect(calls).toEqual([
      [4, 8, 4],
      [4, 8, 4],
      [4, 8, 2],
      [4, 8, 4],
      [4, 8, 2],
      [2, 8, 2],
    ]);
  });

  it('raises clear errors for empty calibration, bad shapes and non-finite inputs', async () => {
    const empty = new HessianAccumulator(4);
    await expect(empty.finalize()).rejects.toThrow(CalibrationError);
    const masked = new HessianAccumulator(2);
    await masked.add(new Float32Array(4), 2, [0, 0]);
    await expect(masked.finalize()).rejects.toThrow(/no calibration tokens/);
    const acc = new HessianAccumulator(3);
    await expect(acc.add(new Float32Array(7), 2)).rejects.toThrow(ShapeError);
    await expect(acc.add(new Float32Array(6), 2, [1])).rejects.toThrow(/mask has 1 entries for 2 tokens/);
    await expect(acc.add(new Float32Array([1, 2, Number.NaN]), 1)).rejects.toThrow(NumericalError);
    expect(() => new HessianAccumulator(0)).toThrow(ShapeError);
    const done = new HessianAccumulator(1);
    await done.add(new Float32Array([2]), 1);
    const stats = await done.finalize();
    expect(Array.from(stats.hessian)).toEqual([8]);
    await expect(done.add(new Float32Array([1]), 1)).rejects.toThrow(HessianError);
  });
});
