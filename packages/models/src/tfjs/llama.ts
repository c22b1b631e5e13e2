// LLaMA (Hugging Face LlamaForCausalLM) in TensorFlow.js, with its own number of heads and FFN size
// in every layer.
//
// Pre-RMSNorm block:  h = h + Attn(RMSNorm₁(h));  h = h + down(silu(gate(RMSNorm₂(h))) · up(RMSNorm₂(h)))
// logits = RMSNorm_f(h)·Wᵀ with W = `lm_head.weight`, or the token embedding when the config ties them.
// Attention: rotary position embeddings on Q and K (Hugging Face's rotate_half convention), grouped-query
// attention (each key/value head serves `headsPerGroup` consecutive query heads), causal + padding mask.
// No biases anywhere. A removed module (0 heads / 0 neurons) is an exact identity: its RMSNorm goes with
// it (guide: structured OBS, apps/docs/guide/structured-obs.md).

import * as tf from '@tensorflow/tfjs-core';
import type { LlamaConfig } from '../config.js';
import { headDim, headsPerGroup, ropeInverseFrequencies } from '../config.js';
import { ModelsError } from '../errors.js';
import { checkCheckpoint } from '../io/checkpoint.js';
import type { Checkpoint, Tensor32 } from '../weights.js';
import { LLAMA_NAMES, llamaLayerNames } from '../weights.js';
import { StoredModel } from './stored-model.js';
import type { ForwardOptions, LinearTransform, ModelInputs, ModelOutputs } from './layers.js';
import { DropoutStream, causalMask, checkInputs, multiHeadAttention, paddingMask } from './layers.js';

/** A linear layer without bias: kernel [in, out]. */
interface Projection {
  /** Checkpoint name of the weight (`….weight`, [out, in]), what a {@link LinearTransform} is told. */
  readonly weightName: string;
  readonly kernel: tf.Variable;
}

interface LlamaLayerParams {
  readonly heads: number;
  readonly attention?: { norm: tf.Variable; query: Projection; key: Projection; value: Projection; output: Projection };
  readonly mlp?: { norm: tf.Variable; gate: Projection; up: Projection; down: Projection };
}

/** y = x·W for x [rows, in]; with a `transform`, its input and kernel replace x and W (as `dense` does). */
function project(x: tf.Tensor2D, p: Projection, transform?: LinearTransform): tf.Tensor2D {
  const input = transform?.input ? transform.input(x, p.weightName) : x;
  const kernel = transform?.kernel ? transform.kernel(p.kernel as tf.Tensor2D, p.weightName) : (p.kernel as tf.Tensor2D);
  return tf.matMul(input, kernel);
}

/**
 * RMSNorm over the last axis, x · rsqrt(mean(x²) + eps) · w (Hugging Face's LlamaRMSNorm; float32
 * throughout, which is what its upcast amounts to for a float32 model).
 */
export function rmsNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor, eps: number): T {
  const meanSquare = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), weight) as T;
}

/** SiLU, x·σ(x) (the gate activation of SwiGLU). */
function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x)) as T;
}

/**
 * cos and sin of the rotary angles [seq, headDim] for positions 0 … seq − 1: angle(p, i) = p·θ_i with
 * θ = `ropeInverseFrequencies(config)` repeated as [θ, θ] (Hugging Face's `cat((freqs, freqs))`). The
 * product is rounded to float32 before cos/sin, as torch's float32 outer product is.
 */
export function ropeTables(config: LlamaConfig, seq: number, offset = 0): { cos: Float32Array; sin: Float32Array } {
  const inv = ropeInverseFrequencies(config);
  const hd = headDim(config);
  const half = hd / 2;
  const cos = new Float32Array(seq * hd);
  const sin = new Float32Array(seq * hd);
  for (let p = 0; p < seq; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround((p + offset) * inv[i]!);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * hd + i] = c;
      cos[p * hd + half + i] = c;
      sin[p * hd + i] = s;
      sin[p * hd + half + i] = s;
    }
  }
  return { cos, sin };
}

/**
 * Rotary embedding of x [batch, seq, heads, headDim]: x·cos + rotate_half(x)·sin, rotate_half(x) =
 * [−x₂, x₁] for the halves x₁, x₂ of the head dimension; cos/sin broadcast as [1, seq, 1, headDim].
 */
function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [half, half], 3);
  const rotated = tf.concat([tf.neg(x2!), x1!], 3);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

/** A LLaMA causal language model whose parameters live in tfjs variables. */
export class LlamaModel extends StoredModel<LlamaConfig> {
  private readonly embeddings: tf.Variable;
  private readonly finalNorm: tf.Variable;
  /** The [vocab, hidden] matrix of the LM head: the token embedding itself when tied, else `lm_head.weight`. */
  private readonly lmHead: tf.Variable;
  private readonly layers: LlamaLayerParams[] = [];

