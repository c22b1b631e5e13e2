import { maxAbsDiff } from '@ziplm/test-utils';
import { describe, expect, it } from 'vitest';
import { CalibrationError, NotPositiveDefiniteError, NumericalError, ShapeError, invertHessian, preparedHessian } from '../src/index.js';
import { correlatedTokens, hessianOf, naiveMatmul } from './helpers/random.js';

function identityError(a: Float64Array, b: Float64Array, n: number): number {
  const p = naiveMatmul(a, b, n, n, n);
  for (let i = 0; i < n; i++) p[i * n + i] -= 1;
  return maxAbsDiff(p, new Float64Array(n * n));
}

describe('invertHessian', () => {
  it('damps by 1% of the mean diagonal by default and returns the inverse of H_p', async () => {
    const n = 12;
    const h = hessianOf(correlatedTokens(40, n, 1), 40, n);
    const input = h.slice();
    const prepared = await invertHessian(h, n, { blockSize: 5 });
    expect(h).toEqual(input); // not overwritten by default
    let mean = 0;
    for (let i = 0; i < n; i++) mean += h[i * n + i]! / n;
    expect(prepared.damping.relative).toBe(0.01);
    expect(prepared.damping.tried).toEqual([0.01]);
    expect(prepared.damping.meanDiagonal).toBeCloseTo(mean, 12);
    expect(prepared.damping.absolute).toBeCloseTo(0.01 * mean, 14);
    expect(identityError(preparedHessian(h, n, prepared), prepared.inverse, n)).toBeLessThan(1e-12);
  });

  it('gives dead inputs the mean live diagonal and keeps them decoupled', async () => {
    const n = 6;
    const x = correlatedTokens(20, n, 2);
    for (let t = 0; t < 20; t++) {
      x[t * n + 1] = 0;
      x[t * n + 4] = 0;
    }
    const h = hessianOf(x, 20, n);
    const prepared = await invertHessian(h, n);
    expect(Array.from(prepared.dead)).toEqual([1, 4]);
    expect(prepared.deadValue).toBeCloseTo(prepared.damping.meanDiagonal, 15);
    const inv = prepared.inverse;
    expect(inv[1 * n + 1]).toBeCloseTo(1 / (prepared.deadValue + prepared.damping.absolute), 14);
    for (let j = 0; j < n; j++) if (j !== 1) expect(inv[1 * n + j]).toBe(0);
  });

  it('escalates the damping step by step when H is singular and damping is off', async () => {
    const n = 10;
    const h = hessianOf(correlatedTokens(3, n, 3), 3, n); // rank 3
    const prepared = await invertHessian(h, n, { relativeDamping: 0 });
    expect(prepared.damping.tried[0]).toBe(0);
    expect(prepared.damping.tried[1]).toBe(1e-6);
    const last = prepared.damping.tried.at(-1)!;
    expect(prepared.damping.relative).toBe(last);
    for (let i = 2; i < prepared.damping.tried.length; i++) {
      expect(prepared.damping.tried[i]).toBeCloseTo(prepared.damping.tried[i - 1]! * 10, 20);
    }
    expect(identityError(preparedHessian(h, n, prepared), prepared.inverse, n)).toBeLessThan(1e-6);
  });

  it('overwrites the input buffer only on request', async () => {
    const n = 8;
    const h = hessianOf(correlatedTokens(30, n, 4), 30, n);
    const reference = await invertHessian(h, n);
    const buffer = h.slice();
    const prepared = await invertHessian(buffer, n, { overwriteHessian: true });
    expect(prepared.inverse).toBe(buffer);
    expect(maxAbsDiff(prepared.inverse, reference.inverse)).toBe(0);
  });

  it('refuses an all-zero H (every input dead) with a CalibrationError', async () => {
    const n = 5;
    const zero = new Float64Array(n * n);
    const err = await invertHessian(zero, n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalibrationError);
    expect((err as Error).message).toMatch(/invertHessian: every one of the 5 inputs is dead \(diag\(H\) is all zero/);
    // Also when the buffer may be overwritten: it is left as it was.
    await expect(invertHessian(zero, n, { overwriteHessian: true, relativeDamping: 0 })).rejects.toThrow(CalibrationError);
    expect(zero.every((v) => v === 0)).toBe(true);
    // One live input is enough.
    zero[2 * n + 2] = 3;
    const prepared = await invertHessian(zero, n);
    expect(Array.from(prepared.dead)).toEqual([0, 1, 3, 4]);
    expect(prepared.damping.meanDiagonal).toBe(3);
  });

  it('raises typed errors for bad input', async () => {
    await expect(invertHessian(new Float64Array(5), 2)).rejects.toThrow(ShapeError);
    await expect(invertHessian(new Float64Array([1, Number.NaN, Number.NaN, 1]), 2)).rejects.toThrow(NumericalError);
    await expect(invertHessian(new Float64Array([-1, 0, 0, 1]), 2)).rejects.toThrow(NotPositiveDefiniteError);
    // Symmetric with a positive diagonal but strongly indefinite: no damping within the limit helps.
    const indefinite = new Float64Array([1, 1e6, 1e6, 1]);
    const err = await invertHessian(indefinite, 2, { maxDampingSteps: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotPositiveDefiniteError);
    expect((err as NotPositiveDefiniteError).triedRelativeDampings).toEqual([0.01, 0.1, 1]);
    await expect(invertHessian(new Float64Array(4).fill(1), 2, { relativeDamping: -1 })).rejects.toThrow(/relativeDamping/);
  });
});
