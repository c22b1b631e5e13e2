// Unstructured OBS sparsity of one linear layer (SparseGPT, Frantar & Alistarh, 2023), on the same layer Hessian
// as the structured solver and GPTQ (./quantize.ts). Docs site guide: apps/docs/guide/structured-obs.md (the same
// H = 2XXᵀ/n, damped the same way as GPTQ).
//
// The columns are visited in blocks of `blockSize`. At the start of a block, each row chooses which of the block's
// weights to remove: its share of the row's removals with the smallest OBS saliency w² / U_ii² (U the upper
// Cholesky factor of H_p⁻¹, so U_ii² is [H⁻¹]_ii of the inputs not yet visited, and w the weight as updated by the
// earlier blocks). Then the columns are visited one at a time: removed weights are set to 0 and their error is
// moved onto the columns not yet visited, exactly as GPTQ moves a rounding error (columnwiseObs).
//
// Where we differ from SparseGPT: (1) the fraction removed is the same in every row (SparseGPT thresholds a block
// over all rows at once, so rows end up with different sparsities); (2) an optional refit: the single left-to-right
// pass never revisits a column, so the kept weights of the early columns never see the removals after them. For
// the final mask the optimal kept weights have a closed form per row, ŵ_K = H_KK⁻¹·H_K,:·w, which is too costly
// per row (a different K in every row), so `refitIterations` steps of preconditioned conjugate gradients over all
// rows at once approach it: each step is one rows × cols × cols GEMM through the engine, and the damped objective
// tr((W' − W)·H_p·(W' − W)ᵀ) decreases monotonically. The README gives the measured gains.

import { createJsMatMulEngine } from './engine.js';
import type { MatMulEngine } from './engine-types.js';
import { ShapeError } from './errors.js';
import { columnwiseObs, dampedHessian, obsFactor, outputError } from './quantize.js';

/** Options of {@link sparsifyMagnitude}. */
export interface MagnitudeSparsifyOptions {
  /** Fraction of each row's weights removed, in [0, 1]; every row loses round(cols · sparsity) weights. */
  readonly sparsity: number;
  /** GEMM engine for the output error (default: the plain TypeScript engine). */
  readonly engine?: MatMulEngine;
}

/** Options of {@link sparsifyObs}. */
export interface SparsifyOptions extends MagnitudeSparsifyOptions {
  /** Columns per mask block (default 128, SparseGPT's). Each block removes its share of every row's removals. */
  readonly blockSize?: number;
  /** Relative damping: λ = damp · mean(diag H) added to the diagonal (default 0.01, as GPTQ). */
  readonly damp?: number;
  /**
   * Conjugate-gradient steps of the refit of the kept weights for the final mask (0: plain SparseGPT). Default
   * {@link DEFAULT_REFIT_ITERATIONS}. Each step costs one rows × cols × cols GEMM, about as much as the whole
   * SparseGPT pass's lazy updates.
   */
  readonly refitIterations?: number;
  /** GEMM engine for the factorisation of H, the lazy block updates, the refit and the error. */
  readonly engine?: MatMulEngine;
}

/** The default number of refit steps of {@link sparsifyObs} (see the README, "Unstructured sparsity"). */
export const DEFAULT_REFIT_ITERATIONS = 20;

/** A sparsified layer: {@link sparsifyObs} or {@link sparsifyMagnitude}. */
export interface SparseLayer {
  /** The weights after pruning (and, for OBS, the update of the kept ones), rows × cols; removed weights are exactly 0. */
  readonly weights: Float32Array;
  /** 1 where a weight is kept, 0 where it was removed, rows × cols. */
  readonly mask: Uint8Array;
  /** Fraction of the weights that are 0 (at least the requested sparsity: kept weights may also be 0). */
  readonly sparsity: number;
  /** tr(ΔW H ΔWᵀ) with ΔW = W − weights and the H given (undamped): the output error on the calibration data, (2/n)·‖ΔW X‖². */
  readonly error: number;
}

