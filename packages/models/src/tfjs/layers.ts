// Building blocks shared by the BERT and GPT2 TensorFlow.js models. Activations are 2-D
// [batch·seq, features] for every dense layer (one GEMM per layer, no per-batch loop) and kernels
// are stored [in, out], so y = x·W + b never needs a transposed matMul (which the wasm backend
// runs ~10x slower; toolchain.md).

import * as tf from '@tensorflow/tfjs-core';
import { transposed as transposedCopy } from '@ziplm/core';
import { ModelsError } from '../errors.js';
import type { Tensor32 } from '../weights.js';

/**
 * Additive attention-mask value for masked keys. Large enough that exp(score + MASK) underflows to
 * exactly 0 in float32 for any realistic score, small enough that a causal and a padding mask can
 * be added without reaching -Infinity (so a row whose keys are all masked yields a uniform
 * softmax, as in Hugging Face's finfo.min masking, never NaN). The ONNX export uses the same value.
 */
export const ATTENTION_MASK_NEGATIVE = -1e9;

/** A linear layer: kernel [in, out], bias [out]. */
export interface DenseParams {
  /** Checkpoint name of the weight (`….weight`, Hugging Face layout), what a {@link LinearTransform} is told. */
  readonly weightName: string;
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

/**
 * Rewrites what the linear layers of one forward pass multiply, inside the gradient tape: quantization-aware
 * training fake-quantizes the kernels and their inputs through it, sparse fine-tuning masks the kernels. Each
 * function is called once per linear layer (encoder/decoder layers and task heads alike) with the layer's
 * checkpoint weight name, and returns the tensor to use (or its argument unchanged).
 */
export interface LinearTransform {
  /** The kernel to multiply by, from the stored one: both [in, out], so the output channels are the columns. */
  readonly kernel?: (kernel: tf.Tensor2D, weightName: string) => tf.Tensor2D;
  /** The input to multiply, [rows, in], from the layer's actual input. */
  readonly input?: (x: tf.Tensor2D, weightName: string) => tf.Tensor2D;
}

/** A LayerNorm: gamma and beta [features]. */
export interface NormParams {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
}

/** y = x·W + b for x [rows, in]; with a `transform`, its input and kernel replace x and W. */
export function dense(x: tf.Tensor2D, p: DenseParams, transform?: LinearTransform): tf.Tensor2D {
  if (transform === undefined) return tf.add(tf.matMul(x, p.kernel as tf.Tensor2D), p.bias);
  const input = transform.input ? transform.input(x, p.weightName) : x;
  const kernel = transform.kernel ? transform.kernel(p.kernel as tf.Tensor2D, p.weightName) : (p.kernel as tf.Tensor2D);
  return tf.add(tf.matMul(input, kernel), p.bias);
}

/** LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · gamma + beta (biased variance, as PyTorch). */
export function layerNorm<T extends tf.Tensor>(x: T, p: NormParams, eps: number): T {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), p.gamma), p.beta) as T;
}

/** Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (BERT's `gelu`). */
export function geluErf<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T;
}

/** tanh GELU, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GPT2's `gelu_new`). */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1)) as T;
}

/** Dropout that is active only in training; seeds come from the forward pass's `DropoutStream`. */
export class DropoutStream {
  private next: number;
  constructor(
    readonly training: boolean,
    seed: number | undefined,
  ) {
    // Without a seed, each forward draws fresh masks (Math.random picks the base seed).
    this.next = seed ?? Math.floor(Math.random() * 2 ** 31);
  }
  apply<T extends tf.Tensor>(x: T, rate: number): T {
    if (!this.training || rate <= 0) return x;
    // Every dropout site gets its own seed so that two sites never share a mask.
    return tf.dropout(x, rate, undefined, this.next++) as T;
  }
}

/** Options of `multiHeadAttention`. */
export interface AttentionOptions {
  /** What QKᵀ is divided by before the softmax (default sqrt(headDim); GPT2 configs may differ, see `gpt2AttentionScoreDivisor`). */
  scoreDivisor?: number;
}

