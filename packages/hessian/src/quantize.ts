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

/** Lower Cholesky factor of a symmetric positive-definite n × n matrix (in place, upper part zeroed). */
function choleskyLower(a: Float64Array, n: number, damp: number): void {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= a[j * n + k]! ** 2;
    if (!(d > 0))
      throw new NotPositiveDefiniteError(`the damped Hessian is not positive definite (pivot ${j}: ${d}); raise damp (now ${damp})`, [
        damp,
      ]);
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / l;
    }
    for (let k = j + 1; k < n; k++) a[j * n + k] = 0;
  }
}

/** The inverse of a lower-triangular matrix, in place. */
function invertLower(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    a[j * n + j] = 1 / a[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += a[i * n + k]! * a[k * n + j]!;
      a[i * n + j] = -s / a[i * n + i]!;
    }
  }
}

/**
 * The upper factor U of H⁻¹ = UᵀU, for H (already damped and permuted). H⁻¹ = L⁻ᵀL⁻¹ from H = LLᵀ; U is
 * the transpose of the lower Cholesky factor of H⁻¹.
 */
function inverseUpperFactor(h: Float64Array, n: number, damp: number): Float64Array {
  const l = Float64Array.from(h);
  choleskyLower(l, n, damp);
  invertLower(l, n); // l = L⁻¹
  const inv = new Float64Array(n * n); // H⁻¹ = L⁻ᵀ L⁻¹
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += l[k * n + i]! * l[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  choleskyLower(inv, n, damp);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = inv[j * n + i]!;
  return u;
}

/**
 * @internal The OBS factor of a layer for column-sequential updates: W and H in the order `perm`, dead inputs
 * (H_ii = 0) zeroed (their weights never reach the output), H damped by `damp` · mean(diag H), and U with
 * H⁻¹ = UᵀU. Any column-sequential OBS method (GPTQ here; SparseGPT-style pruning fixes weights to 0 the same way)
 * starts from it.
 */
export function obsFactor(
  weights: Float32Array,
  rows: number,
  cols: number,
  hessian: Float64Array,
  perm: readonly number[],
  damp: number,
): { w: Float64Array; u: Float64Array } {
  const h = new Float64Array(cols * cols);
  const w = new Float64Array(rows * cols);
  let meanDiag = 0;
  for (let i = 0; i < cols; i++) meanDiag += hessian[i * cols + i]!;
  meanDiag /= cols;
  for (let i = 0; i < cols; i++) {
    const pi = perm[i]!;
    for (let j = 0; j < cols; j++) h[i * cols + j] = hessian[pi * cols + perm[j]!]!;
    for (let r = 0; r < rows; r++) w[r * cols + i] = weights[r * cols + pi]!;
  }
  for (let i = 0; i < cols; i++) {
    if (h[i * cols + i] === 0) {
      h[i * cols + i] = 1;
      for (let r = 0; r < rows; r++) w[r * cols + i] = 0;
    }
    h[i * cols + i] += damp * (meanDiag > 0 ? meanDiag : 1);
  }
  return { w, u: inverseUpperFactor(h, cols, damp) };
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
 * moves each fixing error onto the columns not yet fixed through U (the OBS update), immediately inside a
 * block of `blockSize` columns and once per block for the columns after it.
 */
export function columnwiseObs(
  w: Float64Array,
  rows: number,
  cols: number,
  u: Float64Array,
  blockSize: number,
  decide: ColumnDecisions,
): void {
  const err = new Float64Array(rows * blockSize);
  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    decide.block?.(i1, i2);
    for (let i = i1; i < i2; i++) {
      decide.column?.(i);
      const d = u[i * cols + i]!;
      for (let r = 0; r < rows; r++) {
        const current = w[r * cols + i]!;
        const fixed = decide.value(r, i, current);
        w[r * cols + i] = fixed;
        const e = (current - fixed) / d;
        err[r * blockSize + (i - i1)] = e;
        for (let j = i + 1; j < i2; j++) w[r * cols + j] = w[r * cols + j]! - e * u[i * cols + j]!;
      }
    }
    // Lazy update of every column after the block: W[:, i2:] −= Err · U[i1:i2, i2:].
    for (let r = 0; r < rows; r++) {
      for (let k = i1; k < i2; k++) {
        const e = err[r * blockSize + (k - i1)]!;
        if (e === 0) continue;
        for (let j = i2; j < cols; j++) w[r * cols + j] = w[r * cols + j]! - e * u[k * cols + j]!;
      }
    }
  }
}

/**
 * GPTQ INT8: quantizes W column by column with the OBS update of the columns not yet quantized, in
 * blocks with lazy updates. Dead inputs (H_ii = 0) are quantized to 0, as they never affect the output.
 */
export function quantizeGptq(
  weights: Float32Array,
  rows: number,
  cols: number,
  hessian: Float64Array,
  options: QuantizeOptions = {},
): QuantizedLayer {
  const groupSize = options.groupSize ?? cols;
  checkShapes(weights, rows, cols, hessian, groupSize);
  const blockSize = options.blockSize ?? 128;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new ShapeError(`blockSize must be a positive integer, got ${blockSize}`);
  const damp = options.damp ?? 0.01;
  if (!(damp >= 0)) throw new ShapeError(`damp must be >= 0, got ${damp}`);
  const groups = cols / groupSize;

  // Column order: as given, or by decreasing H_ii (act-order). perm[k] is the original column of position k.
  const perm = Array.from({ length: cols }, (_, i) => i);
  if (options.actOrder) perm.sort((a, b) => hessian[b * cols + b]! - hessian[a * cols + a]! || a - b);
  const { w, u } = obsFactor(weights, rows, cols, hessian, perm, damp);

  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  const dequantized = new Float32Array(rows * cols);
  const rowScale = new Float64Array(rows);
  columnwiseObs(w, rows, cols, u, blockSize, {
    column(i) {
      const original = perm[i]!;
      // A group's scale is set when its first column (in quantization order) is reached, from the
      // group's current weights; with act-order, groups follow the original columns.
      const group = Math.floor(original / groupSize);
      for (let r = 0; r < rows; r++) {
        let scale = scales[r * groups + group]!;
        if (scale === 0) {
          let maxAbs = 0;
          for (let k = i; k < cols; k++)
            if (Math.floor(perm[k]! / groupSize) === group) maxAbs = Math.max(maxAbs, Math.abs(w[r * cols + k]!));
          scale = Math.fround(scaleOf(maxAbs));
          scales[r * groups + group] = scale;
        }
        rowScale[r] = scale;
      }
    },
    value(r, i, current) {
      const v = roundToGrid(current, rowScale[r]!);
      q[r * cols + perm[i]!] = v;
      const deq = v * rowScale[r]!;
      dequantized[r * cols + perm[i]!] = deq;
      return deq;
    },
  });
  return { q, scales, groupSize, dequantized, error: quantizationError(weights, dequantized, rows, cols, hessian) };
}
