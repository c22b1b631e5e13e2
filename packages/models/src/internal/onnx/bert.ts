// BERT (HF BertModel, post-LayerNorm) as ONNX subgraphs; DistilBERT is the same graph without token type
// embeddings and with ReLU after the pre-classifier (see `BertConfig`). Names and layouts: weights.ts.

import type { GraphBuilder } from '@ziplm/onnx';
import type { BertConfig } from '../../config.js';
import { headDim, isDistilBert } from '../../config.js';
import { BERT_NAMES, bertLayerNames } from '../../weights.js';
import type { Initializers } from './initializers.js';
import { ONNX_DIMS, ONNX_NAMES } from '../../onnx/names.js';
import { geluErf, type ModuleInputCapture, layerNorm, linear, multiHeadAttention, positionIds, splitQkv } from './modules.js';
import { type ProjectionContext, projection } from './quantized.js';

/**
 * What the BERT builders need: the graph, the checkpoint's initializers, the config, and whether the
 * projections are INT8 (`ProjectionContext`).
 */
export interface BertContext extends ProjectionContext {
  readonly g: GraphBuilder;
  readonly init: Initializers;
  readonly config: BertConfig;
  /** Called with the input of each output projection (attention context, FFN activation): calibration. */
  readonly capture?: ModuleInputCapture;
}

/**
 * word + position (+ token type) embeddings, then LayerNorm: [batch, seq] ids → [batch, seq, d].
 * `tokenTypeIds` is the graph's `token_type_ids` input, undefined for a model without token types (DistilBERT).
 */
export function bertEmbeddings(ctx: BertContext, inputIds: string, tokenTypeIds: string | undefined): string {
  const { g, init, config } = ctx;
  return g.scope('embeddings', () => {
    const words = g.op('Gather', [init.asIs(BERT_NAMES.wordEmbeddings), inputIds], { axis: 0 });
    const positions = g.op('Gather', [init.asIs(BERT_NAMES.positionEmbeddings), positionIds(g, inputIds)], { axis: 0 });
    let sum = g.op('Add', [words, positions]);
    if (tokenTypeIds !== undefined) {
      const types = g.op('Gather', [init.asIs(BERT_NAMES.tokenTypeEmbeddings), tokenTypeIds], { axis: 0 });
      sum = g.op('Add', [sum, types]);
    }
    const n = BERT_NAMES.embeddingsNorm;
    return layerNorm(g, sum, init.asIs(`${n}.weight`), init.asIs(`${n}.bias`), config.layerNormEps);
  });
}

/**
 * BertAttention of one layer (self-attention, output projection, residual, LayerNorm), i.e. the
 * module a head count applies to: x [batch, seq, d] → [batch, seq, d]. Q, K and V run as one GEMM.
 * @param bias additive attention bias broadcastable to [batch, heads, seq, seq] (`attentionBias`).
 */
export function bertAttention(ctx: BertContext, layer: number, heads: number, x: string, bias: string): string {
  const { g, init, config } = ctx;
  const n = bertLayerNames(layer);
  const hd = headDim(config);
  return g.scope(`layer.${layer}.attention`, () => {
    const prefix = n.query.slice(0, -'.query'.length);
    const qkv = projection(ctx, x, {
      weights: [`${n.query}.weight`, `${n.key}.weight`, `${n.value}.weight`],
      layout: 'out-in',
      fusedName: `${prefix}.qkv.weight`,
      bias: init.concatenated(`${prefix}.qkv.bias`, [`${n.query}.bias`, `${n.key}.bias`, `${n.value}.bias`]),
      input: ONNX_NAMES.matmulInput(layer, 'qkv'),
    });
    const [q, k, v] = splitQkv(g, qkv, heads * hd);
    const context = multiHeadAttention(g, q, k, v, heads, hd, bias);
    ctx.capture?.('attention', layer, context, heads * hd);
    const out = projection(ctx, context, {
      weights: [`${n.attnOut}.weight`],
      layout: 'out-in',
      bias: init.asIs(`${n.attnOut}.bias`),
      input: ONNX_NAMES.matmulInput(layer, 'attention_output'),
    });
    // Post-LN: LayerNorm(dense(h) + input); Add → LayerNormalization fuses to SkipLayerNormalization.
    return layerNorm(g, g.op('Add', [out, x]), init.asIs(`${n.attnNorm}.weight`), init.asIs(`${n.attnNorm}.bias`), config.layerNormEps);
  });
}

