// INT8 weight quantization of one linear layer with the layer Hessian: GPTQ (Frantar et al., 2023), the
// OBS update applied to quantization, and round-to-nearest (RTN) as its baseline. Docs site guide:
// apps/docs/guide/structured-obs.md (the same H = 2XXᵀ/n and its inverse as the structured solver).
//
// W is rows × cols (rows = output channels, cols = the inputs H is over). GPTQ quantizes the columns one at
// a time; after column i is rounded, the columns not yet quantized absorb its rounding error through the
// inverse Hessian of the remaining inputs, which is the OBS update for the constraint "w_i is fixed to its
// grid value". With U the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU), row i of U holds exactly that update
// for every later column, so one factorisation replaces the n rank-one downdates of H⁻¹. The updates are
// applied lazily: inside a block of columns immediately, to the columns after the block once per block.
//
// Scales are symmetric and per output channel (or per group of `groupSize` columns of a channel), with
// integers in [−127, 127] (the range onnxruntime's symmetric INT8 weights use). A group's scale is taken
// from the group's weights as they are when the group is reached, after the updates of earlier columns.
//
// Every O(n³) or O(rows·cols²) step runs as GEMMs through a MatMulEngine (the plain TypeScript one by default,
// onnxruntime when injected): the factor U (a blocked Cholesky and triangular inverse, see obsFactor), the lazy
// block updates of the columns after each block, and the output error tr(ΔW H ΔWᵀ). Only the O(rows·cols·block)
// work inside a block stays in JS.

import { choleskyInPlace, invertLowerInPlace } from './cholesky.js';
import { createJsMatMulEngine } from './engine.js';
import type { MatMulEngine } from './engine-types.js';
import { NotPositiveDefiniteError, ShapeError } from './errors.js';

/** The largest integer of the symmetric INT8 grid. */
export const INT8_MAX = 127;

export interface QuantizeOptions {
  /** Columns per scale within a row (default: the whole row, one scale per output channel). Must divide cols. */
  readonly groupSize?: number;
  /** Quantize columns in order of decreasing H_ii (GPTQ's act-order); the result is in the original order. Default false. */
  readonly actOrder?: boolean;
  /** Columns per lazy-update block (default 128). */
  readonly blockSize?: number;
  /** Relative damping: λ = damp · mean(diag H) added to the diagonal before inverting (default 0.01). */
  readonly damp?: number;
  /**
   * Sparsity mask, rows × cols, 0 = pruned (e.g. `SparseLayer.mask` of `sparsifyObs`). Pruned weights are fixed to
   * exactly 0 instead of a grid value (their q is 0), their rounding errors are still moved onto the later columns,
   * and they take no part in the scales: SparseGPT's joint sparsity + quantization, with the mask given.
   */
  readonly mask?: Uint8Array;
  /** GEMM engine for the factorisation of H, the lazy block updates and the error (default: the plain TypeScript engine). */
  readonly engine?: MatMulEngine;
}

export interface QuantizedLayer {
  /** The integers, rows × cols, row-major, in [−127, 127]. */
  readonly q: Int8Array;
  /** Scales, rows × (cols / groupSize): row r, group g at r · groups + g. */
  readonly scales: Float32Array;
  readonly groupSize: number;
  /** The dequantized weights q · scale, rows × cols. */
  readonly dequantized: Float32Array;
  /**
   * tr(ΔW H ΔWᵀ) with ΔW = W − dequantized and the H given (undamped): the layer's output error on the
   * calibration data, (2/n)·‖ΔW X‖², the quantity GPTQ minimises column by column.
   */
  readonly error: number;
}

function checkShapes(weights: Float32Array, rows: number, cols: number, hessian: Float64Array | undefined, groupSize: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1)
    throw new ShapeError(`rows and cols must be positive integers, got ${rows} × ${cols}`);
  if (weights.length !== rows * cols) throw new ShapeError(`weights hold ${weights.length} values, expected rows × cols = ${rows * cols}`);
  if (hessian !== undefined && hessian.length !== cols * cols)
    throw new ShapeError(`the Hessian holds ${hessian.length} values, expected cols × cols = ${cols * cols}`);
  if (!Number.isInteger(groupSize) || groupSize < 1 || cols % groupSize !== 0)
    throw new ShapeError(`groupSize must be a positive integer that divides cols (${cols}), got ${groupSize}`);
}

