// Preparation of H for the OBS sweep (guide/structured-obs.md): dead inputs, relative damping and the float64
// Cholesky inverse, with a damping-escalation fallback.
//
//   H_p = sym(H) + deadValue·Σ_{dead d} e_d e_dᵀ + λ·I,   λ = relativeDamping · mean(diag H over live inputs)
//
// - Dead inputs (diag(H)[d] == 0, i.e. the input was 0 on every calibration token) get the diagonal
//   `deadValue` = the mean live diagonal (the reference uses 1, which is not scale invariant); the
//   solver also zeroes their weights. Their rows/columns of H are 0, so they decouple, cost nothing to
//   remove and do not change the output on the calibration data.
// - Damping is always on (default 1%), as in SparseGPT/DarwinLM; the reference only damps after a
//   failure and inverts in float32, which breaks on real Hessians (guide/structured-obs.md).
// - Fallback: if the factorisation meets a pivot that is not positive to working precision, the
//   relative damping is multiplied by `dampingGrowth` (default 10; from 0 it starts at 1e-6) and the
//   factorisation restarts, at most `maxDampingSteps` times (default 6: 1% → 10% → … → 10⁴%). The
//   input's strict upper triangle survives a failed attempt, so no extra n×n copy is needed. The
//   damping finally used is reported; it defines H_p, which the OBS losses refer to.

import { choleskyInverseInPlace, DEFAULT_BLOCK_SIZE, mirrorUpperToLower } from './cholesky.js';
import { createJsMatMulEngine } from './engine.js';
import type { MatMulEngine } from './engine-types.js';
import { CalibrationError, NotPositiveDefiniteError, NumericalError, ShapeError } from './errors.js';

/** Options of {@link invertHessian} (and of the sweep, which calls it). */
export interface PrepareOptions {
  /** λ as a fraction of the mean live diagonal of H (default 0.01, i.e. 1%). */
  relativeDamping?: number;
  /** How many times the damping may be raised after a failed factorisation (default 6). */
  maxDampingSteps?: number;
  /** Factor by which the relative damping grows per failed attempt (default 10). */
  dampingGrowth?: number;
  /** GEMM engine for the blocked factorisation (default: the plain TypeScript engine). */
  engine?: MatMulEngine;
  /** Block size of the blocked Cholesky inverse (default 256). */
  blockSize?: number;
  /**
   * Reuse the caller's `hessian` buffer for the inverse instead of copying it (saves one n×n float64
   * array; the input is destroyed). Default false.
   */
  overwriteHessian?: boolean;
}

/** The damping that was finally used, and how it was found. */
export interface DampingReport {
  /** Final relative damping (fraction of the mean live diagonal). */
  relative: number;
  /** Final λ added to every diagonal entry. */
  absolute: number;
  /** Mean of diag(H) over live (non-dead) inputs (there is always at least one). */
  meanDiagonal: number;
  /** Every relative damping tried, in order; the last one is `relative`. */
  tried: number[];
}

/** Result of {@link invertHessian}. */
export interface PreparedHessian {
  /** H_p⁻¹ (n×n, exactly symmetric, row-major). */
  inverse: Float64Array;
  /** Dead inputs (zero diagonal), ascending. */
  dead: Int32Array;
  /** Diagonal value given to dead inputs before damping (the mean live diagonal). */
  deadValue: number;
  damping: DampingReport;
}

/** a ← (a + aᵀ)/2 in place, tiled; returns the flat index of the first non-finite entry, or -1. */
function symmetrise(a: Float64Array, n: number): number {
  const T = 64;
  for (let r0 = 0; r0 < n; r0 += T) {
    const r1 = Math.min(r0 + T, n);
    for (let c0 = r0; c0 < n; c0 += T) {
      const c1 = Math.min(c0 + T, n);
      for (let r = r0; r < r1; r++) {
        for (let c = Math.max(c0, r + 1); c < c1; c++) {
          const v = 0.5 * (a[r * n + c]! + a[c * n + r]!);
          if (!Number.isFinite(v)) return r * n + c;
          a[r * n + c] = v;
          a[c * n + r] = v;
        }
      }
    }
  }
  return -1;
}

/**
 * Computes H_p⁻¹ for H (n×n row-major, symmetric up to rounding; its symmetric part is used). See the
 * module comment for H_p. Throws {@link NotPositiveDefiniteError} when every damping step fails,
 * {@link NumericalError} when H holds NaN or ±Infinity, and {@link CalibrationError} when every input is
 * dead (H = 0: there is no calibration signal to prune against).
 */
