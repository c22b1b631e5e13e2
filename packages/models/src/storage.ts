// How small a member's weights are, for the compound-compression report. onnxruntime has no fast
// sparse kernel on CPU, so the INT8 ONNX graph stores sparse weights densely; these figures say what
// the same weights take in a sparse format (a bitmask of one bit per weight and the nonzero values),
// the form a sparse runtime or a download would use. Pure arithmetic: the size of a file after
// compression is the caller's (gzip the exported bytes with node:zlib, level 9).

import { int8WeightOf } from './internal/onnx/quantized.js';
import type { Int8Weight } from './onnx/quantize.js';
import { quantizableLinears } from './onnx/quantize.js';
import type { Checkpoint } from './weights.js';

/** Storage figures of a set of tensors. Byte counts have no container overhead (no file header, names or alignment). */
export interface StorageFigures {
  /** Weights counted. */
  readonly parameters: number;
  /** Exact zeros among them (fp32). */
  readonly zeros: number;
  /** zeros / parameters. */
  readonly sparsity: number;
  /** Zeros after INT8 quantization: a weight rounding to q = 0 is stored as zero too. */
  readonly int8Zeros: number;
  /** Every weight as fp32: 4 bytes each. */
  readonly denseFp32Bytes: number;
  /** The quantizable linears as int8 (1 byte each) plus a 4-byte scale per output feature; the rest fp32. */
  readonly denseInt8Bytes: number;
  /** The quantizable linears as a bitmask (1 bit per weight, rounded up to bytes per tensor) plus fp32 nonzeros; the rest dense fp32. */
  readonly sparseFp32Bytes: number;
  /** As `sparseFp32Bytes` with int8 nonzeros (1 byte) plus the scales. */
  readonly sparseInt8Bytes: number;
}

/** `weightStorage`'s answer: the quantizable linears alone, and the whole checkpoint. */
export interface WeightStorage {
  /** The weight matrices of `quantizableLinears` (not their biases). */
  readonly quantizable: StorageFigures;
  /** Every tensor of the checkpoint; embeddings, biases, norms and heads are counted dense fp32 in every format. */
  readonly checkpoint: StorageFigures;
}

interface Totals {
  parameters: number;
  zeros: number;
  int8Zeros: number;
  denseFp32Bytes: number;
  denseInt8Bytes: number;
  sparseFp32Bytes: number;
  sparseInt8Bytes: number;
}

const emptyTotals = (): Totals => ({
  parameters: 0,
  zeros: 0,
  int8Zeros: 0,
  denseFp32Bytes: 0,
  denseInt8Bytes: 0,
  sparseFp32Bytes: 0,
  sparseInt8Bytes: 0,
});

function countZeros(values: ArrayLike<number>): number {
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return zeros;
}

function figures(t: Totals): StorageFigures {
  return { ...t, sparsity: t.parameters === 0 ? 0 : t.zeros / t.parameters };
}

/**
 * Parameters, zeros and bytes of the checkpoint's weights: dense fp32, dense INT8 (as the INT8 ONNX
 * export stores them), and in a sparse format with fp32 or int8 values. The INT8 weights are `int8`'s
 * where given, else round-to-nearest per output channel, exactly as the export quantizes them.
 *
 * @throws OnnxExportError when a given INT8 weight does not fit its linear.
 */
export function weightStorage(checkpoint: Checkpoint, int8: ReadonlyMap<string, Int8Weight> = new Map()): WeightStorage {
  const what = `weightStorage (${checkpoint.config.modelType})`;
  const quantizable = emptyTotals();
  const rest = emptyTotals();
  const linears = new Map(quantizableLinears(checkpoint.config).map((l) => [l.weight, l]));
  for (const [name, tensor] of checkpoint.weights) {
    const n = tensor.data.length;
    const zeros = countZeros(tensor.data);
    const linear = linears.get(name);
    if (linear === undefined) {
      rest.parameters += n;
      rest.zeros += zeros;
      rest.int8Zeros += zeros;
      const bytes = 4 * n;
      rest.denseFp32Bytes += bytes;
      rest.denseInt8Bytes += bytes;
      rest.sparseFp32Bytes += bytes;
      rest.sparseInt8Bytes += bytes;
      continue;
    }
    const { q, scales } = int8WeightOf(name, tensor, linear.layout, int8, what);
    const qZeros = countZeros(q);
    const mask = Math.ceil(n / 8);
    const scaleBytes = 4 * scales.length;
    quantizable.parameters += n;
    quantizable.zeros += zeros;
    quantizable.int8Zeros += qZeros;
    quantizable.denseFp32Bytes += 4 * n;
    quantizable.denseInt8Bytes += n + scaleBytes;
    quantizable.sparseFp32Bytes += mask + 4 * (n - zeros);
    quantizable.sparseInt8Bytes += mask + (n - qZeros) + scaleBytes;
  }
  const all = emptyTotals();
  for (const key of Object.keys(all) as (keyof Totals)[]) all[key] = quantizable[key] + rest[key];
  return { quantizable: figures(quantizable), checkpoint: figures(all) };
}
