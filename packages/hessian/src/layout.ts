// Weight layouts. The solver takes nn.Linear's [out, in] (rows = outputs, columns = the inputs being
// pruned). GPT2's transformers.Conv1D stores [in, out] and computes y = x·W + b, so its weights must be
// transposed first and the snapshots transposed back (guide/structured-obs.md; SparseGPT does `W = W.t()`).

import { ShapeError } from './errors.js';
import { transposeTiled } from './internal/kernels.js';

function transpose<T extends Float32Array | Float64Array>(w: T, rows: number, cols: number, out: T, what: string): T {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0 || w.length !== rows * cols) {
    throw new ShapeError(`${what}: weight holds ${w.length} values, expected ${rows}×${cols} = ${rows * cols}`);
  }
  return transposeTiled(w, rows, cols, out);
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
