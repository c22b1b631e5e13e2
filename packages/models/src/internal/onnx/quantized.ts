// The quantizable linear of every exported graph, fp32 or INT8. The BERT and GPT2 builders call
// `projection` for each encoder/decoder projection (attention Q|K|V and output, FFN FC1 and FC2), and
// it emits the form the export asked for, so a whole model and a single block carry the same INT8
// subgraph (the latency table times blocks). Head projections stay fp32 (`linear`, see
// `quantizableLinears` for why).
//
// INT8 forms (weights int8 [in, out], symmetric, one scale per output feature):
// - dynamic, as onnxruntime's `quantize_dynamic` writes it: DynamicQuantizeLinear(x) → uint8 x_q,
//   x_scale, x_zp; MatMulInteger(x_q, W_q, x_zp) → int32; Cast to float; Mul by Mul(x_scale, w_scales);
//   bias Add. onnxruntime fuses MatMulInteger + Cast + Mul into MatMulIntegerToFloat and that with
//   DynamicQuantizeLinear into DynamicQuantizeMatMul (a test counts them).
// - static (QDQ): QuantizeLinear(x, s_x, zp_x) → DequantizeLinear → MatMul with the weight given as
//   DequantizeLinear(W_q, w_scales, axis 1, zero point 0), bias Add after. onnxruntime's QDQ
//   transformer turns the pair into MatMulIntegerToFloat (the MatMul's output is float, not
//   re-quantized, so QLinearMatMul does not apply).

import { transpose } from '@ziplm/core';
import type { GraphBuilder } from '@ziplm/onnx';
import { int8WeightScale, roundToInt8 } from '../../int8-grid.js';
import { OnnxExportError } from '../../onnx/errors.js';
import type { ActivationQuantization, ActivationRange, Int8Weight } from '../../onnx/int8-values.js';
import type { Initializers } from './initializers.js';
import { linear } from './modules.js';

/** How an export quantizes its projections. */
export interface Int8Plan {
  readonly activations: ActivationQuantization;
  /** Caller-supplied INT8 weights by checkpoint name; the others are quantized round-to-nearest. */
  readonly weights: ReadonlyMap<string, Int8Weight>;
  /** Static mode: the calibration range of the input named `input` (the export decides what a missing one does). */
  readonly range: (input: string) => ActivationRange;
}

/** What `projection` needs from a builder's context. */
export interface ProjectionContext {
  readonly g: GraphBuilder;
  readonly init: Initializers;
  /** Absent: the fp32 graph. */
  readonly int8?: Int8Plan;
  /** `matmulInputs`: receives each projection's input (the graph dedupes shared ones). */
  readonly captureMatmulInput?: (input: string, tensor: string, width: number) => void;
}

/** One quantizable projection: y = x·W + b. */
export interface Projection {
  /** Checkpoint weight names; several are concatenated along the output axis into one GEMM (BERT's Q|K|V). */
  readonly weights: readonly string[];
  /** How the checkpoint stores them. */
  readonly layout: 'out-in' | 'in-out';
  /** Base name of the concatenated weight when there are several, e.g. `….attention.self.qkv.weight`. */
  readonly fusedName?: string;
  /** The bias initializer; absent for a projection without bias (LLaMA's). */
  readonly bias?: string;
  /** Its input's name (`ONNX_NAMES.matmulInput`): the calibration output and the static range key. */
  readonly input: string;
}

