// BERT (Hugging Face BertModel / BertForSequenceClassification / BertForQuestionAnswering) in
// TensorFlow.js, with its own number of heads and FFN size in every layer. DistilBERT (DistilBertModel /
// DistilBertForSequenceClassification / DistilBertForQuestionAnswering) is the same model without token
// type embeddings and with ReLU instead of tanh after the pre-classifier (see `BertConfig`).
//
// Post-LayerNorm encoder layer:  h = LN(h + Dropout(Attn(h)));  h = LN(h + Dropout(FC2(GELU(FC1(h)))))
// A removed module (0 heads / 0 neurons) is skipped together with its LayerNorm, exactly as the
// ZipLM reference's NoAttention / NoIntermediate+NoOutput modules do (guide/structured-obs.md): the layer
// passes `h` through unchanged, which is NOT the same as zero weights (that would give LN(h + b)).

import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from '../config.js';
import { hasTokenTypes, headDim, isDistilBert } from '../config.js';
import { ModelsError } from '../errors.js';
import type { Checkpoint, Tensor32 } from '../weights.js';
import { BERT_NAMES, bertLayerNames } from '../weights.js';
import { checkCheckpoint } from '../io/checkpoint.js';
import type { DenseParams, ForwardOptions, ModelInputs, ModelOutputs, NormParams } from './layers.js';
import { DropoutStream, checkInputs, dense, geluErf, layerNorm, multiHeadAttention, paddingMask } from './layers.js';
import { StoredModel } from './stored-model.js';

interface BertLayerParams {
  readonly heads: number;
  readonly attention?: { query: DenseParams; key: DenseParams; value: DenseParams; output: DenseParams; norm: NormParams };
  readonly ffn?: { input: DenseParams; output: DenseParams; norm: NormParams };
}

/** A BERT encoder (+ optional task head) whose parameters live in tfjs variables. */
export class BertModel extends StoredModel<BertConfig> {
  /** `tokenType` is absent when the model has no token types (DistilBERT). */
  private readonly embeddings: { word: tf.Variable; position: tf.Variable; tokenType?: tf.Variable; norm: NormParams };
  private readonly layers: BertLayerParams[] = [];
  private readonly pooler?: DenseParams;
  private readonly classifier?: DenseParams;
  private readonly qaOutputs?: DenseParams;

  /**
   * Copies the checkpoint's weights into tfjs variables (linear kernels transposed to [in, out]).
   * @throws WeightsError when a tensor is missing or has the wrong shape for the config.
   */
  constructor(checkpoint: Checkpoint<BertConfig>) {
    super(checkpoint.config, 'BertModel');
    if (checkpoint.config.modelType !== 'bert') throw new ModelsError(`BertModel: checkpoint is a ${checkpoint.config.modelType} model`);
    checkCheckpoint(checkpoint);
    const w = checkpoint.weights;
    const get = (name: string): Tensor32 => w.get(name)!;
    const s = this.store;
    const linear = (name: string): DenseParams => ({
      weightName: `${name}.weight`,
      kernel: s.add(`${name}.weight`, get(`${name}.weight`), true),
      bias: s.add(`${name}.bias`, get(`${name}.bias`)),
    });
    const norm = (name: string): NormParams => ({
      gamma: s.add(`${name}.weight`, get(`${name}.weight`)),
      beta: s.add(`${name}.bias`, get(`${name}.bias`)),
    });
    try {
      // Variables are created in `expectedShapes` order (`trainableVariables` promises it), so the token type table,
      // when there is one, sits between the position table and the LayerNorm.
      const word = s.add(BERT_NAMES.wordEmbeddings, get(BERT_NAMES.wordEmbeddings));
      const position = s.add(BERT_NAMES.positionEmbeddings, get(BERT_NAMES.positionEmbeddings));
      const tokenType = hasTokenTypes(this.config) ? s.add(BERT_NAMES.tokenTypeEmbeddings, get(BERT_NAMES.tokenTypeEmbeddings)) : undefined;
      this.embeddings = { word, position, ...(tokenType ? { tokenType } : {}), norm: norm(BERT_NAMES.embeddingsNorm) };
      for (let l = 0; l < this.config.numLayers; l++) {
        const n = bertLayerNames(l);
        const heads = this.config.layerHeads[l]!;
        this.layers.push({
          heads,
          attention:
            heads > 0
              ? { query: linear(n.query), key: linear(n.key), value: linear(n.value), output: linear(n.attnOut), norm: norm(n.attnNorm) }
              : undefined,
          ffn:
            this.config.layerIntermediate[l]! > 0 ? { input: linear(n.ffnIn), output: linear(n.ffnOut), norm: norm(n.ffnNorm) } : undefined,
        });
      }
      if (this.config.head.type === 'classification') {
        this.pooler = linear(BERT_NAMES.pooler);
        this.classifier = linear(BERT_NAMES.classifier);
      } else if (this.config.head.type === 'span-qa') {
        this.qaOutputs = linear(BERT_NAMES.qaOutputs);
      }
    } catch (error) {
      this.store.dispose();
      throw error;
    }
  }