function checkArguments(weights: Float32Array, rows: number, cols: number, hessian: Float64Array, sparsity: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1)
    throw new ShapeError(`rows and cols must be positive integers, got ${rows} × ${cols}`);
  if (weights.length !== rows * cols) throw new ShapeError(`weights hold ${weights.length} values, expected rows × cols = ${rows * cols}`);
  if (hessian.length !== cols * cols)
    throw new ShapeError(`the Hessian holds ${hessian.length} values, expected cols × cols = ${cols * cols}`);
  if (!(sparsity >= 0 && sparsity <= 1)) throw new ShapeError(`sparsity must be in [0, 1], got ${sparsity}`);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new ShapeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** Removals of each row among its first `c` columns: the block [i1, i2) removes removedBefore(i2) − removedBefore(i1). */
function removedBefore(c: number, sparsity: number): number {
  return Math.round(c * sparsity);
}

function zeroFraction(values: Float32Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) n++;
  return n / values.length;
}

/** The layer unchanged: nothing to remove. */
function unchanged(weights: Float32Array): SparseLayer {
  const copy = Float32Array.from(weights);
  return { weights: copy, mask: new Uint8Array(weights.length).fill(1), sparsity: zeroFraction(copy), error: 0 };
}

/**
 * Marks the `count` entries of `keys[from, to)` with the smallest key as removed in `mask` (row offset `row`);
 * exact ties go to the lowest column.
 */
function removeSmallest(keys: Float64Array, from: number, to: number, count: number, mask: Uint8Array, row: number): void {
  if (count <= 0) return;
  const order = Array.from({ length: to - from }, (_, k) => from + k);
  order.sort((a, b) => keys[a]! - keys[b]! || a - b);
  for (let k = 0; k < count; k++) mask[row + order[k]!] = 0;
}

/**
 * SparseGPT: per-block masks by OBS saliency and the OBS update of the weights not yet visited, then (by default)
 * the conjugate-gradient refit of the kept weights for the final mask. Every row loses round(cols · sparsity)
 * weights. Dead inputs (H_ii = 0) are set to 0, as in GPTQ; their saliency is 0, so they are removed first.
 */
export async function sparsifyObs(
  weights: Float32Array,
  rows: number,
  cols: number,
  hessian: Float64Array,
  options: SparsifyOptions,
): Promise<SparseLayer> {
  const { sparsity } = options;
  checkArguments(weights, rows, cols, hessian, sparsity);
  const blockSize = positiveInteger('blockSize', options.blockSize ?? 128);
  const damp = options.damp ?? 0.01;
  if (!(damp >= 0)) throw new ShapeError(`damp must be >= 0, got ${damp}`);
  const refitIterations = options.refitIterations ?? DEFAULT_REFIT_ITERATIONS;
  if (!Number.isInteger(refitIterations) || refitIterations < 0)
    throw new ShapeError(`refitIterations must be a non-negative integer, got ${refitIterations}`);
  if (removedBefore(cols, sparsity) === 0) return unchanged(weights);
  const engine = options.engine ?? createJsMatMulEngine();

  const identity = Array.from({ length: cols }, (_, i) => i);
  const { w, u } = await obsFactor(weights, rows, cols, hessian, identity, damp, engine);
  // The target of the refit: W with dead inputs zeroed, as the pass saw it.
  const target = refitIterations > 0 ? w.slice() : undefined;
  const mask = new Uint8Array(rows * cols).fill(1);
  const saliency = new Float64Array(cols);
  await columnwiseObs(
    w,
    rows,
    cols,
    u,
    blockSize,
    {
      block(i1, i2) {
        const count = removedBefore(i2, sparsity) - removedBefore(i1, sparsity);
        for (let r = 0; r < rows; r++) {
          for (let i = i1; i < i2; i++) saliency[i] = (w[r * cols + i]! / u[i * cols + i]!) ** 2;
          removeSmallest(saliency, i1, i2, count, mask, r * cols);
        }
      },
      value: (r, i, current) => (mask[r * cols + i] ? current : 0),
    },
    engine,
  );
  if (target !== undefined) {
    const { h } = dampedHessian(hessian, cols, identity, damp);
    await refitToMask(w, target, mask, rows, cols, h, refitIterations, engine);
  }
  const out = Float32Array.from(w);
  return { weights: out, mask, sparsity: zeroFraction(out), error: await outputError(weights, out, rows, cols, hessian, engine) };
}

/**
 * The magnitude baseline: each row's round(cols · sparsity) weights of smallest |w| removed (over the whole row),
 * the others unchanged. The Hessian is used for the error only.
 */
