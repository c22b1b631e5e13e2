// Weight layouts. The solver takes nn.Linear's [out, in] (rows = outputs, columns = the inputs being
// pruned). GPT2's transformers.Conv1D stores [in, out] and computes y = x·W + b, so its weights must be
// transposed first and the snapshots transposed back (guide/structured-obs.md; SparseGPT does `W = W.t()`).

import { ShapeError } from './errors.js';

function transpose<T extends Float32Array | Float64Array>(w: T, rows: number, cols: number, out: T, what: string): T {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0 || w.length !== rows * cols) {
    throw new ShapeError(`${what}: weight holds ${w.length} values, expected ${rows}×${cols} = ${rows * cols}`);
  }
  // 32×32 tiles keep both the reads and the strided writes in cache.
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(c0 + T, cols);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = w[r * cols + c]!;
    }
  }
  return out;
}

/** Conv1D weight [inFeatures, outFeatures] → solver layout [outFeatures, inFeatures] (a new array). */
export function conv1dToLinear<T extends Float32Array | Float64Array>(weight: T, inFeatures: number, outFeatures: number): T {
  const out = (weight instanceof Float32Array ? new Float32Array(weight.length) : new Float64Array(weight.length)) as T;
  return transpose(weight, inFeatures, outFeatures, out, 'conv1dToLinear');
}

/** Solver layout [outFeatures, keptInputs] → Conv1D layout [keptInputs, outFeatures] (a new array). */
export function linearToConv1d<T extends Float32Array | Float64Array>(weight: T, outFeatures: number, inFeatures: number): T {
  const out = (weight instanceof Float32Array ? new Float32Array(weight.length) : new Float64Array(weight.length)) as T;
  return transpose(weight, outFeatures, inFeatures, out, 'linearToConv1d');
}