/**
 * Multi-head scaled dot-product attention on projected Q, K, V.
 * @param q,k,v [batch·seq, heads·headDim]
 * @param mask additive mask broadcastable to [batch, heads, seq, seq] (0 = attend)
 * @returns the merged head outputs [batch·seq, heads·headDim]
 */
export function multiHeadAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  batch: number,
  seq: number,
  heads: number,
  headDim: number,
  mask: tf.Tensor | undefined,
  attentionDropout: number,
  dropout: DropoutStream,
  options: AttentionOptions = {},
): tf.Tensor2D {
  const scoreDivisor = options.scoreDivisor ?? Math.sqrt(headDim);
  // Scaling Q instead of the scores costs seq·dim instead of heads·seq² multiplications.
  const qh = tf.transpose(tf.reshape(tf.mul(q, 1 / scoreDivisor), [batch, seq, heads, headDim]), [0, 2, 1, 3]);
  // K goes straight to [batch, heads, headDim, seq] so QKᵀ is a plain (untransposed) batched matMul.
  const kt = tf.transpose(tf.reshape(k, [batch, seq, heads, headDim]), [0, 2, 3, 1]);
  const vh = tf.transpose(tf.reshape(v, [batch, seq, heads, headDim]), [0, 2, 1, 3]);
  let scores = tf.matMul(qh as tf.Tensor4D, kt as tf.Tensor4D);
  if (mask) scores = tf.add(scores, mask);
  const probs = dropout.apply(tf.softmax(scores), attentionDropout);
  const context = tf.matMul(probs, vh as tf.Tensor4D);
  return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch * seq, heads * headDim]);
}

/** Additive padding mask [batch, 1, 1, seq] from a 0/1 attention mask [batch, seq]. */
export function paddingMask(attentionMask: tf.Tensor2D): tf.Tensor4D {
  const [batch, seq] = attentionMask.shape;
  return tf.reshape(tf.mul(tf.sub(1, tf.cast(attentionMask, 'float32')), ATTENTION_MASK_NEGATIVE), [batch, 1, 1, seq]);
}

/** Additive causal mask [1, 1, seq, seq]: key j is masked for query i when j > i. */
export function causalMask(seq: number): tf.Tensor4D {
  const lower = tf.linalg.bandPart(tf.ones([seq, seq]), -1, 0);
  return tf.reshape(tf.mul(tf.sub(1, lower), ATTENTION_MASK_NEGATIVE), [1, 1, seq, seq]);
}

/** Model inputs. All int32 [batch, seq]. */
export interface ModelInputs {
  /** Token ids. */
  inputIds: tf.Tensor2D;
  /** 1 = real token, 0 = padding (default: all ones). */
  attentionMask?: tf.Tensor2D;
  /** BERT segment ids, 0 or 1 (default: all zeros). Ignored by models without token types (DistilBERT, GPT2, LLaMA). */
  tokenTypeIds?: tf.Tensor2D;
}

/**
 * What a forward pass returns. The caller owns (and must dispose) every tensor. A type alias (not
 * an interface) so that it is a tf.TensorContainer: `tf.dispose(outputs)` and returning it from
 * `tf.tidy` work.
 */
export type ModelOutputs = {
  /** BERT classification [batch, labels]; span-QA [batch, seq, 2] (start, end); no head: last hidden state; GPT2 [batch, seq, vocab]. */
  logits: tf.Tensor;
  /** numLayers + 1 states [batch, seq, hidden]: the embedding output, then every layer's output. */
  hiddenStates: tf.Tensor3D[];
};

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Enables dropout (default false). */
  training?: boolean;
  /** Seed of the dropout masks; the same seed gives the same masks. */
  seed?: number;
  /** Rewrites the inputs and kernels of the linear layers (default: none, the stored weights as they are). */
  linear?: LinearTransform;
}