/** The symmetric scale of a set of weights: max |w| / 127 (1 for all zeros, so that 0 stays 0). */
function scaleOf(maxAbs: number): number {
  return maxAbs > 0 ? maxAbs / INT8_MAX : 1;
}

function roundToGrid(w: number, scale: number): number {
  return Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.round(w / scale)));
}

/** tr(ΔW H ΔWᵀ) for ΔW = a − b (rows × cols). */
export function quantizationError(a: Float32Array, b: Float32Array, rows: number, cols: number, hessian: Float64Array): number {
  let total = 0;
  const d = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[c] = a[r * cols + c]! - b[r * cols + c]!;
    for (let i = 0; i < cols; i++) {
      if (d[i] === 0) continue;
      let s = 0;
      for (let j = 0; j < cols; j++) s += hessian[i * cols + j]! * d[j]!;
      total += d[i]! * s;
    }
  }
  return total;
}

/** Round-to-nearest INT8: every weight to its nearest grid value, with the same scales as GPTQ would start from. */
export function quantizeRtn(
  weights: Float32Array,
  rows: number,
  cols: number,
  hessian?: Float64Array,
  options: Pick<QuantizeOptions, 'groupSize'> = {},
): QuantizedLayer {
  const groupSize = options.groupSize ?? cols;
  checkShapes(weights, rows, cols, hessian, groupSize);
  const groups = cols / groupSize;
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  const dequantized = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      let maxAbs = 0;
      for (let c = g * groupSize; c < (g + 1) * groupSize; c++) maxAbs = Math.max(maxAbs, Math.abs(weights[r * cols + c]!));
      const scale = Math.fround(scaleOf(maxAbs));
      scales[r * groups + g] = scale;
      for (let c = g * groupSize; c < (g + 1) * groupSize; c++) {
        const v = roundToGrid(weights[r * cols + c]!, scale);
        q[r * cols + c] = v;
        dequantized[r * cols + c] = v * scale;
      }
    }
  }
  return { q, scales, groupSize, dequantized, error: hessian ? quantizationError(weights, dequantized, rows, cols, hessian) : Number.NaN };
}

/**
 * The upper factor U of H⁻¹ = UᵀU, for H (already damped and permuted; overwritten: the result reuses its buffer).
 * With J the reversal permutation, J·H·J = L̃·L̃ᵀ gives H = R·Rᵀ with R = J·L̃·J upper triangular, so
 * H⁻¹ = R⁻ᵀ·R⁻¹ and U = R⁻¹ = J·L̃⁻¹·J: a Cholesky and a triangular inverse (⅔·n³ flops, as GEMMs through the
 * engine) instead of the inverse of H and a second Cholesky (4/3·n³). Reversing both indices of a row-major
 * n × n array is reversing the flat array, which is done in place.
 */
async function inverseUpperFactor(
  h: Float64Array,
  n: number,
  damp: number,
  perm: readonly number[],
  engine: MatMulEngine,
): Promise<Float64Array> {
  h.reverse(); // J·H·J
  const { failedColumn } = await choleskyInPlace(h, n, engine);
  if (failedColumn >= 0) {
    const column = perm[n - 1 - failedColumn]!;
    throw new NotPositiveDefiniteError(`the damped Hessian is not positive definite (at input ${column}); raise damp (now ${damp})`, [
      damp,
    ]);
  }
  await invertLowerInPlace(h, n, engine); // L̃⁻¹ in the lower triangle; the strict upper triangle still holds input
  h.reverse(); // U = J·L̃⁻¹·J, upper; the strict lower triangle now holds the leftover input
  for (let i = 1; i < n; i++) h.fill(0, i * n, i * n + i);
  return h;
}

/**
 * @internal The damped Hessian H_p of the column-sequential OBS methods, in the order `perm`: H + λ·I with
 * λ = `damp` · mean(diag H), and diagonal 1 (+ λ) for dead inputs (H_ii = 0), which decouples them (their rows and
 * columns of H are 0). Returns H_p and whether each position is dead.
 */
