// Compound compression of a member (docs site guide: apps/docs/guide/compound-compression.md): on top
// of the structurally pruned (and fine-tuned) model, unstructured OBS sparsity (SparseGPT) and OBS
// INT8 weight quantization (GPTQ), each linear layer on its own input Hessian H = 2XXᵀ/n, then an
// INT8 ONNX graph (weights INT8 per output channel, activations quantized dynamically or from
// calibrated ranges). Optionally, quantization-aware fine-tuning (fake-quantized weights, straight-through
// gradients) with the run's distillation from the dense teacher, then the final rounding.
//
// One calibration pass over the FP32 member gives every quantized linear's Hessian and its input's
// range. GPTQ's reference quantizes the layers in sequence, each on the inputs the already-quantized
// layers before it produce; we take every input from the FP32 member, so all layers are quantized from
// one pass (the guide says where this differs and what it costs).

import { gzipSync } from 'node:zlib';
import {
  conv1dToLinear,
  linearToConv1d,
  outputError,
  quantizeGptq,
  quantizeRtn,
  sparsifyObs,
  type MatMulEngine,
  type QuantizedLayer,
} from '@ziplm/hessian';
import { exportOptionsFor, type InferenceEnvironment } from '@ziplm/latency';
import {
  exportModelToOnnx,
  isDecoder,
  quantizableLinears,
  transformersJsExportOptions,
  weightStorage,
  type ActivationRange,
  type Checkpoint,
  type Int8Weight,
  type ModelExportOptions,
  type OrtTensorFactory,
  type QuantizableLinear,
  type WeightMap,
} from '@ziplm/models';
import { loadOrt } from '@ziplm/onnx/runtime';
import type { RunContext } from '../context.js';
import type { CompoundResult } from '../results.js';
import { collectInputStatistics } from './calibrate.js';
import { scoreMember } from './score.js';
import type { Scores, TaskItem } from '../tasks/index.js';

/** Statistics of one quantized linear's input over the calibration set. */
export interface LinearInputStatistics {
  /** cols × cols, H = (2/n)·Σ x·xᵀ over the non-padding tokens. */
  readonly hessian: Float64Array;
  readonly range: ActivationRange;
}

/**
 * Runs `items` through the FP32 model once and returns, for every distinct input of a quantized
 * linear (`quantizableLinears`), its Hessian and its range (padding tokens excluded from both).
 */
