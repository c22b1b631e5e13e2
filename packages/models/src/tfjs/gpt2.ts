// GPT2 (Hugging Face GPT2LMHeadModel) in TensorFlow.js, with its own number of heads and FFN size
// in every layer.
//
// Pre-LayerNorm block:  h = h + Dropout(Attn(LN1(h)));  h = h + Dropout(MLP(LN2(h)));  logits = LN_f(h)·Wᵀ
// with W = wte (tied, the default) or the checkpoint's own `lm_head.weight` (`tieWordEmbeddings: false`).
// Attention scores are divided by `gpt2AttentionScoreDivisor` (sqrt(head size), unless the config's
// `scaleAttnWeights` / `scaleAttnByInverseLayerIdx` say otherwise).
// Conv1D weights are already [in, out], so they are stored as they are. A removed module is an
// exact identity (its LayerNorm goes with it; guide/structured-obs.md).

import * as tf from '@tensorflow/tfjs-core';
import type { Gpt2Config } from '../config.js';
import { gpt2AttentionScoreDivisor, headDim, tiesWordEmbeddings } from '../config.js';
import { ModelsError } from '../errors.js';
import type { Checkpoint, Tensor32 } from '../weights.js';
import { GPT2_NAMES, gpt2LayerNames } from '../weights.js';
import { checkCheckpoint } from '../io/checkpoint.js';
import { StoredModel } from './stored-model.js';
import type { DenseParams, ForwardOptions, ModelInputs, ModelOutputs, NormParams } from './layers.js';
import { DropoutStream, causalMask, checkInputs, dense, geluTanh, layerNorm, multiHeadAttention, paddingMask } from './layers.js';

interface Gpt2LayerParams {
  readonly heads: number;
  readonly attention?: { norm: NormParams; qkv: DenseParams; output: DenseParams };
  readonly mlp?: { norm: NormParams; input: DenseParams; output: DenseParams };
}

/** A GPT2 language model whose parameters live in tfjs variables; the LM head is `wte` unless the config unties it. */
export class Gpt2Model extends StoredModel<Gpt2Config> {
  private readonly wte: tf.Variable;
  private readonly wpe: tf.Variable;
  private readonly finalNorm: NormParams;
  /** The [vocab, hidden] matrix of the LM head: `wte` itself when tied, else `lm_head.weight`. */
  private readonly lmHead: tf.Variable;
  private readonly layers: Gpt2LayerParams[] = [];

  /**
   * Copies the checkpoint's weights into tfjs variables.
   * @throws WeightsError when a tensor is missing or has the wrong shape for the config.
   */
  constructor(checkpoint: Checkpoint<Gpt2Config>) {
    super(checkpoint.config, 'Gpt2Model');
    if (checkpoint.config.modelType !== 'gpt2') throw new ModelsError(`Gpt2Model: checkpoint is a ${checkpoint.config.modelType} model`);
    checkCheckpoint(checkpoint);
    const w = checkpoint.weights;
    const get = (name: string): Tensor32 => w.get(name)!;
    const s = this.store;
    const conv = (name: string): DenseParams => ({
      weightName: `${name}.weight`,
      kernel: s.add(`${name}.weight`, get(`${name}.weight`)),
      bias: s.add(`${name}.bias`, get(`${name}.bias`)),
    });
    const norm = (name: string): NormParams => ({
      gamma: s.add(`${name}.weight`, get(`${name}.weight`)),
      beta: s.add(`${name}.bias`, get(`${name}.bias`)),
    });
    try {
      this.wte = s.add(GPT2_NAMES.tokenEmbeddings, get(GPT2_NAMES.tokenEmbeddings));
      this.wpe = s.add(GPT2_NAMES.positionEmbeddings, get(GPT2_NAMES.positionEmbeddings));
      for (let l = 0; l < this.config.numLayers; l++) {
        const n = gpt2LayerNames(l);
        const heads = this.config.layerHeads[l]!;
        // Creation order = expectedShapes order: ln_1, c_attn, c_proj, ln_2, c_fc, mlp.c_proj.
        const attention = heads > 0 ? { norm: norm(n.ln1), qkv: conv(n.qkv), output: conv(n.attnOut) } : undefined;
        const mlp = this.config.layerIntermediate[l]! > 0 ? { norm: norm(n.ln2), input: conv(n.ffnIn), output: conv(n.ffnOut) } : undefined;
        this.layers.push({ heads, attention, mlp });
      }
      this.finalNorm = norm(GPT2_NAMES.finalNorm);
      // After ln_f, the expectedShapes order; a tied head is the very same variable, so training updates both.
      this.lmHead = tiesWordEmbeddings(this.config) ? this.wte : s.add(GPT2_NAMES.lmHead, get(GPT2_NAMES.lmHead));
    } catch (error) {
      this.store.dispose();
      throw error;
    }
  }