export function dampedHessian(
  hessian: Float64Array,
  cols: number,
  perm: readonly number[],
  damp: number,
): { h: Float64Array; dead: Uint8Array } {
  const h = new Float64Array(cols * cols);
  const dead = new Uint8Array(cols);
  let meanDiag = 0;
  for (let i = 0; i < cols; i++) meanDiag += hessian[i * cols + i]!;
  meanDiag /= cols;
  for (let i = 0; i < cols; i++) {
    const pi = perm[i]!;
    for (let j = 0; j < cols; j++) h[i * cols + j] = hessian[pi * cols + perm[j]!]!;
  }
  for (let i = 0; i < cols; i++) {
    if (h[i * cols + i] === 0) {
      h[i * cols + i] = 1;
      dead[i] = 1;
    }
    h[i * cols + i] += damp * (meanDiag > 0 ? meanDiag : 1);
  }
  return { h, dead };
}

/**
 * @internal The OBS factor of a layer for column-sequential updates: W in the order `perm` with dead inputs
 * zeroed (their weights never reach the output), and U with H_p⁻¹ = UᵀU ({@link dampedHessian}). Any
 * column-sequential OBS method (GPTQ here; SparseGPT-style pruning fixes weights to 0 the same way) starts from it.
 */
export async function obsFactor(
  weights: Float32Array,
  rows: number,
  cols: number,
  hessian: Float64Array,
  perm: readonly number[],
  damp: number,
  engine: MatMulEngine,
): Promise<{ w: Float64Array; u: Float64Array }> {
  const { h, dead } = dampedHessian(hessian, cols, perm, damp);
  const w = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let i = 0; i < cols; i++) w[row + i] = dead[i] ? 0 : weights[row + perm[i]!]!;
  }
  return { w, u: await inverseUpperFactor(h, cols, damp, perm, engine) };
}

/** @internal What a column-sequential OBS pass decides. */
export interface ColumnDecisions {
  /** Called before the columns of a block [i1, i2) (block-level choices, e.g. a pruning mask). */
  block?(i1: number, i2: number): void;
  /** Called before column i's rows. */
  column?(i: number): void;
  /** The value row r's weight of column i is fixed to, given its current (updated) value. */
  value(r: number, i: number, current: number): number;
}

/**
 * @internal Fixes the columns of `w` (rows × cols, in OBS order) one at a time to `decide.value`, and
 * moves each fixing error onto the columns not yet fixed through U (the OBS update): immediately inside a
 * block of `blockSize` columns (JS, O(rows·blockSize) per column) and once per block for the columns after
 * it, as one rows × block × rest GEMM through the engine.
 */
export async function columnwiseObs(
  w: Float64Array,
  rows: number,
  cols: number,
  u: Float64Array,
  blockSize: number,
  decide: ColumnDecisions,
  engine: MatMulEngine,
): Promise<void> {
  const errors = new Float64Array(rows * Math.min(blockSize, cols));
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    const width = i2 - i1;
    decide.block?.(i1, i2);
    for (let i = i1; i < i2; i++) {
      decide.column?.(i);
      const d = u[i * cols + i]!;
      const uRow = i * cols;
      for (let r = 0; r < rows; r++) {
        const row = r * cols;
        const current = w[row + i]!;
        const fixed = decide.value(r, i, current);
        w[row + i] = fixed;
        const e = (current - fixed) / d;
        errors[r * width + (i - i1)] = e;
        if (e === 0) continue;
        for (let j = i + 1; j < i2; j++) w[row + j] = w[row + j]! - e * u[uRow + j]!;
      }
    }
    if (i2 === cols) break;
    // Lazy update of every column after the block: W[:, i2:] −= Err · U[i1:i2, i2:].
    const rest = cols - i2;
    const uBlock = new Float64Array(width * rest);
    for (let k = 0; k < width; k++) uBlock.set(u.subarray((i1 + k) * cols + i2, (i1 + k + 1) * cols), k * rest);
    const update = await engine.matmulF64(errors.subarray(0, rows * width), uBlock, rows, width, rest);
    for (let r = 0; r < rows; r++) {
      const row = r * cols + i2;
      const source = r * rest;
      for (let j = 0; j < rest; j++) w[row + j] = w[row + j]! - update[source + j]!;
    }
  }
}

