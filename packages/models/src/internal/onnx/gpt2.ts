// GPT2 (HF GPT2Model, pre-LayerNorm, Conv1D weights [in, out]) as ONNX subgraphs.

import type { GraphBuilder } from '@ziplm/onnx';
import type { Gpt2Config } from '../../config.js';
import { gpt2AttentionScoreDivisor, headDim, tiesWordEmbeddings } from '../../config.js';
import { GPT2_NAMES, gpt2LayerNames } from '../../weights.js';
import type { Initializers } from './initializers.js';
import type { KvCache, ModuleInputCapture } from './modules.js';
import { dimOf, geluTanh, layerNorm, multiHeadAttention, positionIds, splitQkv } from './modules.js';
import { ONNX_NAMES } from '../../onnx/names.js';
import { type ProjectionContext, projection } from './quantized.js';

/**
 * What the GPT2 builders need: the graph, the checkpoint's initializers, the config, and whether the
 * projections are INT8 (`ProjectionContext`).
 */
export interface Gpt2Context extends ProjectionContext {
  readonly g: GraphBuilder;
  readonly init: Initializers;
  readonly config: Gpt2Config;
  /** Called with the input of each output projection (attention context, FFN activation): calibration. */
  readonly capture?: ModuleInputCapture;
}

/**
 * Token + position embeddings [batch, seq, d]. The positions are `positions` (int64 [batch, seq], the
 * Optimum signature's `position_ids` input) when given; otherwise new tokens sit at positions
 * total − seq … total − 1, where total is the attention mask's length: 0 … seq − 1 in full mode, after
 * the cache in decode.
 */
export function gpt2Embeddings(ctx: Gpt2Context, inputIds: string, attentionMask: string, decode: boolean, positions?: string): string {
  const { g, init } = ctx;
  return g.scope('embeddings', () => {
    const tokens = g.op('Gather', [init.asIs(GPT2_NAMES.tokenEmbeddings), inputIds], { axis: 0 });
    // In decode mode the new tokens follow the cache: offset = total − seq.
    const offset = decode && positions === undefined ? g.op('Sub', [dimOf(g, attentionMask, 1), dimOf(g, inputIds, 1)]) : undefined;
    const ids = positions ?? positionIds(g, inputIds, offset);
    return g.op('Add', [tokens, g.op('Gather', [init.asIs(GPT2_NAMES.positionEmbeddings), ids], { axis: 0 })]);
  });
}

/**
 * x + attn(ln_1(x)) of one block, the module a head count applies to. With a cache, the new K/V are
 * appended to the past and exported (decode mode).
 * @param bias additive causal + padding bias [batch, 1, seq, total] (`attentionBias` with causal queries).
 */
export function gpt2Attention(ctx: Gpt2Context, layer: number, heads: number, x: string, bias: string, cache?: KvCache): string {
  const { g, init, config } = ctx;
  const n = gpt2LayerNames(layer);
  const hd = headDim(config);
  return g.scope(`layer.${layer}.attention`, () => {
    const h = layerNorm(g, x, init.asIs(`${n.ln1}.weight`), init.asIs(`${n.ln1}.bias`), config.layerNormEps);
    // c_attn is Conv1D [d, 3·width] with Q | K | V along the output axis: already one GEMM.
    const qkv = projection(ctx, h, {
      weights: [`${n.qkv}.weight`],
      layout: 'in-out',
      bias: init.asIs(`${n.qkv}.bias`),
      input: ONNX_NAMES.matmulInput(layer, 'qkv'),
    });
    const [q, k, v] = splitQkv(g, qkv, heads * hd);
    const context = multiHeadAttention(g, q, k, v, heads, hd, bias, cache, gpt2AttentionScoreDivisor(config, layer));
    ctx.capture?.('attention', layer, context, heads * hd);
    const out = projection(ctx, context, {
      weights: [`${n.attnOut}.weight`],
      layout: 'in-out',
      bias: init.asIs(`${n.attnOut}.bias`),
      input: ONNX_NAMES.matmulInput(layer, 'attention_output'),
    });
    return g.op('Add', [x, out]);
  });
}

/** x + mlp(ln_2(x)) of one block (c_fc, tanh GELU, c_proj). */
export function gpt2Ffn(ctx: Gpt2Context, layer: number, x: string): string {
  const { g, init, config } = ctx;
  const n = gpt2LayerNames(layer);
  return g.scope(`layer.${layer}.ffn`, () => {
    const h = layerNorm(g, x, init.asIs(`${n.ln2}.weight`), init.asIs(`${n.ln2}.bias`), config.layerNormEps);
    const fc1 = projection(ctx, h, {
      weights: [`${n.ffnIn}.weight`],
      layout: 'in-out',
      bias: init.asIs(`${n.ffnIn}.bias`),
      input: ONNX_NAMES.matmulInput(layer, 'fc1'),
    });
    const inner = geluTanh(g, fc1);
    ctx.capture?.('ffn', layer, inner, config.layerIntermediate[layer]!);
    const out = projection(ctx, inner, {
      weights: [`${n.ffnOut}.weight`],
      layout: 'in-out',
      bias: init.asIs(`${n.ffnOut}.bias`),
      input: ONNX_NAMES.matmulInput(layer, 'fc2'),
    });
    return g.op('Add', [x, out]);
  });
}

/**
 * ln_f and the LM head: logits [batch, seq, vocab], with wte (tied, the default) or the checkpoint's own
 * `lm_head.weight` (`tieWordEmbeddings: false`). Always fp32 (see `quantizableLinears`).
 */
export function gpt2LmHead(ctx: Gpt2Context, h: string): string {
  const { g, init, config } = ctx;
  return g.scope('lm_head', () => {
    const normed = layerNorm(
      g,
      h,
      init.asIs(`${GPT2_NAMES.finalNorm}.weight`),
      init.asIs(`${GPT2_NAMES.finalNorm}.bias`),
      config.layerNormEps,
    );
    // Gemm with transB reads the [vocab, d] matrix as stored, so a tied wte is in the file once
    // (MatMul would need a transposed [d, vocab] copy). Gemm is 2-D: flatten batch and sequence.
    const flat = g.op('Reshape', [normed, g.int64s([-1, config.hiddenSize])]);
    const head = tiesWordEmbeddings(config) ? GPT2_NAMES.tokenEmbeddings : GPT2_NAMES.lmHead;
    const logits2d = g.op('Gemm', [flat, init.asIs(head)], { transB: 1 });
    const shape = g.op('Concat', [g.op('Shape', [h], { start: 0, end: 2 }), g.int64s([config.vocabSize])], { axis: 0 });
    return g.op('Reshape', [logits2d, shape]);
  });
}