export async function collectLinearStatistics(
  checkpoint: Checkpoint,
  items: readonly TaskItem[],
  padId: number,
  ort: OrtTensorFactory,
  engine: MatMulEngine,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, LinearInputStatistics>> {
  const inputs = new Map(quantizableLinears(checkpoint.config).map((linear) => [linear.input, linear.cols]));
  const onnx = exportModelToOnnx(checkpoint, { matmulInputs: true });
  const collected = await collectInputStatistics(onnx, checkpoint.config, inputs, items, padId, ort, {
    engine,
    ranges: true,
    ...(onProgress ? { onProgress } : {}),
  });
  return new Map([...collected].map(([name, { statistics, range }]) => [name, { hessian: statistics.hessian, range: range! }]));
}

/** One way of quantizing a member: its weights as the FP32 checkpoint holds them (q · scale) and as INT8. */
export interface QuantizedMember {
  /** The member with every quantized linear's weights replaced by q · scale (sparse zeros included): loads anywhere as FP32. */
  readonly checkpoint: Checkpoint;
  /** The INT8 weights by checkpoint weight name, for the INT8 export. */
  readonly int8: ReadonlyMap<string, Int8Weight>;
  /** Σ over the quantized linears of tr(ΔW H ΔWᵀ) against the weights before quantization (after sparsity); absent when not computed. */
  readonly error?: number;
}

/** A linear layer's weights as rows = output features × cols = input features, whatever the checkpoint's layout. */
function outByIn(linear: QuantizableLinear, data: Float32Array): Float32Array {
  return linear.layout === 'out-in' ? data : conv1dToLinear(data, linear.cols, linear.rows);
}

/** Back into the checkpoint's layout. */
function checkpointLayout(linear: QuantizableLinear, data: Float32Array): Float32Array {
  return linear.layout === 'out-in' ? data : linearToConv1d(data, linear.rows, linear.cols);
}

/** `checkpoint` with some weights replaced (out × in values, written in each weight's own layout). */
function withWeights(checkpoint: Checkpoint, replaced: ReadonlyMap<QuantizableLinear, Float32Array>): Checkpoint {
  const weights: WeightMap = new Map(checkpoint.weights);
  for (const [linear, values] of replaced) {
    const tensor = checkpoint.weights.get(linear.weight)!;
    weights.set(linear.weight, { shape: [...tensor.shape], data: checkpointLayout(linear, values) });
  }
  return { config: checkpoint.config, weights };
}

/** What sparsifying a member's quantized linears gave. */
export interface SparseMember {
  readonly checkpoint: Checkpoint;
  /** 1 = kept, in each weight's checkpoint layout, by weight name (for fine-tuning that must keep the zeros). */
  readonly masks: ReadonlyMap<string, Uint8Array>;
  /** The same masks out × in (the layout GPTQ works in). */
  readonly outByInMasks: ReadonlyMap<string, Uint8Array>;
  /** Σ tr(ΔW H ΔWᵀ) of the sparsification. */
  readonly error: number;
}

/** SparseGPT on every quantized linear of `checkpoint` at `sparsity` (per output row). */
export async function sparsifyMember(
  checkpoint: Checkpoint,
  statistics: ReadonlyMap<string, LinearInputStatistics>,
  sparsity: number,
  engine: MatMulEngine,
): Promise<SparseMember> {
  const replaced = new Map<QuantizableLinear, Float32Array>();
  const masks = new Map<string, Uint8Array>();
  const outByInMasks = new Map<string, Uint8Array>();
  let error = 0;
  for (const linear of quantizableLinears(checkpoint.config)) {
    const w = outByIn(linear, checkpoint.weights.get(linear.weight)!.data);
    const sparse = await sparsifyObs(w, linear.rows, linear.cols, statistics.get(linear.input)!.hessian, { sparsity, engine });
    replaced.set(linear, sparse.weights);
    const mask = linear.layout === 'out-in' ? sparse.mask : maskToConv1d(sparse.mask, linear.rows, linear.cols);
    masks.set(linear.weight, mask);
    outByInMasks.set(linear.weight, sparse.mask);
    error += sparse.error;
  }
  return { checkpoint: withWeights(checkpoint, replaced), masks, outByInMasks, error };
}

function maskToConv1d(mask: Uint8Array, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = mask[r * cols + c]!;
  return out;
}

/**
 * Quantizes every quantized linear of `checkpoint` to INT8 per output channel, GPTQ or round-to-nearest.
 * `masks` (out × in, 1 = kept, by weight name: SparseGPT's) keep pruned weights at 0 and out of GPTQ's
 * scales; `error: false` skips the output error (the final rounding after QAT, whose error nobody reads).
 */
export async function quantizeMember(
  checkpoint: Checkpoint,
  statistics: ReadonlyMap<string, LinearInputStatistics>,
  method: 'gptq' | 'rtn',
  engine: MatMulEngine,
  options: { readonly masks?: ReadonlyMap<string, Uint8Array>; readonly error?: boolean } = {},
): Promise<QuantizedMember> {
  const replaced = new Map<QuantizableLinear, Float32Array>();
  const int8 = new Map<string, Int8Weight>();
  let error = 0;
  for (const linear of quantizableLinears(checkpoint.config)) {
    const w = outByIn(linear, checkpoint.weights.get(linear.weight)!.data);
    const { hessian } = statistics.get(linear.input)!;
    const mask = options.masks?.get(linear.weight);
    // RTN without the Hessian: its error is computed below through the engine, not in plain JS.
    const layer: QuantizedLayer =
      method === 'rtn'
        ? quantizeRtn(w, linear.rows, linear.cols)
        : await quantizeGptq(w, linear.rows, linear.cols, hessian, { engine, ...(mask ? { mask } : {}) });
    replaced.set(linear, layer.dequantized);
    int8.set(linear.weight, { q: layer.q, scales: layer.scales });
    if (options.error === false) continue;
    error += method === 'rtn' ? await outputError(w, layer.dequantized, linear.rows, linear.cols, hessian, engine) : layer.error;
  }
  return { checkpoint: withWeights(checkpoint, replaced), int8, ...(options.error === false ? {} : { error }) };
}

/**
 * The INT8 ONNX graph of a quantized member for `env` (an INT8 environment); `graph` overrides the graph's form
 * (e.g. the decoder-with-past graph of the transformers.js layout), the quantization stays `env`'s.
 */
export function int8Onnx(
  member: QuantizedMember,
  env: InferenceEnvironment,
  statistics: ReadonlyMap<string, LinearInputStatistics>,
  graph: ModelExportOptions = {},
): Uint8Array {
  const options = { ...exportOptionsFor(env), ...graph };
  const activations = options.quantize?.activations ?? 'dynamic';
  const ranges = new Map([...statistics].map(([name, s]) => [name, s.range]));
  return exportModelToOnnx(member.checkpoint, {
    ...options,
    quantize: { activations, weights: member.int8, ...(activations === 'static' ? { ranges } : {}) },
  });
}

/** How small a compound member's weights are (see `weightStorage` of @ziplm/models), and its graph gzipped. */
export function memberStorage(member: QuantizedMember, onnx: Uint8Array) {
  return { ...weightStorage(member.checkpoint, member.int8), onnxGzipBytes: gzipSync(onnx, { level: 9 }).length };
}

/** A compound member, ready to be written: what ships, and how each step scored. */
export interface CompoundMember {
  /** The shipped weights as an FP32 checkpoint (q · scale), which loads back anywhere. */
  readonly checkpoint: Checkpoint;
  /** The shipped INT8 graph. */
  readonly onnx: Uint8Array;
  /**
   * A decoder's shipped INT8 weights as the decoder-with-past graph transformers.js runs (its
   * onnx/model_quantized.onnx; `transformersJsExportOptions`). Absent for encoders, whose transformers.js
   * graph is the shipped one.
   */
  readonly transformersJsOnnx?: Uint8Array;
  /** The shipped graph's scores (undefined when the run does not evaluate). */
  readonly scores?: Scores;
  readonly result: CompoundResult;
}

/**
 * Quantization-aware fine-tuning of a quantized member (its weights on the INT8 grid), keeping the
 * sparse zeros of `masks`: returns the fine-tuned FP32 weights, which `compressMember` rounds to the grid.
 */
export type QuantizationAwareTraining = (start: QuantizedMember, masks: ReadonlyMap<string, Uint8Array> | undefined) => Promise<Checkpoint>;

/**
 * Compresses a structurally pruned FP32 member (scored `fp32Scores`) as `ctx.compound` says: one
 * calibration pass, SparseGPT when a sparsity is set, INT8 by RTN and by GPTQ (both scored, for the
 * report), quantization-aware fine-tuning when epochs are set (`qat`, given by the run that has the
 * training data), and the INT8 graph of the shipped weights.
 */
export async function compressMember(
  ctx: RunContext,
  member: Checkpoint,
  fp32Scores: Scores | undefined,
  label: string,
  qat?: QuantizationAwareTraining,
): Promise<CompoundMember> {
  const settings = ctx.compound!;
  const precision = ctx.env.precision!;
  ctx.emit({ kind: 'stage', stage: 'quantize', message: `${label}: calibrating the inputs of every linear layer for INT8` });
  const ort = await loadOrt();
  const statistics = await collectLinearStatistics(member, ctx.task.calibration, ctx.tokenizer.padId, ort, ctx.engine, (done, total) =>
    ctx.emit({ kind: 'progress', stage: `calibrate ${label}`, done, total }),
  );
  let base = member;
  let masks: ReadonlyMap<string, Uint8Array> | undefined;
  let outByInMasks: ReadonlyMap<string, Uint8Array> | undefined;
  let sparseError: number | undefined;
  let sparseScores: Scores | undefined;
  if (settings.sparsity > 0) {
    ctx.emit({ kind: 'stage', stage: 'quantize', message: `${label}: SparseGPT to ${(100 * settings.sparsity).toFixed(0)}% sparsity` });
    const sparse = await sparsifyMember(member, statistics, settings.sparsity, ctx.engine);
    base = sparse.checkpoint;
    masks = sparse.masks;
    outByInMasks = sparse.outByInMasks;
    sparseError = sparse.error;
    sparseScores = await scoreMember(ctx, base, `evaluate ${label} sparse`);
  }
  ctx.emit({ kind: 'stage', stage: 'quantize', message: `${label}: INT8 weights by round-to-nearest and by GPTQ` });
  const rtn = await quantizeMember(base, statistics, 'rtn', ctx.engine);
  const gptq = await quantizeMember(base, statistics, 'gptq', ctx.engine, outByInMasks ? { masks: outByInMasks } : {});
  const rtnOnnx = int8Onnx(rtn, ctx.env, statistics);
  const gptqOnnx = int8Onnx(gptq, ctx.env, statistics);
  const rtnScores = await scoreMember(ctx, rtnOnnx, `evaluate ${label} int8 rtn`);
  const gptqScores = await scoreMember(ctx, gptqOnnx, `evaluate ${label} int8 gptq`);
  let shipped: { kind: CompoundResult['shipped']; member: QuantizedMember; onnx: Uint8Array; scores?: Scores } =
    settings.method === 'rtn'
      ? { kind: 'rtn', member: rtn, onnx: rtnOnnx, ...(rtnScores ? { scores: rtnScores } : {}) }
      : { kind: 'gptq', member: gptq, onnx: gptqOnnx, ...(gptqScores ? { scores: gptqScores } : {}) };
  if (settings.qatEpochs > 0 && qat) {
    ctx.emit({ kind: 'stage', stage: 'quantize', message: `${label}: quantization-aware fine-tuning, ${settings.qatEpochs} epochs` });
    const trained = await qat(shipped.member, masks);
    // After QAT the weights are rounded to the grid the fake-quantized forward pass used (per-channel max |w| / 127).
    const final = await quantizeMember(trained, statistics, 'rtn', ctx.engine, { error: false });
    const onnx = int8Onnx(final, ctx.env, statistics);
    const scores = await scoreMember(ctx, onnx, `evaluate ${label} int8 qat`);
    shipped = { kind: 'qat', member: final, onnx, ...(scores ? { scores } : {}) };
  }
  const storage = memberStorage(shipped.member, shipped.onnx);
  const metric = (s: Scores | undefined) => s?.metric;
  const result: CompoundResult = {
    precision,
    shipped: shipped.kind,
    sparsity: storage.quantizable.sparsity,
    metrics: definedOnly({
      fp32: metric(fp32Scores),
      sparse: metric(sparseScores),
      rtn: metric(rtnScores),
      gptq: metric(gptqScores),
      qat: shipped.kind === 'qat' ? metric(shipped.scores) : undefined,
    }),
    errors: { ...(sparseError !== undefined ? { sparse: sparseError } : {}), rtn: rtn.error!, gptq: gptq.error! },
    weightBytes: {
      fp32: storage.quantizable.denseFp32Bytes,
      int8: storage.quantizable.denseInt8Bytes,
      sparseInt8: storage.quantizable.sparseInt8Bytes,
    },
    onnxGzipBytes: storage.onnxGzipBytes,
  };
  const transformersJsOnnx = isDecoder(member.config)
    ? int8Onnx(shipped.member, ctx.env, statistics, transformersJsExportOptions(member.config))
    : undefined;
  return {
    checkpoint: shipped.member.checkpoint,
    onnx: shipped.onnx,
    ...(transformersJsOnnx ? { transformersJsOnnx } : {}),
    ...(shipped.scores ? { scores: shipped.scores } : {}),
    result,
  };
}

function definedOnly<T extends Record<string, number | undefined>>(values: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: number };
}