  /**
   * Runs the model. Returns new tensors owned by the caller; nothing else is left allocated.
   * With `training`, dropout is applied (seeded by `seed` when given). A model without token types
   * (DistilBERT) ignores `tokenTypeIds`, as GPT2 does: Hugging Face's DistilBERT has no segment input,
   * so a sentence pair is told apart by its [SEP] alone.
   */
  forward(inputs: ModelInputs, options: ForwardOptions = {}): ModelOutputs {
    this.checkNotDisposed('forward');
    const c = this.config;
    const tokenTypes = this.embeddings.tokenType;
    const { batch, seq } = checkInputs(inputs, c.vocabSize, c.maxPositions, tokenTypes ? c.typeVocabSize : undefined);
    const dropout = new DropoutStream(options.training ?? false, options.seed);
    const { linear } = options;
    const d = c.hiddenSize;
    const hd = headDim(c);
    return tf.tidy(() => {
      const ids = tf.reshape(inputs.inputIds, [batch * seq]);
      const e = this.embeddings;
      // word[ids] + position[0..seq) (broadcast over the batch) + tokenType[types] (BERT only)
      const positions = tf.slice(e.position, [0, 0], [seq, d]);
      let h2 = tf.reshape(tf.add(tf.reshape(tf.gather(e.word, ids), [batch, seq, d]), positions), [batch * seq, d]) as tf.Tensor2D;
      if (tokenTypes) {
        const types = inputs.tokenTypeIds ? tf.reshape(inputs.tokenTypeIds, [batch * seq]) : tf.zeros([batch * seq], 'int32');
        h2 = tf.add(h2, tf.gather(tokenTypes, types));
      }
      h2 = dropout.apply(layerNorm(h2, e.norm, c.layerNormEps), c.hiddenDropout);
      const hiddenStates: tf.Tensor3D[] = [tf.reshape(h2, [batch, seq, d])];
      const mask = inputs.attentionMask ? paddingMask(inputs.attentionMask) : undefined;
      for (const layer of this.layers) {
        if (layer.attention) {
          const a = layer.attention;
          const context = multiHeadAttention(
            dense(h2, a.query, linear),
            dense(h2, a.key, linear),
            dense(h2, a.value, linear),
            batch,
            seq,
            layer.heads,
            hd,
            mask,
            c.attentionDropout,
            dropout,
          );
          h2 = layerNorm(tf.add(dropout.apply(dense(context, a.output, linear), c.hiddenDropout), h2), a.norm, c.layerNormEps);
        }
        if (layer.ffn) {
          const f = layer.ffn;
          const inner = geluErf(dense(h2, f.input, linear));
          h2 = layerNorm(tf.add(dropout.apply(dense(inner, f.output, linear), c.hiddenDropout), h2), f.norm, c.layerNormEps);
        }
        hiddenStates.push(tf.reshape(h2, [batch, seq, d]));
      }
      let logits: tf.Tensor;
      if (this.pooler && this.classifier) {
        // BERT's pooler: tanh(dense(h[:, 0])) on the [CLS] token, then dropout and the classifier. DistilBERT's
        // pre_classifier is the same dense layer followed by ReLU.
        const cls = tf.reshape(tf.slice(hiddenStates[hiddenStates.length - 1]!, [0, 0, 0], [batch, 1, d]), [batch, d]) as tf.Tensor2D;
        const preActivation = dense(cls, this.pooler, linear);
        const pooled = dropout.apply(isDistilBert(c) ? tf.relu(preActivation) : tf.tanh(preActivation), c.hiddenDropout);
        logits = dense(pooled, this.classifier, linear);
      } else if (this.qaOutputs) {
        logits = tf.reshape(dense(h2, this.qaOutputs, linear), [batch, seq, 2]);
      } else {
        // No head: the last hidden state (a separate tensor, so disposing both outputs is safe).
        logits = tf.clone(hiddenStates[hiddenStates.length - 1]!);
      }
      return { logits, hiddenStates };
    });
  }
}
