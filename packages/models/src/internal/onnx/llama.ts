// LLaMA (HF LlamaForCausalLM: pre-RMSNorm, rotary embeddings, grouped-query attention, SwiGLU, nn.Linear
// weights [out, in] without biases) as ONNX subgraphs. Q|K|V run as one GEMM and so do gate|up (their
// inputs are the same normed hidden state), as BERT's Q|K|V do.

import type { GraphBuilder } from '@ziplm/onnx';
import type { LlamaConfig } from '../../config.js';
import { headDim, headsPerGroup, ropeInverseFrequencies } from '../../config.js';
import { ONNX_NAMES } from '../../onnx/names.js';
import { LLAMA_NAMES, llamaLayerNames } from '../../weights.js';
import type { Initializers } from './initializers.js';
import type { KvCache, ModuleInputCapture } from './modules.js';
import { dimOf } from './modules.js';
import { type ProjectionContext, projection } from './quantized.js';

/**
 * What the LLaMA builders need: the graph, the checkpoint's initializers, the config, and whether the
 * projections are INT8 (`ProjectionContext`).
 */
export interface LlamaContext extends ProjectionContext {
  readonly g: GraphBuilder;
  readonly init: Initializers;
  readonly config: LlamaConfig;
  /** Called with the input of each output projection (attention context, FFN activation): calibration. */
  readonly capture?: ModuleInputCapture;
}

/** cos and sin of the rotary angles, broadcastable against per-head Q/K [batch, heads, seq, headDim]. */
export interface RopeTables {
  readonly cos: string;
  readonly sin: string;
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w (the pattern onnxruntime fuses into SimplifiedLayerNormalization). */
export function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.scalar(2)])], { axes: [-1], keepdims: 1 });
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.scalar(eps)])]);
  return g.op('Mul', [g.op('Div', [x, rms]), weight]);
}

/** Token embeddings [batch, seq, d] (LLaMA has no position embeddings: positions enter through RoPE). */
export function llamaEmbeddings(ctx: LlamaContext, inputIds: string): string {
  const { g, init } = ctx;
  return g.scope('embeddings', () => g.op('Gather', [init.asIs(LLAMA_NAMES.tokenEmbeddings), inputIds], { axis: 0 }));
}

/**
 * The rotary tables for int64 `positions`: [batch, seq] (whole models, from the ids) gives cos/sin [batch,
 * 1, seq, headDim]; [seq] (blocks) gives [seq, headDim]. angle = position · [θ, θ] in float32 (as torch's
 * float32 outer product), θ = `ropeInverseFrequencies(config)`.
 */
export function llamaRope(ctx: LlamaContext, positions: string, batched: boolean): RopeTables {
  const { g, config } = ctx;
  return g.scope('rope', () => {
    const inv = ropeInverseFrequencies(config);
    const doubled = new Float32Array(2 * inv.length);
    doubled.set(inv, 0);
    doubled.set(inv, inv.length);
    const frequencies = g.constant('float32', [doubled.length], doubled, 'rope_inverse_frequencies');
    const angles = g.op('Mul', [g.op('Unsqueeze', [g.op('Cast', [positions], { to: 1 }), g.int64s([-1])]), frequencies]);
    const perHead = (t: string): string => (batched ? g.op('Unsqueeze', [t, g.int64s([1])]) : t);
    return { cos: perHead(g.op('Cos', [angles])), sin: perHead(g.op('Sin', [angles])) };
  });
}

/** Positions total − seq … total − 1 as int64 [seq], for a graph whose new tokens follow `total − seq` cached ones. */
export function trailingPositions(g: GraphBuilder, sequenceOf: string, totalOf: string): string {
  const total = g.op('Squeeze', [dimOf(g, totalOf, 1)]);
  const start = g.op('Sub', [total, g.op('Squeeze', [dimOf(g, sequenceOf, 1)])]);
  return g.op('Range', [start, total, g.scalar(1, 'int64')]);
}

/** q·cos + rotate_half(q)·sin for per-head q [batch, heads, seq, headDim], rotate_half(q) = [−q₂, q₁]. */
function applyRope(g: GraphBuilder, x: string, rope: RopeTables, hd: number): string {
  const [x1, x2] = g.node('Split', [x, g.int64s([hd / 2, hd / 2])], { axis: -1 }, { outputs: 2 }) as [string, string];
  const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
  return g.op('Add', [g.op('Mul', [x, rope.cos]), g.op('Mul', [rotated, rope.sin])]);
}

/**
 * x + attn(input_layernorm(x)) of one layer, the module a head count applies to: Q|K|V, RoPE on Q and K,
 * grouped-query attention (key/value head j serves query heads j·g … j·g + g − 1), o_proj. With a cache the
 * new keys (after RoPE) and values are appended to the past ones and exported, `heads / g` heads each.
 * @param bias additive causal + padding bias [batch, 1, seq, total] (`attentionBias` with causal queries).
 */
