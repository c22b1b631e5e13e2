// Quantization-aware fine-tuning (the paper's QAT step of compound compression; guide:
// apps/docs/guide/distillation.md): the student's linear layers run on their INT8 grid values inside the
// ordinary distillation loop, so training sees the error quantization causes and can compensate for it.
//
// Weights are fake-quantized symmetric INT8 per output channel, scale = max|w| / 127 of the current weights
// (recomputed at every forward pass), integers in [−127, 127]: @ziplm/models' INT8 grid (`int8WeightScale`,
// `roundToInt8`, the same the INT8 export rounds with, and the arithmetic of @ziplm/hessian's `quantizeRtn`), so
// the round-to-nearest the pipeline applies to the trained weights gives exactly the values training multiplied by.
// The gradient is the straight-through estimator: the forward pass uses q·s, the backward pass hands the
// gradient with respect to q·s to the latent float32 weight unchanged (Bengio et al. 2013; what PyTorch's
// FakeQuantize does inside its range).
//
// Activations (optional) are fake-quantized like onnxruntime's DynamicQuantizeLinear, the dynamic INT8 export's
// activation path: asymmetric uint8 per tensor, the range [min(0, min x), max(0, max x)] of the tensor itself,
// zero point and values rounded half to even.
//
// Sparsity masks keep pruned weights at exactly 0: the student starts from the masked weights and its linears
// multiply by w ⊙ mask, whose gradient is 0 wherever the mask is, so AdamW's moments and updates stay 0 there.
//
// All of it goes through @ziplm/models' `LinearTransform` hook of the forward pass; the loss code is unchanged.

import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint, LinearTransform, ModelConfig, Tensor32, WeightMap } from '@ziplm/models';
import { expectedShapes, int8WeightScale, roundToInt8 } from '@ziplm/models';
import { TrainingConfigError } from './errors.js';
import type { ForwardModel, TrainerForwardOptions } from './model.js';

/** The largest value of the uint8 activation grid. */
const UINT8_MAX = 255;

/** Quantization-aware fine-tuning: which linears run on their INT8 grid. */
export interface QatOptions {
  /**
   * Checkpoint names of the linear weights to fake-quantize (e.g. `quantizableLinears` of @ziplm/models: the ones the
   * INT8 export quantizes). Each must be the weight of a linear layer of the model.
   */
  readonly weights: readonly string[];
  /**
   * Also fake-quantize the inputs of those linears: asymmetric uint8 per tensor from its own min/max, like
   * onnxruntime's DynamicQuantizeLinear (the dynamic INT8 export). Default false (weights only).
   */
  readonly activations?: boolean;
}

/**
 * Fixed sparsity masks by checkpoint weight name: 1 keeps a weight, 0 holds it at exactly 0. Each mask has the
 * weight's layout and length (Hugging Face layout: BERT [out, in], GPT2 [in, out]); only linear weights can be masked.
 */
export type WeightMasks = ReadonlyMap<string, Uint8Array>;

/** A weight on its INT8 grid. */
export interface FakeQuantizedWeight {
  /** q · scale, in the weight's layout (float32, as the forward pass multiplies by it). */
  readonly values: Float32Array;
  /** One scale per output channel: max|w| / 127 (1 for a channel of zeros, so 0 stays 0). */
  readonly scales: Float32Array;
}

/** The axis of the output channels of a linear weight in its checkpoint layout: 0 for BERT's and LLaMA's nn.Linear [out, in], 1 for GPT2's Conv1D [in, out]. */
export function outputChannelAxis(config: ModelConfig): 0 | 1 {
  return config.modelType === 'gpt2' ? 1 : 0;
}

/**
 * Symmetric INT8 per output channel, round to nearest: q = clamp(round(w / s), −127, 127) with s = max|w| / 127 of
 * the channel, value q · s: @ziplm/models' INT8 grid, as the INT8 export and @ziplm/hessian's `quantizeRtn` round.
 */
export function fakeQuantizeInt8(weight: Tensor32, outputAxis: 0 | 1): FakeQuantizedWeight {
  if (weight.shape.length !== 2) throw new RangeError(`fakeQuantizeInt8: expected a 2-D weight, got shape [${weight.shape.join(', ')}]`);
  const [rows, cols] = weight.shape as [number, number];
  const w = weight.data;
  const channels = outputAxis === 0 ? rows : cols;
  // Element (r, c) belongs to channel r (axis 0) or c (axis 1).
  const channelOf = outputAxis === 0 ? (r: number, _c: number) => r : (_r: number, c: number) => c;
  const maxAbs = new Float64Array(channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const k = channelOf(r, c);
      maxAbs[k] = Math.max(maxAbs[k]!, Math.abs(w[r * cols + c]!));
    }
  }
  const scales = new Float32Array(channels);
  for (let k = 0; k < channels; k++) scales[k] = int8WeightScale(maxAbs[k]!);
  const values = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const scale = scales[channelOf(r, c)]!;
      values[r * cols + c] = roundToInt8(w[r * cols + c]!, scale) * scale;
    }
  }
  return { values, scales };
}

