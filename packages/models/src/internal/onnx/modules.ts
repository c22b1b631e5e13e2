// Subgraph builders shared by the BERT and GPT2 exports. Every graph ziplm ships, whole model or
// single block, is assembled from these functions, so a block timed for the latency table is the
// same subgraph that runs inside the exported model.
//
// The forms are the ones onnxruntime's graph optimiser recognises (toolchain.md; ORT 1.30, level
// 'extended'/'all'; a test checks the fused op counts):
// - LayerNormalization fed by Add(s) → SkipLayerNormalization, but only when both Add operands have
//   identical known dims and the sum has no other consumer. Hence position ids built from the ids
//   (`positionIds`) so shape inference keeps [batch, sequence, d] everywhere; GPT2's pre-LN
//   residual sums feed two nodes (the next LayerNorm and the next residual Add), so they stay unfused.
// - MatMul → Add(bias), the bias kept separate so it folds into SkipLayerNormalization / BiasGelu.
// - Exact GELU as x·(1 + Erf(x / √2))·0.5 with a Div → BiasGelu; tanh GELU as FastGeluFusion's
//   first formula → FastGelu; MatMul followed by Div by √headDim → FusedMatMul.

import type { GraphBuilder } from '@ziplm/onnx';

/**
 * Additive value for masked attention keys. Equal to the tfjs models' ATTENTION_MASK_NEGATIVE
 * (checked by a test): exp(score − 1e9) is exactly 0 in float32, and a causal plus a padding
 * mask (−2e9) stays finite, so a fully masked row gives a uniform softmax instead of NaN.
 */
export const ATTENTION_MASK_NEGATIVE = -1e9;

/**
 * y = x·W + b with W [in, out] stored as an initializer (MatMul then Add, the form ORT fuses); without
 * a bias (LLaMA's projections) the MatMul alone.
 */
export function linear(g: GraphBuilder, x: string, weight: string, bias?: string): string {
  const product = g.op('MatMul', [x, weight]);
  return bias === undefined ? product : g.op('Add', [product, bias]);
}

/** LayerNormalization over the last axis (opset 17). */
export function layerNorm(g: GraphBuilder, x: string, scale: string, bias: string, eps: number): string {
  return g.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: eps });
}

/** Exact GELU, x·(1 + erf(x/√2))·0.5, in the operand order ORT's GeluFusion matches. */
export function geluErf(g: GraphBuilder, x: string): string {
  const erf = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
  const onePlus = g.op('Add', [erf, g.scalar(1)]);
  return g.op('Mul', [g.op('Mul', [x, onePlus]), g.scalar(0.5)]);
}

/**
 * GPT2's tanh GELU, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), written as FastGeluFusion's first
 * formula: (0.5·x)·(1 + tanh((√(2/π)·x)·(1 + 0.044715·x·x))). Its second formula (with Pow) only
 * matches Pow versions ≤ 13, and at opset 17 Pow resolves to version 15. The constants are the exact float32 values the fusion compares
 * against.
 */
export function geluTanh(g: GraphBuilder, x: string): string {
  const cubicTerm = g.op('Mul', [g.op('Mul', [x, g.scalar(0.044715)]), x]);
  const onePlusCubic = g.op('Add', [cubicTerm, g.scalar(1)]);
  const scaled = g.op('Mul', [x, g.scalar(0.7978845834732056)]);
  const tanh = g.op('Tanh', [g.op('Mul', [scaled, onePlusCubic])]);
  const onePlusTanh = g.op('Add', [tanh, g.scalar(1)]);
  return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), onePlusTanh]);
}

/**
 * Position ids 0 … seq − 1 (plus `offset`, a rank-1 int64 of one element, when given) for ids
 * [batch, seq], int64 [batch, seq]. Built from the ids themselves (exclusive CumSum of ones) rather
 * than Range/Slice, so shape inference keeps the symbolic [batch, sequence] dims: onnxruntime's
 * SkipLayerNormalization fusion only fires when both residual operands have identical, known dims.
 */
export function positionIds(g: GraphBuilder, ids: string, offset?: string): string {
  const ones = g.op('Add', [g.op('Mul', [ids, g.scalar(0, 'int64')]), g.scalar(1, 'int64')]);
  const positions = g.op('CumSum', [ones, g.scalar(1, 'int64')], { exclusive: 1 });
  return offset === undefined ? positions : g.op('Add', [positions, offset]);
}

/** `Shape(x)[axis]` as a rank-1 int64 tensor of one element. */
export function dimOf(g: GraphBuilder, x: string, axis: number): string {
  return g.op('Shape', [x], { start: axis, end: axis + 1 });
}