/**
 * Checks input shapes, dtypes and id ranges so that bad input fails here with a clear message
 * instead of deep inside a kernel (an out-of-range gather id reads arbitrary memory on wasm).
 */
export function checkInputs(
  inputs: ModelInputs,
  vocabSize: number,
  maxPositions: number,
  typeVocabSize?: number,
): { batch: number; seq: number } {
  const { inputIds, attentionMask, tokenTypeIds } = inputs;
  if (inputIds?.rank !== 2) throw new ModelsError(`forward: inputIds must be a 2-D [batch, seq] tensor, got rank ${inputIds?.rank}`);
  if (inputIds.dtype !== 'int32') throw new ModelsError(`forward: inputIds must be int32, got ${inputIds.dtype}`);
  const [batch, seq] = inputIds.shape;
  if (batch < 1 || seq < 1) throw new ModelsError(`forward: empty input [${batch}, ${seq}]`);
  if (seq > maxPositions) throw new ModelsError(`forward: sequence length ${seq} exceeds the model's ${maxPositions} positions`);
  for (const [name, t] of [
    ['attentionMask', attentionMask],
    ['tokenTypeIds', tokenTypeIds],
  ] as const) {
    if (t === undefined) continue;
    if (t.rank !== 2 || t.shape[0] !== batch || t.shape[1] !== seq) {
      throw new ModelsError(`forward: ${name} must have the shape of inputIds [${batch}, ${seq}], got [${t.shape.join(', ')}]`);
    }
    if (t.dtype !== 'int32') throw new ModelsError(`forward: ${name} must be int32, got ${t.dtype}`);
  }
  checkRange(inputIds, 'inputIds', vocabSize);
  if (tokenTypeIds && typeVocabSize !== undefined) checkRange(tokenTypeIds, 'tokenTypeIds', typeVocabSize);
  return { batch, seq };
}

function checkRange(t: tf.Tensor, name: string, limit: number): void {
  const ids = t.dataSync();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= limit) throw new ModelsError(`forward: ${name} contains ${id}, outside [0, ${limit})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Variables ↔ Hugging Face tensors
// ---------------------------------------------------------------------------------------------

/** A tfjs variable holding one Hugging Face tensor, possibly transposed ([out, in] → [in, out]). */
export interface StoredVariable {
  readonly name: string;
  readonly variable: tf.Variable;
  /** True when the variable holds the transpose of the HF tensor. */
  readonly transposed: boolean;
}

let modelCounter = 0;

/** Creates variables for a model; every variable name is unique per model instance. */
export class VariableStore {
  readonly entries: StoredVariable[] = [];
  private readonly prefix = `ziplm${++modelCounter}`;

  /** Copies `t` into a new trainable variable, transposing a 2-D HF [out, in] weight when asked. */
  add(name: string, t: Tensor32, transposed = false): tf.Variable {
    const init = transposed
      ? tf.tensor2d(transposedCopy(t.data, t.shape[0]!, t.shape[1]!), [t.shape[1]!, t.shape[0]!])
      : tf.tensor(t.data, [...t.shape], 'float32');
    const variable = tf.variable(init, true, `${this.prefix}/${name}`);
    init.dispose();
    this.entries.push({ name, variable, transposed });
    return variable;
  }

  /** Reads every variable back as HF-layout tensors. */
  toWeights(): Map<string, Tensor32> {
    const out = new Map<string, Tensor32>();
    for (const { name, variable, transposed } of this.entries) {
      const data = variable.dataSync() as Float32Array;
      if (transposed) {
        const [rows, cols] = variable.shape as [number, number];
        out.set(name, { shape: [cols, rows], data: transposedCopy(data, rows, cols) });
      } else {
        out.set(name, { shape: [...variable.shape], data: Float32Array.from(data) });
      }
    }
    return out;
  }

  variables(): tf.Variable[] {
    return this.entries.map((e) => e.variable);
  }

  dispose(): void {
    for (const e of this.entries) e.variable.dispose();
  }
}