/** BertIntermediate + BertOutput of one layer (FC1, exact GELU, FC2, residual, LayerNorm). */
export function bertFfn(ctx: BertContext, layer: number, x: string): string {
  const { g, init, config } = ctx;
  const n = bertLayerNames(layer);
  return g.scope(`layer.${layer}.ffn`, () => {
    const fc1 = projection(ctx, x, {
      weights: [`${n.ffnIn}.weight`],
      layout: 'out-in',
      bias: init.asIs(`${n.ffnIn}.bias`),
      input: ONNX_NAMES.matmulInput(layer, 'fc1'),
    });
    const inner = geluErf(g, fc1);
    ctx.capture?.('ffn', layer, inner, config.layerIntermediate[layer]!);
    const out = projection(ctx, inner, {
      weights: [`${n.ffnOut}.weight`],
      layout: 'out-in',
      bias: init.asIs(`${n.ffnOut}.bias`),
      input: ONNX_NAMES.matmulInput(layer, 'fc2'),
    });
    return layerNorm(g, g.op('Add', [out, x]), init.asIs(`${n.ffnNorm}.weight`), init.asIs(`${n.ffnNorm}.bias`), config.layerNormEps);
  });
}

/**
 * One encoder layer. A removed module (0 heads / 0 neurons) is skipped together with its
 * LayerNorm: in post-LN BERT a shrunk model replaces LayerNorm(dense(h) + h) by h (guide/structured-obs.md).
 */
export function bertLayer(ctx: BertContext, layer: number, x: string, bias: string): string {
  let h = x;
  const heads = ctx.config.layerHeads[layer]!;
  if (heads > 0) h = bertAttention(ctx, layer, heads, h, bias);
  if (ctx.config.layerIntermediate[layer]! > 0) h = bertFfn(ctx, layer, h);
  return h;
}

/** The task head on the last hidden state: logits and their symbolic shape. Always fp32 (see `quantizableLinears`). */
export function bertHead(ctx: BertContext, h: string): { logits: string; dims: (string | number)[] } {
  const { g, init, config } = ctx;
  const head = config.head;
  return g.scope('head', () => {
    if (head.type === 'classification') {
      // Pooler on the [CLS] (first) token, then the classifier: tanh for BERT, ReLU for DistilBERT's pre_classifier.
      const cls = g.op('Gather', [h, g.constant('int64', [], [0], 'cls_index')], { axis: 1 });
      const preActivation = linear(g, cls, init.transposed(`${BERT_NAMES.pooler}.weight`), init.asIs(`${BERT_NAMES.pooler}.bias`));
      const pooled = g.op(isDistilBert(config) ? 'Relu' : 'Tanh', [preActivation]);
      const logits = linear(g, pooled, init.transposed(`${BERT_NAMES.classifier}.weight`), init.asIs(`${BERT_NAMES.classifier}.bias`));
      return { logits, dims: [ONNX_DIMS.batch, head.labels.length] };
    }
    if (head.type === 'span-qa') {
      const logits = linear(g, h, init.transposed(`${BERT_NAMES.qaOutputs}.weight`), init.asIs(`${BERT_NAMES.qaOutputs}.bias`));
      return { logits, dims: [ONNX_DIMS.batch, ONNX_DIMS.sequence, 2] };
    }
    return { logits: h, dims: [ONNX_DIMS.batch, ONNX_DIMS.sequence, config.hiddenSize] };
  });
}