export async function sparsifyMagnitude(
  weights: Float32Array,
  rows: number,
  cols: number,
  hessian: Float64Array,
  options: MagnitudeSparsifyOptions,
): Promise<SparseLayer> {
  checkArguments(weights, rows, cols, hessian, options.sparsity);
  const count = removedBefore(cols, options.sparsity);
  if (count === 0) return unchanged(weights);
  const mask = new Uint8Array(rows * cols).fill(1);
  const magnitude = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) magnitude[c] = Math.abs(weights[r * cols + c]!);
    removeSmallest(magnitude, 0, cols, count, mask, r * cols);
  }
  const out = Float32Array.from(weights);
  for (let i = 0; i < out.length; i++) if (!mask[i]) out[i] = 0;
  const engine = options.engine ?? createJsMatMulEngine();
  return { weights: out, mask, sparsity: zeroFraction(out), error: await outputError(weights, out, rows, cols, hessian, engine) };
}

/**
 * @internal Moves the kept weights `x` (rows × cols, 0 where `mask` is 0) towards the minimiser of
 * tr((X − W)·H·(X − W)ᵀ) over the kept entries, in place: Jacobi-preconditioned conjugate gradients, one
 * independent system per row (ŵ_K = H_KK⁻¹·H_K,:·w), all rows stepped together so that each step is one
 * rows × cols × cols GEMM. The objective never increases; a row stops once its preconditioned residual has
 * fallen by 1e-14 (it is then exact to float64), and all stop after `iterations` steps.
 */
export async function refitToMask(
  x: Float64Array,
  w: Float64Array,
  mask: Uint8Array,
  rows: number,
  cols: number,
  h: Float64Array,
  iterations: number,
  engine: MatMulEngine,
): Promise<void> {
  const n = rows * cols;
  const inverseDiagonal = new Float64Array(cols);
  for (let c = 0; c < cols; c++) inverseDiagonal[c] = 1 / h[c * cols + c]!;
  // Residual R = −½·gradient on the kept entries: ((W − X)·H) ⊙ mask.
  const difference = new Float64Array(n);
  for (let i = 0; i < n; i++) difference[i] = w[i]! - x[i]!;
  const residual = await engine.matmulF64(difference, h, rows, cols, cols);
  const direction = new Float64Array(n);
  const rz = new Float64Array(rows);
  const rzFirst = new Float64Array(rows);
  const active = new Uint8Array(rows);
  let anyActive = false;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (!mask[i]) {
        residual[i] = 0;
        continue;
      }
      const z = residual[i]! * inverseDiagonal[c]!;
      direction[i] = z;
      s += residual[i]! * z;
    }
    rz[r] = s;
    rzFirst[r] = s;
    active[r] = s > 0 ? 1 : 0;
    if (s > 0) anyActive = true;
  }
  for (let step = 0; step < iterations && anyActive; step++) {
    const product = await engine.matmulF64(direction, h, rows, cols, cols);
    anyActive = false;
    for (let r = 0; r < rows; r++) {
      if (!active[r]) continue;
      const row = r * cols;
      let curvature = 0;
      for (let c = 0; c < cols; c++) curvature += direction[row + c]! * product[row + c]!;
      // H_KK is positive definite, so the curvature of a non-zero direction is positive; rounding at convergence
      // is the only way it is not.
      if (!(curvature > 0)) {
        active[r] = 0;
        continue;
      }
      const alpha = rz[r]! / curvature;
      let next = 0;
      for (let c = 0; c < cols; c++) {
        const i = row + c;
        if (!mask[i]) continue;
        x[i] = x[i]! + alpha * direction[i]!;
        residual[i] = residual[i]! - alpha * product[i]!;
        next += residual[i]! * residual[i]! * inverseDiagonal[c]!;
      }
      if (!(next > 1e-28 * rzFirst[r]!)) {
        active[r] = 0;
        continue;
      }
      const beta = next / rz[r]!;
      rz[r] = next;
      for (let c = 0; c < cols; c++) {
        const i = row + c;
        if (mask[i]) direction[i] = residual[i]! * inverseDiagonal[c]! + beta * direction[i]!;
      }
      anyActive = true;
    }
    // Directions of rows that stopped are zeroed so the next GEMM leaves their x alone.
    for (let r = 0; r < rows; r++) if (!active[r]) direction.fill(0, r * cols, (r + 1) * cols);
  }
}