/** y = x·W + b for one of the model's quantizable projections, fp32 or INT8 as the context says. */
export function projection(ctx: ProjectionContext, x: string, p: Projection): string {
  const { g, init, int8 } = ctx;
  const first = init.tensor(p.weights[0]!, 2);
  const inFeatures = p.layout === 'out-in' ? first.shape[1]! : first.shape[0]!;
  ctx.captureMatmulInput?.(p.input, x, inFeatures);
  if (int8 === undefined) {
    if (p.layout === 'in-out') return linear(g, x, init.asIs(p.weights[0]!), p.bias);
    const w = p.weights.length === 1 ? init.transposed(p.weights[0]!) : init.fusedTransposed(`${p.fusedName}_t`, p.weights);
    return linear(g, x, w, p.bias);
  }
  const w = int8Weight(g, init, int8, p);
  if (int8.activations === 'dynamic') {
    const [xq, xScale, xZeroPoint] = g.node('DynamicQuantizeLinear', [x], {}, { outputs: 3 }) as [string, string, string];
    const accumulated = g.op('MatMulInteger', [xq, w.q, xZeroPoint]);
    const scale = g.op('Mul', [xScale, w.scales]);
    const product = g.op('Mul', [g.op('Cast', [accumulated], { to: 1 }), scale]);
    return p.bias === undefined ? product : g.op('Add', [product, p.bias]);
  }
  const { scale, zeroPoint } = activationQuantization(int8.range(p.input), `activation range of "${p.input}"`, init.what);
  const s = g.scalar(scale);
  const zp = g.scalar(zeroPoint, 'uint8');
  const xDequantized = g.op('DequantizeLinear', [g.op('QuantizeLinear', [x, s, zp]), s, zp]);
  const wDequantized = g.op('DequantizeLinear', [w.q, w.scales, w.zeroPoint()], { axis: 1 });
  return linear(g, xDequantized, wDequantized, p.bias);
}

/** The uint8 activation grid of a calibration range, as onnxruntime's quantizer computes it. */
export interface ActivationQuantizationParameters {
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * Asymmetric uint8 quantization of the range [min, max] widened to include 0 (so that 0, e.g. padding,
 * is exact): scale = (max − min)/255, zero point = round(−min/scale). Scale and zero point are
 * rounded to what the graph stores (float32, uint8).
 */
export function activationQuantization(range: ActivationRange, label: string, what: string): ActivationQuantizationParameters {
  const { min, max } = range;
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max)
    throw new OnnxExportError(what, `${label} must be finite with min ≤ max, got [${min}, ${max}]`);
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  // A range of only 0 quantizes every value to the zero point whatever the scale; 1 keeps it valid.
  const scale = hi > lo ? Math.fround((hi - lo) / 255) : 1;
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/**
 * Round-to-nearest symmetric INT8 quantization of `w` (out × in row-major), one scale per output
 * feature: scale = max|w_row|/127 (float32), q = round(w/scale). An all-zero row gets scale 1 (its q is 0).
 */
export function quantizeRoundToNearest(w: Float32Array, rows: number, cols: number): Int8Weight {
  if (w.length !== rows * cols) throw new RangeError(`quantizeRoundToNearest: ${w.length} values are not ${rows}×${cols}`);
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let absMax = 0;
    for (let c = 0; c < cols; c++) absMax = Math.max(absMax, Math.abs(w[r * cols + c]!));
    const scale = int8WeightScale(absMax);
    scales[r] = scale;
    for (let c = 0; c < cols; c++) q[r * cols + c] = roundToInt8(w[r * cols + c]!, scale);
  }
  return { q, scales };
}

/** A checkpoint linear's weight as out × in float32, whatever its stored layout. */
export function outInWeight(data: Float32Array, shape: readonly number[], layout: 'out-in' | 'in-out'): Float32Array {
  if (layout === 'out-in') return data;
  const [inFeatures, outFeatures] = [shape[0]!, shape[1]!];
  return transpose(data, inFeatures, outFeatures, new Float32Array(data.length));
}

/** Checks a caller-supplied INT8 weight against the linear it is for (out × in = rows × cols). */
export function checkInt8Weight(name: string, weight: Int8Weight, rows: number, cols: number, what: string): void {
  if (!(weight.q instanceof Int8Array) || !(weight.scales instanceof Float32Array))
    throw new OnnxExportError(what, `INT8 weight "${name}": q must be an Int8Array and scales a Float32Array`);
  if (weight.q.length !== rows * cols)
    throw new OnnxExportError(
      what,
      `INT8 weight "${name}": q has ${weight.q.length} values, the ${rows}×${cols} (out × in) linear needs ${rows * cols}`,
    );
  if (weight.scales.length !== rows)
    throw new OnnxExportError(what, `INT8 weight "${name}": ${weight.scales.length} scales for ${rows} output features`);
  for (const s of weight.scales) {
    if (!Number.isFinite(s) || s < 0)
      throw new OnnxExportError(what, `INT8 weight "${name}": scale ${s} is not a finite non-negative number`);
  }
  // The grid is symmetric, [−127, 127]: −128 has no positive counterpart and is not a value any quantizer here writes.
  const outside = weight.q.indexOf(-128);
  if (outside >= 0) throw new OnnxExportError(what, `INT8 weight "${name}": q[${outside}] is −128, outside the symmetric grid [−127, 127]`);
}