/**
 * tr(ΔW H ΔWᵀ) for ΔW = a − b (rows × cols), as one rows × cols × cols GEMM through the engine:
 * {@link quantizationError} with the O(rows·cols²) product off the JS thread (e.g. the error of
 * `quantizeRtn` called without a Hessian, on a large layer).
 */
export async function outputError(
  a: Float32Array,
  b: ArrayLike<number>,
  rows: number,
  cols: number,
  hessian: Float64Array,
  engine: MatMulEngine,
): Promise<number> {
  const delta = new Float64Array(rows * cols);
  for (let i = 0; i < delta.length; i++) delta[i] = a[i]! - b[i]!;
  const product = await engine.matmulF64(delta, hessian, rows, cols, cols);
  let total = 0;
  for (let i = 0; i < delta.length; i++) total += delta[i]! * product[i]!;
  return total;
}

/**
 * GPTQ INT8: quantizes W column by column with the OBS update of the columns not yet quantized, in
 * blocks with lazy updates. Dead inputs (H_ii = 0) are quantized to 0, as they never affect the output;
 * so are the weights `options.mask` prunes.
 */
export async function quantizeGptq(
  weights: Float32Array,
  rows: number,
  cols: number,
  hessian: Float64Array,
  options: QuantizeOptions = {},
): Promise<QuantizedLayer> {
  const groupSize = options.groupSize ?? cols;
  checkShapes(weights, rows, cols, hessian, groupSize);
  const blockSize = options.blockSize ?? 128;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new ShapeError(`blockSize must be a positive integer, got ${blockSize}`);
  const damp = options.damp ?? 0.01;
  if (!(damp >= 0)) throw new ShapeError(`damp must be >= 0, got ${damp}`);
  const mask = options.mask;
  if (mask !== undefined && mask.length !== rows * cols)
    throw new ShapeError(`the mask holds ${mask.length} values, expected rows × cols = ${rows * cols}`);
  const engine = options.engine ?? createJsMatMulEngine();
  const groups = cols / groupSize;

  // Column order: as given, or by decreasing H_ii (act-order). perm[k] is the original column of position k.
  const perm = Array.from({ length: cols }, (_, i) => i);
  if (options.actOrder) perm.sort((a, b) => hessian[b * cols + b]! - hessian[a * cols + a]! || a - b);
  const { w, u } = await obsFactor(weights, rows, cols, hessian, perm, damp, engine);
  const kept = (r: number, position: number): boolean => mask === undefined || mask[r * cols + perm[position]!] !== 0;

  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  const dequantized = new Float32Array(rows * cols);
  const rowScale = new Float64Array(rows);
  await columnwiseObs(
    w,
    rows,
    cols,
    u,
    blockSize,
    {
      column(i) {
        const original = perm[i]!;
        // A group's scale is set when its first column (in quantization order) is reached, from the
        // group's current (kept) weights; with act-order, groups follow the original columns.
        const group = Math.floor(original / groupSize);
        for (let r = 0; r < rows; r++) {
          let scale = scales[r * groups + group]!;
          if (scale === 0) {
            let maxAbs = 0;
            for (let k = i; k < cols; k++)
              if (Math.floor(perm[k]! / groupSize) === group && kept(r, k)) maxAbs = Math.max(maxAbs, Math.abs(w[r * cols + k]!));
            scale = Math.fround(scaleOf(maxAbs));
            scales[r * groups + group] = scale;
          }
          rowScale[r] = scale;
        }
      },
      value(r, i, current) {
        if (!kept(r, i)) return 0; // q and dequantized stay 0
        const v = roundToGrid(current, rowScale[r]!);
        q[r * cols + perm[i]!] = v;
        const deq = v * rowScale[r]!;
        dequantized[r * cols + perm[i]!] = deq;
        return deq;
      },
    },
    engine,
  );
  return { q, scales, groupSize, dequantized, error: await outputError(weights, dequantized, rows, cols, hessian, engine) };
}
