import { maxAbsDiff } from '@ziplm/test-utils';
import { describe, expect, it } from 'vitest';
import { choleskyInPlace, choleskyInverseInPlace } from '../src/cholesky.js';
import { choleskySmall, invertLowerSmall, pinvSymmetricSmall } from '../src/internal/dense.js';
import { createJsMatMulEngine } from '../src/engine.js';
import { correlatedTokens, hessianOf, naiveMatmul, randomMatrix } from './helpers/random.js';

const engine = createJsMatMulEngine();

function spd(n: number, seed: number): Float64Array {
  const x = correlatedTokens(3 * n, n, seed);
  const h = hessianOf(x, 3 * n, n);
  for (let i = 0; i < n; i++) h[i * n + i] += 0.01;
  return h;
}

function identityError(h: Float64Array, inv: Float64Array, n: number): number {
  const p = naiveMatmul(h, inv, n, n, n);
  for (let i = 0; i < n; i++) p[i * n + i] -= 1;
  return maxAbsDiff(p, new Float64Array(n * n));
}

describe('blocked Cholesky inverse', () => {
  it('inverts SPD matrices for block sizes that do and do not divide n', async () => {
    for (const [n, block] of [
      [1, 4],
      [5, 2],
      [37, 8],
      [64, 16],
      [97, 32],
    ] as const) {
      const h = spd(n, n);
      const a = h.slice();
      const result = await choleskyInverseInPlace(a, n, engine, block);
      expect(result.failedColumn).toBe(-1);
      expect(identityError(h, a, n)).toBeLessThan(1e-10);
      // The result is exactly symmetric (mirrored).
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(a[i * n + j]).toBe(a[j * n + i]);
    }
  });

  it('gives the same factor as the unblocked kernel', async () => {
    const n = 45;
    const h = spd(n, 3);
    const blocked = h.slice();
    await choleskyInPlace(blocked, n, engine, 8);
    const plain = h.slice();
    expect(choleskySmall(plain, n)).toBe(-1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) expect(Math.abs(blocked[i * n + j]! - plain[i * n + j]!)).toBeLessThan(1e-12);
      // The strict upper triangle still holds the input (needed to restart with more damping).
      for (let j = i + 1; j < n; j++) expect(blocked[i * n + j]).toBe(h[i * n + j]);
    }
  });

  it('reports the first failing column of an indefinite or singular matrix', async () => {
    const n = 20;
    const x = randomMatrix(5, n, 9); // 5 tokens: rank 5 < 20
    const h = hessianOf(x, 5, n);
    const result = await choleskyInPlace(h.slice(), n, engine, 4);
    expect(result.failedColumn).toBeGreaterThanOrEqual(5);
    const indefinite = new Float64Array([1, 2, 2, 1]);
    expect((await choleskyInPlace(indefinite, 2, engine)).failedColumn).toBe(1);
    const nan = new Float64Array([Number.NaN]);
    expect((await choleskyInPlace(nan, 1, engine)).failedColumn).toBe(0);
  });

  it('inverts lower-triangular blocks and pseudo-inverts singular symmetric blocks', () => {
    const n = 6;
    const h = spd(n, 11);
    const l = h.slice();
    choleskySmall(l, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) l[i * n + j] = 0;
    const li = invertLowerSmall(l, n);
    const p = naiveMatmul(l, li, n, n, n);
    for (let i = 0; i < n; i++) p[i * n + i] -= 1;
    expect(maxAbsDiff(p, new Float64Array(n * n))).toBeLessThan(1e-12);

    // Rank-2 symmetric 4×4: pinv satisfies A·A⁺·A = A and is symmetric.
    const v = randomMatrix(2, 4, 5);
    const a = naiveMatmul(
      Float64Array.from({ length: 8 }, (_, i) => v[(i % 2) * 4 + Math.floor(i / 2)]!),
      v,
      4,
      2,
      4,
    );
    const pinv = pinvSymmetricSmall(a, 4);
    const apa = naiveMatmul(naiveMatmul(a, pinv, 4, 4, 4), a, 4, 4, 4);
    expect(maxAbsDiff(apa, a)).toBeLessThan(1e-10);
    expect(maxAbsDiff(pinv, naiveMatmul(naiveMatmul(pinv, a, 4, 4, 4), pinv, 4, 4, 4))).toBeLessThan(1e-8);
    const dense = spd(5, 2);
    const denseInv = pinvSymmetricSmall(dense, 5);
    expect(identityError(dense, denseInv, 5)).toBeLessThan(1e-9);
  });
});