  /**
   * Copies the checkpoint's weights into tfjs variables (linear kernels transposed to [in, out]).
   * @throws WeightsError when a tensor is missing or has the wrong shape for the config.
   */
  constructor(checkpoint: Checkpoint<LlamaConfig>) {
    super(checkpoint.config, 'LlamaModel');
    if (checkpoint.config.modelType !== 'llama') throw new ModelsError(`LlamaModel: checkpoint is a ${checkpoint.config.modelType} model`);
    checkCheckpoint(checkpoint);
    const w = checkpoint.weights;
    const get = (name: string): Tensor32 => w.get(name)!;
    const s = this.store;
    const linear = (name: string): Projection => ({
      weightName: `${name}.weight`,
      kernel: s.add(`${name}.weight`, get(`${name}.weight`), true),
    });
    const norm = (name: string): tf.Variable => s.add(`${name}.weight`, get(`${name}.weight`));
    try {
      this.embeddings = s.add(LLAMA_NAMES.tokenEmbeddings, get(LLAMA_NAMES.tokenEmbeddings));
      for (let l = 0; l < this.config.numLayers; l++) {
        const n = llamaLayerNames(l);
        const heads = this.config.layerHeads[l]!;
        // Creation order = expectedShapes order.
        const attention =
          heads > 0
            ? { norm: norm(n.inputNorm), query: linear(n.query), key: linear(n.key), value: linear(n.value), output: linear(n.attnOut) }
            : undefined;
        const mlp =
          this.config.layerIntermediate[l]! > 0
            ? { norm: norm(n.postAttentionNorm), gate: linear(n.gate), up: linear(n.up), down: linear(n.ffnOut) }
            : undefined;
        this.layers.push({ heads, attention, mlp });
      }
      this.finalNorm = norm(LLAMA_NAMES.finalNorm);
      // A tied head is the very same variable, so training updates both.
      this.lmHead = this.config.tieWordEmbeddings === true ? this.embeddings : s.add(LLAMA_NAMES.lmHead, get(LLAMA_NAMES.lmHead));
    } catch (error) {
      this.store.dispose();
      throw error;
    }
  }

  /**
   * Runs the model: logits [batch, seq, vocab] and the hidden states. Attention is causal; an attention
   * mask (1 = token, 0 = padding) additionally hides padded keys. Positions are 0 … seq − 1 whatever the
   * padding (LlamaForCausalLM.forward without position_ids). As for GPT2, the last hidden state is the
   * last layer's output before the final RMSNorm (Hugging Face's last `hidden_states` entry has the norm
   * applied), so every entry is a layer output.
   */
  forward(inputs: ModelInputs, options: ForwardOptions = {}): ModelOutputs {
    this.checkNotDisposed('forward');
    const c = this.config;
    const { batch, seq } = checkInputs(inputs, c.vocabSize, c.maxPositions);
    const dropout = new DropoutStream(options.training ?? false, options.seed);
    const { linear } = options;
    const d = c.hiddenSize;
    const hd = headDim(c);
    const group = headsPerGroup(c);
    const tables = ropeTables(c, seq);
    return tf.tidy(() => {
      const cos = tf.tensor4d(tables.cos, [1, seq, 1, hd]);
      const sin = tf.tensor4d(tables.sin, [1, seq, 1, hd]);
      const ids = tf.reshape(inputs.inputIds, [batch * seq]);
      let h2 = tf.gather(this.embeddings, ids) as tf.Tensor2D;
      const hiddenStates: tf.Tensor3D[] = [tf.reshape(h2, [batch, seq, d])];
      let mask: tf.Tensor = causalMask(seq);
      if (inputs.attentionMask) mask = tf.add(mask, paddingMask(inputs.attentionMask));
      for (const layer of this.layers) {
        if (layer.attention) {
          const a = layer.attention;
          const heads = layer.heads;
          const kvHeads = heads / group;
          const x = rmsNorm(h2, a.norm, c.layerNormEps);
          const rope = (t: tf.Tensor2D, n: number): tf.Tensor2D =>
            tf.reshape(applyRope(tf.reshape(t, [batch, seq, n, hd]), cos, sin), [batch * seq, n * hd]);
          const q = rope(project(x, a.query, linear), heads);
          const k = repeatKv(rope(project(x, a.key, linear), kvHeads), kvHeads, group, hd);
          const v = repeatKv(project(x, a.value, linear), kvHeads, group, hd);
          const context = multiHeadAttention(q, k, v, batch, seq, heads, hd, mask, c.attentionDropout, dropout);
          h2 = tf.add(h2, project(context, a.output, linear));
        }
        if (layer.mlp) {
          const m = layer.mlp;
          const x = rmsNorm(h2, m.norm, c.layerNormEps);
          const inner: tf.Tensor2D = tf.mul(silu(project(x, m.gate, linear)), project(x, m.up, linear));
          h2 = tf.add(h2, project(inner, m.down, linear));
        }
        hiddenStates.push(tf.reshape(h2, [batch, seq, d]));
      }
      const normed = rmsNorm(h2, this.finalNorm, c.layerNormEps);
      const logits = tf.reshape(tf.matMul(normed, this.lmHead as tf.Tensor2D, false, true), [batch, seq, c.vocabSize]);
      return { logits, hiddenStates };
    });
  }
}

/**
 * Grouped-query attention's key/value sharing: [rows, kvHeads·hd] → [rows, kvHeads·group·hd] with key/value
 * head j repeated for query heads j·group … j·group + group − 1 (Hugging Face's `repeat_kv`).
 */
function repeatKv(x: tf.Tensor2D, kvHeads: number, group: number, hd: number): tf.Tensor2D {
  if (group === 1) return x;
  const rows = x.shape[0];
  return tf.reshape(tf.tile(tf.reshape(x, [rows, kvHeads, 1, hd]), [1, 1, group, 1]), [rows, kvHeads * group * hd]);
}