  /**
   * Runs the model: logits [batch, seq, vocab] and the hidden states. Attention is causal; an
   * attention mask (1 = token, 0 = padding) additionally hides padded keys. Position ids are
   * 0..seq-1 whatever the padding (as GPT2LMHeadModel.forward without position_ids).
   * Unlike Hugging Face's `hidden_states`, the last entry is the last block's output before ln_f,
   * so every entry is a layer output (what layer-wise distillation compares).
   */
  forward(inputs: ModelInputs, options: ForwardOptions = {}): ModelOutputs {
    this.checkNotDisposed('forward');
    const c = this.config;
    const { batch, seq } = checkInputs(inputs, c.vocabSize, c.maxPositions);
    const dropout = new DropoutStream(options.training ?? false, options.seed);
    const { linear } = options;
    const d = c.hiddenSize;
    const hd = headDim(c);
    return tf.tidy(() => {
      const ids = tf.reshape(inputs.inputIds, [batch * seq]);
      const positions = tf.slice(this.wpe, [0, 0], [seq, d]);
      let h2 = tf.reshape(tf.add(tf.reshape(tf.gather(this.wte, ids), [batch, seq, d]), positions), [batch * seq, d]) as tf.Tensor2D;
      h2 = dropout.apply(h2, c.hiddenDropout);
      const hiddenStates: tf.Tensor3D[] = [tf.reshape(h2, [batch, seq, d])];
      let mask: tf.Tensor = causalMask(seq);
      if (inputs.attentionMask) mask = tf.add(mask, paddingMask(inputs.attentionMask));
      for (const [index, layer] of this.layers.entries()) {
        if (layer.attention) {
          const a = layer.attention;
          const width = layer.heads * hd;
          // c_attn output is Q | K | V along the feature axis.
          const [q, k, v] = tf.split(dense(layerNorm(h2, a.norm, c.layerNormEps), a.qkv, linear), [width, width, width], 1) as [
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor2D,
          ];
          const context = multiHeadAttention(q, k, v, batch, seq, layer.heads, hd, mask, c.attentionDropout, dropout, {
            scoreDivisor: gpt2AttentionScoreDivisor(c, index),
          });
          h2 = tf.add(h2, dropout.apply(dense(context, a.output, linear), c.hiddenDropout));
        }
        if (layer.mlp) {
          const m = layer.mlp;
          const inner = geluTanh(dense(layerNorm(h2, m.norm, c.layerNormEps), m.input, linear));
          h2 = tf.add(h2, dropout.apply(dense(inner, m.output, linear), c.hiddenDropout));
        }
        hiddenStates.push(tf.reshape(h2, [batch, seq, d]));
      }
      // LM head: logits = LN_f(h)·Wᵀ, W = wte when tied, lm_head.weight otherwise (both [vocab, d]).
      const logits = tf.reshape(tf.matMul(layerNorm(h2, this.finalNorm, c.layerNormEps), this.lmHead as tf.Tensor2D, false, true), [
        batch,
        seq,
        c.vocabSize,
      ]);
      return { logits, hiddenStates };
    });
  }
}