export function llamaAttention(
  ctx: LlamaContext,
  layer: number,
  heads: number,
  x: string,
  bias: string,
  rope: RopeTables,
  cache?: KvCache,
): string {
  const { g, init, config } = ctx;
  const n = llamaLayerNames(layer);
  const hd = headDim(config);
  const group = headsPerGroup(config);
  const kvHeads = heads / group;
  return g.scope(`layer.${layer}.attention`, () => {
    const h = rmsNorm(g, x, init.asIs(`${n.inputNorm}.weight`), config.layerNormEps);
    const qkv = projection(ctx, h, {
      weights: [`${n.query}.weight`, `${n.key}.weight`, `${n.value}.weight`],
      layout: 'out-in',
      fusedName: `${n.query.slice(0, -'.q_proj'.length)}.qkv_proj.weight`,
      input: ONNX_NAMES.matmulInput(layer, 'qkv'),
    });
    const [q, k, v] = g.node('Split', [qkv, g.int64s([heads * hd, kvHeads * hd, kvHeads * hd])], { axis: -1 }, { outputs: 3 }) as [
      string,
      string,
      string,
    ];
    // [batch, seq, n·hd] → [batch, n, seq, hd]; Reshape's 0 keeps batch and sequence symbolic.
    const toHeads = (t: string, count: number): string =>
      g.op('Transpose', [g.op('Reshape', [t, g.int64s([0, 0, count, hd])])], { perm: [0, 2, 1, 3] });
    const qh = applyRope(g, toHeads(q, heads), rope, hd);
    let kh = applyRope(g, toHeads(k, kvHeads), rope, hd);
    let vh = toHeads(v, kvHeads);
    if (cache !== undefined) {
      kh = g.op('Concat', [cache.pastKey, kh], { axis: 2 }, { outputs: [cache.presentKey] });
      vh = g.op('Concat', [cache.pastValue, vh], { axis: 2 }, { outputs: [cache.presentValue] });
    }
    // repeat_kv: [batch, kv, T, hd] → [batch, kv, g, T, hd] → [batch, kv·g, T, hd].
    const shared = (t: string): string =>
      group === 1
        ? t
        : g.op('Reshape', [
            g.op('Tile', [g.op('Unsqueeze', [t, g.int64s([2])]), g.int64s([1, 1, group, 1, 1])]),
            g.int64s([0, heads, -1, hd]),
          ]);
    const kt = g.op('Transpose', [shared(kh)], { perm: [0, 1, 3, 2] });
    const scores = g.op('Div', [g.op('MatMul', [qh, kt]), g.scalar(Math.sqrt(hd))]);
    const probs = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 });
    const merged = g.op('Transpose', [g.op('MatMul', [probs, shared(vh)])], { perm: [0, 2, 1, 3] });
    const context = g.op('Reshape', [merged, g.int64s([0, 0, heads * hd])]);
    ctx.capture?.('attention', layer, context, heads * hd);
    const out = projection(ctx, context, {
      weights: [`${n.attnOut}.weight`],
      layout: 'out-in',
      input: ONNX_NAMES.matmulInput(layer, 'attention_output'),
    });
    return g.op('Add', [x, out]);
  });
}

/** x + down(silu(gate(h)) · up(h)), h = post_attention_layernorm(x), of one layer (gate|up as one GEMM). */
export function llamaFfn(ctx: LlamaContext, layer: number, x: string): string {
  const { g, init, config } = ctx;
  const n = llamaLayerNames(layer);
  const neurons = config.layerIntermediate[layer]!;
  return g.scope(`layer.${layer}.ffn`, () => {
    const h = rmsNorm(g, x, init.asIs(`${n.postAttentionNorm}.weight`), config.layerNormEps);
    const gateUp = projection(ctx, h, {
      weights: [`${n.gate}.weight`, `${n.up}.weight`],
      layout: 'out-in',
      fusedName: `${n.gate.slice(0, -'.gate_proj'.length)}.gate_up_proj.weight`,
      input: ONNX_NAMES.matmulInput(layer, 'fc1'),
    });
    const [gate, up] = g.node('Split', [gateUp, g.int64s([neurons, neurons])], { axis: -1 }, { outputs: 2 }) as [string, string];
    const inner = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    ctx.capture?.('ffn', layer, inner, neurons);
    const out = projection(ctx, inner, { weights: [`${n.ffnOut}.weight`], layout: 'out-in', input: ONNX_NAMES.matmulInput(layer, 'fc2') });
    return g.op('Add', [x, out]);
  });
}

/**
 * The final RMSNorm and the LM head: logits [batch, seq, vocab] with `lm_head.weight`, or the token
 * embedding when the config ties them. Always fp32 (see `quantizableLinears`).
 */
export function llamaLmHead(ctx: LlamaContext, h: string): string {
  const { g, init, config } = ctx;
  return g.scope('lm_head', () => {
    const normed = rmsNorm(g, h, init.asIs(`${LLAMA_NAMES.finalNorm}.weight`), config.layerNormEps);
    // Gemm with transB reads the [vocab, d] matrix as stored (a tied embedding is then in the file once).
    const flat = g.op('Reshape', [normed, g.int64s([-1, config.hiddenSize])]);
    const head = config.tieWordEmbeddings === true ? LLAMA_NAMES.tokenEmbeddings : LLAMA_NAMES.lmHead;
    const logits2d = g.op('Gemm', [flat, init.asIs(head)], { transB: 1 });
    const shape = g.op('Concat', [g.op('Shape', [h], { start: 0, end: 2 }), g.int64s([config.vocabSize])], { axis: 0 });
    return g.op('Reshape', [logits2d, shape]);
  });
}