/** The linear weights of a config (a 2-D `X.weight` next to an `X.bias`), with their checkpoint shapes. */
function linearWeights(config: ModelConfig): Map<string, number[]> {
  const shapes = expectedShapes(config);
  const out = new Map<string, number[]>();
  for (const [name, shape] of shapes) {
    if (shape.length === 2 && name.endsWith('.weight') && shapes.has(`${name.slice(0, -'.weight'.length)}.bias`)) out.set(name, shape);
  }
  return out;
}

function checkQat(config: ModelConfig, qat: QatOptions): Set<string> {
  const linears = linearWeights(config);
  for (const name of qat.weights) {
    if (!linears.has(name))
      throw new TrainingConfigError('qat', `names "${name}", which is not the weight of a linear layer of this model`);
  }
  return new Set(qat.weights);
}

function checkMasks(config: ModelConfig, masks: WeightMasks): void {
  const linears = linearWeights(config);
  for (const [name, mask] of masks) {
    const shape = linears.get(name);
    if (shape === undefined)
      throw new TrainingConfigError('masks', `names "${name}", which is not the weight of a linear layer of this model`);
    if (mask.length !== shape[0]! * shape[1]!) {
      throw new TrainingConfigError(
        'masks',
        `"${name}" has ${mask.length} entries, its weight [${shape.join(', ')}] ${shape[0]! * shape[1]!}`,
      );
    }
    for (let i = 0; i < mask.length; i++) {
      if (mask[i]! > 1) throw new TrainingConfigError('masks', `"${name}" holds ${mask[i]} at ${i}: a mask holds 1 (keep) or 0 (pruned)`);
    }
  }
}

/** The checkpoint with every masked weight's pruned entries set to 0 (new arrays for those, the others shared). */
export function applyMasks(checkpoint: Checkpoint, masks: WeightMasks): Checkpoint {
  checkMasks(checkpoint.config, masks);
  const weights: WeightMap = new Map();
  for (const [name, t] of checkpoint.weights) {
    const mask = masks.get(name);
    weights.set(name, mask ? { shape: t.shape, data: t.data.map((v, i) => (mask[i] === 1 ? v : 0)) } : t);
  }
  return { config: checkpoint.config, weights };
}

/**
 * The checkpoint whose `qat.weights` hold their INT8 grid values q · s (see {@link fakeQuantizeInt8}): the weights
 * a QAT forward pass multiplies by, and what round-to-nearest makes of them. The other weights are shared.
 */
export function fakeQuantizedCheckpoint(checkpoint: Checkpoint, qat: Pick<QatOptions, 'weights'>): Checkpoint {
  const quantized = checkQat(checkpoint.config, { weights: qat.weights });
  const axis = outputChannelAxis(checkpoint.config);
  const weights: WeightMap = new Map();
  for (const [name, t] of checkpoint.weights) {
    weights.set(name, quantized.has(name) ? { shape: t.shape, data: fakeQuantizeInt8(t, axis).values } : t);
  }
  return { config: checkpoint.config, weights };
}

/**
 * INT8 fake quantization of a kernel [in, out] (output channels = columns) with the straight-through gradient.
 * The grid values are computed on the host with {@link fakeQuantizeInt8}'s double-precision arithmetic, so they
 * are bit for bit what round-to-nearest of the checkpoint gives (float32 tensor ops round w / s differently
 * when the quotient lies within a float32 step of a half-integer).
 */
const fakeQuantizeKernel = tf.customGrad((kernel) => {
  const k = kernel as tf.Tensor2D;
  const { values } = fakeQuantizeInt8({ shape: k.shape, data: k.dataSync() as Float32Array }, 1);
  return { value: tf.tensor2d(values, k.shape, 'float32'), gradFunc: (dy: tf.Tensor) => dy };
});

/**
 * Asymmetric uint8 fake quantization of a tensor from its own range, onnxruntime's DynamicQuantizeLinear and the
 * dequantization MatMulInteger's output scaling implies: scale = (max(0, max x) − min(0, min x)) / 255
 * (1 when that range is empty), zero point = round(clamp(−min / scale, 0, 255)), value = (clamp(round(x / scale)
 * + zp, 0, 255) − zp) · scale, rounding half to even. Straight-through gradient (the range holds every element,
 * so nothing is clipped).
 */
