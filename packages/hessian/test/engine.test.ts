import { maxAbsDiff } from '@ziplm/test-utils';
import { describe, expect, it } from 'vitest';
import { createJsMatMulEngine, gemmF32, gemmF64 } from '../src/engine.js';
import { ShapeError } from '../src/errors.js';
import { naiveMatmul, randomMatrix, transpose } from './helpers/random.js';

describe('plain TypeScript GEMM', () => {
  // Sizes cross the 4-row/column padding, the k-block (256) and the n-block (128).
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [3, 5, 2],
    [7, 300, 9],
    [33, 17, 130],
    [64, 257, 5],
  ];

  it('matches a naive product for every transpose combination (float64)', () => {
    for (const [m, k, n] of shapes) {
      const a = randomMatrix(m, k, m * 7 + k);
      const b = randomMatrix(k, n, n * 13 + k);
      const expected = naiveMatmul(a, b, m, k, n);
      const at = transpose(a, m, k);
      const bt = transpose(b, k, n);
      for (const [aa, bb, transA, transB] of [
        [a, b, false, false],
        [at, b, true, false],
        [a, bt, false, true],
        [at, bt, true, true],
      ] as const) {
        const c = gemmF64(aa, bb, m, k, n, { transA, transB });
        expect(c.length).toBe(m * n);
        expect(maxAbsDiff(c, expected)).toBeLessThan(1e-12 * Math.sqrt(k) * 10);
      }
    }
  });

  it('computes float32 products with a float64 accumulator', () => {
    const [m, k, n] = [9, 1000, 6];
    const a = Float32Array.from(randomMatrix(m, k, 1));
    const b = Float32Array.from(randomMatrix(k, n, 2));
    const expected = naiveMatmul(Float64Array.from(a), Float64Array.from(b), m, k, n);
    const c = gemmF32(a, b, m, k, n);
    expect(c).toBeInstanceOf(Float32Array);
    // Only the final rounding to float32 remains: relative 2^-24 of each entry.
    for (let i = 0; i < c.length; i++) expect(Math.abs(c[i]! - expected[i]!)).toBeLessThanOrEqual(Math.abs(expected[i]!) * 2 ** -23);
  });

  it('handles empty dimensions and rejects short arrays', async () => {
    expect(gemmF64(new Float64Array(0), new Float64Array(0), 2, 0, 3)).toEqual(new Float64Array(6));
    expect(() => gemmF64(new Float64Array(5), new Float64Array(6), 2, 3, 2)).toThrow(ShapeError);
    expect(() => gemmF64(new Float64Array(7), new Float64Array(6), 2, 3, 2)).toThrow(/A holds 7 values, expected m·k = 6/);
    expect(() => gemmF64(new Float64Array(6), new Float64Array(6), 2, 3, 2.5)).toThrow(/non-negative integer/);
    const engine = createJsMatMulEngine();
    expect(engine.name).toBe('js');
    await expect(engine.matmulF32(new Float32Array(1), new Float32Array(1), 1, 1, 1)).resolves.toEqual(new Float32Array(1));
  });
});