/** The INT8 weights of a linear: the caller's, else round-to-nearest of the checkpoint tensor. */
export function int8WeightOf(
  name: string,
  tensor: { readonly shape: readonly number[]; readonly data: Float32Array },
  layout: 'out-in' | 'in-out',
  supplied: ReadonlyMap<string, Int8Weight>,
  what: string,
): Int8Weight & { readonly rows: number; readonly cols: number } {
  const [rows, cols] = layout === 'out-in' ? [tensor.shape[0]!, tensor.shape[1]!] : [tensor.shape[1]!, tensor.shape[0]!];
  const given = supplied.get(name);
  if (given !== undefined) {
    checkInt8Weight(name, given, rows, cols, what);
    return { q: given.q, scales: given.scales, rows, cols };
  }
  return { ...quantizeRoundToNearest(outInWeight(tensor.data, tensor.shape, layout), rows, cols), rows, cols };
}

/** A projection's INT8 weight in graph layout: [in, Σ out] and the per-output scales [Σ out]. */
interface PackedInt8 {
  readonly data: Int8Array;
  readonly scales: Float32Array;
  readonly inFeatures: number;
  readonly outFeatures: number;
}

/** The parts' out × in matrices transposed and concatenated along the output axis. */
function packInt8(init: Initializers, plan: Int8Plan, p: Projection): PackedInt8 {
  const parts = p.weights.map((name) => int8WeightOf(name, init.tensor(name, 2), p.layout, plan.weights, init.what));
  const inFeatures = parts[0]!.cols;
  for (const [i, part] of parts.entries()) {
    if (part.cols !== inFeatures)
      throw new OnnxExportError(init.what, `weight "${p.weights[i]}" has ${part.cols} inputs, "${p.weights[0]}" has ${inFeatures}`);
  }
  const outFeatures = parts.reduce((s, part) => s + part.rows, 0);
  const data = new Int8Array(inFeatures * outFeatures);
  const scales = new Float32Array(outFeatures);
  let offset = 0;
  for (const part of parts) {
    // Row r of the part (output feature offset + r) becomes column offset + r of the [in, Σ out] result.
    for (let r = 0; r < part.rows; r++) {
      for (let c = 0; c < inFeatures; c++) data[c * outFeatures + offset + r] = part.q[r * inFeatures + c]!;
    }
    scales.set(part.scales, offset);
    offset += part.rows;
  }
  return { data, scales, inFeatures, outFeatures };
}

/**
 * The projection's int8 weight (`<name>_int8`, [in, out]), its scales (`<name>_scale`) and, for QDQ,
 * an int8 zero point of zeros (`<name>_zero_point`), each added to the graph once.
 */
function int8Weight(
  g: GraphBuilder,
  init: Initializers,
  plan: Int8Plan,
  p: Projection,
): { q: string; scales: string; zeroPoint: () => string } {
  const base = p.weights.length === 1 ? p.weights[0]! : p.fusedName!;
  let packed: PackedInt8 | undefined;
  const pack = (): PackedInt8 => {
    packed ??= packInt8(init, plan, p);
    return packed;
  };
  const q = init.derived(`${base}_int8`, () => g.initializer(`${base}_int8`, 'int8', [pack().inFeatures, pack().outFeatures], pack().data));
  const scales = init.derived(`${base}_scale`, () => g.initializer(`${base}_scale`, 'float32', [pack().outFeatures], pack().scales));
  const zeroPoint = () =>
    init.derived(`${base}_zero_point`, () =>
      g.initializer(`${base}_zero_point`, 'int8', [pack().outFeatures], new Int8Array(pack().outFeatures)),
    );
  return { q, scales, zeroPoint };
}