export async function invertHessian(hessian: Float64Array, n: number, options: PrepareOptions = {}): Promise<PreparedHessian> {
  if (!Number.isSafeInteger(n) || n < 1) throw new ShapeError(`invertHessian: n must be a positive integer, got ${n}`);
  if (hessian.length !== n * n) throw new ShapeError(`invertHessian: H holds ${hessian.length} values, expected ${n}×${n} = ${n * n}`);
  const relative0 = options.relativeDamping ?? 0.01;
  const maxSteps = options.maxDampingSteps ?? 6;
  const growth = options.dampingGrowth ?? 10;
  if (!(relative0 >= 0) || !Number.isFinite(relative0))
    throw new ShapeError(`invertHessian: relativeDamping must be a finite number ≥ 0, got ${relative0}`);
  if (!Number.isSafeInteger(maxSteps) || maxSteps < 0)
    throw new ShapeError(`invertHessian: maxDampingSteps must be a non-negative integer, got ${maxSteps}`);
  if (!(growth > 1)) throw new ShapeError(`invertHessian: dampingGrowth must be > 1, got ${growth}`);
  const engine = options.engine ?? createJsMatMulEngine();
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;

  const a = options.overwriteHessian ? hessian : hessian.slice();
  // Symmetrise: (H + Hᵀ)/2, so the lower triangle (factorised) and the upper triangle (kept for
  // restarts) agree exactly.
  const bad = symmetrise(a, n);
  if (bad >= 0) throw new NumericalError(`invertHessian: H[${Math.floor(bad / n)}][${bad % n}] is not finite`);
  const deadList: number[] = [];
  let liveSum = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i * n + i]!;
    if (!Number.isFinite(v)) throw new NumericalError(`invertHessian: H[${i}][${i}] is not finite (${v})`);
    // A Gram matrix has a non-negative diagonal; a negative one is not a Hessian of this objective,
    // and damping relative to it could never help.
    if (v < 0) throw new NotPositiveDefiniteError(`invertHessian: H[${i}][${i}] = ${v} is negative; H must be 2XXᵀ/n`, []);
    if (v === 0) deadList.push(i);
    else liveSum += v;
  }
  const live = n - deadList.length;
  if (live === 0) {
    // H = 0: every input was 0 on every calibration token. Damping would make H_p = λ·I and the sweep
    // would report error 0 at every level, which says nothing about the layer: refuse instead.
    throw new CalibrationError(
      `invertHessian: every one of the ${n} inputs is dead (diag(H) is all zero, so H = 0): the layer's inputs were 0 on every calibration token; check how they were captured (hook, mask)`,
    );
  }
  const meanDiagonal = liveSum / live;
  const dead = Int32Array.from(deadList);
  for (const d of dead) a[d * n + d] = meanDiagonal;
  const diagonal = new Float64Array(n);
  for (let i = 0; i < n; i++) diagonal[i] = a[i * n + i]!;

  const tried: number[] = [];
  let relative = relative0;
  for (let attempt = 0; attempt <= maxSteps; attempt++) {
    if (attempt > 0) {
      relative = relative === 0 ? 1e-6 : relative * growth;
      // Restore the lower triangle from the untouched upper triangle.
      mirrorUpperToLower(a, n);
    }
    tried.push(relative);
    const lambda = relative * meanDiagonal;
    for (let i = 0; i < n; i++) a[i * n + i] = diagonal[i]! + lambda;
    const result = await choleskyInverseInPlace(a, n, engine, blockSize);
    if (result.failedColumn < 0) {
      return { inverse: a, dead, deadValue: meanDiagonal, damping: { relative, absolute: lambda, meanDiagonal, tried } };
    }
  }
  // When `a` is the caller's buffer, leave it holding the symmetrised input rather than a half factor.
  mirrorUpperToLower(a, n);
  for (let i = 0; i < n; i++) a[i * n + i] = diagonal[i]!;
  for (const d of dead) a[d * n + d] = 0;
  throw new NotPositiveDefiniteError(
    `invertHessian: H (${n}×${n}) is not positive definite even with relative damping ${tried[tried.length - 1]} (tried ${tried.join(', ')})`,
    tried,
  );
}

/**
 * The matrix H_p whose inverse {@link invertHessian} returned: the oracle of the OBS losses and the
 * closed-form optimum W·H_p[:,K]·(H_p[K,K])⁻¹ must use it. Returns a new array.
 */
export function preparedHessian(
  hessian: Float64Array,
  n: number,
  prepared: Pick<PreparedHessian, 'dead' | 'deadValue' | 'damping'>,
): Float64Array {
  const a = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) a[r * n + c] = 0.5 * (hessian[r * n + c]! + hessian[c * n + r]!);
  for (const d of prepared.dead) a[d * n + d] = prepared.deadValue;
  for (let i = 0; i < n; i++) a[i * n + i] += prepared.damping.absolute;
  return a;
}