/**
 * The additive attention bias from a 0/1 mask [batch, total] (int64): (1 − mask)·NEG reshaped to
 * [batch, 1, 1, total]. With `causalQueries` (a value whose axis 1 is the number of new tokens S),
 * adds the causal bias [S, total] in which new token i (at absolute position total − S + i) sees
 * keys j ≤ total − S + i; that covers both full mode (total = S) and decode with a KV cache.
 * The result broadcasts against attention scores [batch, heads, S, total].
 */
export function attentionBias(g: GraphBuilder, attentionMask: string, causalQueries?: string): string {
  return g.scope('attention_bias', () => {
    const maskF = g.op('Cast', [attentionMask], { to: 1 });
    const padding = g.op('Mul', [g.op('Sub', [g.scalar(1), maskF]), g.scalar(ATTENTION_MASK_NEGATIVE)]);
    const padding4d = g.op('Unsqueeze', [padding, g.int64s([1, 2])]);
    if (causalQueries === undefined) return padding4d;
    const s = dimOf(g, causalQueries, 1);
    const t = dimOf(g, attentionMask, 1);
    const ones = g.op('ConstantOfShape', [g.op('Concat', [s, t], { axis: 0 })], {
      value: { type: 'tensor', value: { dataType: 'float32', dims: [1], data: new Float32Array([1]) } },
    });
    // Trilu keeps j ≤ i + k; k = total − S is the number of cached tokens.
    const offset = g.op('Squeeze', [g.op('Sub', [t, s])]);
    const allowed = g.op('Trilu', [ones, offset], { upper: 0 });
    const causal = g.op('Mul', [g.op('Sub', [g.scalar(1), allowed]), g.scalar(ATTENTION_MASK_NEGATIVE)]);
    return g.op('Add', [padding4d, causal]);
  });
}

/** Past and present KV cache value names of one attention module (decode mode). */
export interface KvCache {
  /** Graph inputs [batch, heads, past, headDim]. */
  readonly pastKey: string;
  readonly pastValue: string;
  /** Names to give the present outputs [batch, heads, total, headDim]. */
  readonly presentKey: string;
  readonly presentValue: string;
}

/**
 * Scaled dot-product attention of projected Q, K, V [batch, seq, heads·headDim] → merged context
 * [batch, seq, heads·headDim]. With a cache, K and V are appended to the past along the sequence
 * axis and exported as the present cache. QKᵀ is divided by `scoreDivisor` (default sqrt(headDim); a
 * GPT2 config may ask for another, see `gpt2AttentionScoreDivisor`).
 */
export function multiHeadAttention(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  heads: number,
  headDim: number,
  bias: string,
  cache?: KvCache,
  scoreDivisor: number = Math.sqrt(headDim),
): string {
  const split = g.int64s([0, 0, heads, headDim]);
  // Reshape with 0 copies the input dim, so batch and sequence stay symbolic.
  const toHeads = (x: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [x, split])], { perm });
  const qh = toHeads(q, [0, 2, 1, 3]);
  const vh0 = toHeads(v, [0, 2, 1, 3]);
  let kt: string;
  let vh: string;
  if (cache === undefined) {
    // K straight to [batch, heads, headDim, seq]: QKᵀ is then a plain batched MatMul.
    kt = toHeads(k, [0, 2, 3, 1]);
    vh = vh0;
  } else {
    const kh = g.op('Concat', [cache.pastKey, toHeads(k, [0, 2, 1, 3])], { axis: 2 }, { outputs: [cache.presentKey] });
    vh = g.op('Concat', [cache.pastValue, vh0], { axis: 2 }, { outputs: [cache.presentValue] });
    kt = g.op('Transpose', [kh], { perm: [0, 1, 3, 2] });
  }
  const scores = g.op('Div', [g.op('MatMul', [qh, kt]), g.scalar(scoreDivisor)]);
  const probs = g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 });
  const context = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] });
  return g.op('Reshape', [context, g.int64s([0, 0, heads * headDim])]);
}

/** Splits a fused Q|K|V projection [batch, seq, 3·width] into three [batch, seq, width] values. */
export function splitQkv(g: GraphBuilder, qkv: string, width: number): [string, string, string] {
  const [q, k, v] = g.node('Split', [qkv, g.int64s([width, width, width])], { axis: -1 }, { outputs: 3 });
  return [q!, k!, v!];
}

/**
 * Receives the input of a module's output projection (attention: the merged head outputs
 * [batch, seq, heads·headDim]; FFN: the activations [batch, seq, neurons]), the data the OBS
 * Hessians are built from (guide/structured-obs.md).
 */
export type ModuleInputCapture = (module: 'attention' | 'ffn', layer: number, tensor: string, width: number) => void;