const fakeQuantizeActivations = tf.customGrad((input) => {
  const x = input as tf.Tensor2D;
  const [lo, hi] = tf.tidy(() => [tf.minimum(tf.min(x), 0).dataSync()[0]!, tf.maximum(tf.max(x), 0).dataSync()[0]!]) as [number, number];
  const scale = hi === lo ? 1 : Math.fround(Math.fround(hi - lo) / UINT8_MAX);
  const zeroPoint = roundHalfToEven(Math.min(UINT8_MAX, Math.max(0, Math.fround(0 - Math.fround(lo / scale)))));
  const value = tf.tidy(() =>
    tf.mul(tf.sub(tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zeroPoint), 0, UINT8_MAX), zeroPoint), scale),
  ) as tf.Tensor2D;
  return { value, gradFunc: (dy: tf.Tensor) => dy };
});

function roundHalfToEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** What {@link linearRewrites} applies. */
export interface LinearRewriteOptions {
  readonly qat?: QatOptions;
  readonly masks?: WeightMasks;
}

/** @internal Throws TrainingConfigError when a QAT weight or a mask does not fit a linear weight of `config`. */
export function checkLinearRewrites(config: ModelConfig, options: LinearRewriteOptions): void {
  if (options.qat) checkQat(config, options.qat);
  if (options.masks) checkMasks(config, options.masks);
}

/** The linear rewrites of one training run and the tensors they own. */
export interface LinearRewrites {
  /** The forward pass's hook (undefined when neither QAT nor masks are asked for). */
  readonly transform: LinearTransform | undefined;
  /** Frees the mask tensors. */
  dispose(): void;
}

/**
 * @internal The `LinearTransform` of quantization-aware and/or sparse fine-tuning for a model of `config`:
 * kernels masked, then fake-quantized; inputs of the quantized linears fake-quantized when asked.
 * Validates the names and masks (TrainingConfigError).
 */
export function linearRewrites(config: ModelConfig, options: LinearRewriteOptions): LinearRewrites {
  const { qat, masks } = options;
  checkLinearRewrites(config, options);
  const quantized = new Set(qat?.weights ?? []);
  if (quantized.size === 0 && (masks === undefined || masks.size === 0)) return { transform: undefined, dispose: () => {} };
  // Masks come in the checkpoint layout; kernels are [in, out], the transpose of BERT's [out, in].
  const transposed = outputChannelAxis(config) === 0;
  const linears = linearWeights(config);
  const maskTensors = new Map<string, tf.Tensor2D>();
  for (const [name, mask] of masks ?? []) {
    const [rows, cols] = linears.get(name)! as [number, number];
    const kernelMask = new Float32Array(mask.length);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) kernelMask[transposed ? c * rows + r : r * cols + c] = mask[r * cols + c]!;
    }
    maskTensors.set(name, tf.tensor2d(kernelMask, transposed ? [cols, rows] : [rows, cols], 'float32'));
  }
  const quantizeInputs = qat?.activations === true;
  const transform: LinearTransform = {
    kernel: (kernel, name) => {
      const mask = maskTensors.get(name);
      const kept: tf.Tensor2D = mask ? tf.mul(kernel, mask) : kernel;
      return quantized.has(name) ? (fakeQuantizeKernel(kept) as tf.Tensor2D) : kept;
    },
    ...(quantizeInputs
      ? { input: (x: tf.Tensor2D, name: string) => (quantized.has(name) ? (fakeQuantizeActivations(x) as tf.Tensor2D) : x) }
      : {}),
  };
  return { transform, dispose: () => tf.dispose([...maskTensors.values()]) };
}

/**
 * A model that runs `model` with its `qat.weights` (and, with `activations`, their inputs) fake-quantized: the
 * INT8 model QAT trains, for evaluation (e.g. a `fineTune` result, whose weights are the latent float32 ones).
 * Owns nothing; `model` must support the `linear` forward option (@ziplm/models' BertModel and Gpt2Model do).
 */
export function fakeQuantizedModel(model: ForwardModel, qat: QatOptions): ForwardModel {
  const { transform } = linearRewrites(model.config, { qat });
  return withLinearTransform(model, transform);
}

/** @internal `model` with `transform` added to every forward pass (the model itself when there is none). */
export function withLinearTransform(model: ForwardModel, transform: LinearTransform | undefined): ForwardModel {
  if (transform === undefined) return model;
  return {
    config: model.config,
    forward: (inputs, options?: TrainerForwardOptions) => model.forward(inputs, { ...options, linear: transform }),
  };
}
