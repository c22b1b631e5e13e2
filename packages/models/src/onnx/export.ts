// ONNX export of whole models and of single blocks. The whole model is the composition of the same
// per-module builders (internal/onnx/bert.ts, gpt2.ts) that the block exports use, so the latency table times
// exactly the subgraphs that ship (guide/latency.md: the runtime of a pruned model is composed from
// per-module timings).

import { GraphBuilder } from '@ziplm/onnx';
import type { BertConfig, Gpt2Config, LlamaConfig, ModelConfig } from '../config.js';
import { hasTokenTypes, headDim, headsPerGroup, toHfConfig } from '../config.js';
import { checkCheckpoint } from '../io/checkpoint.js';
import { randomCheckpoint } from '../random.js';
import type { Checkpoint } from '../weights.js';
import { bertAttention, bertEmbeddings, bertFfn, bertHead, bertLayer, type BertContext } from '../internal/onnx/bert.js';
import { gpt2Attention, gpt2Embeddings, gpt2Ffn, gpt2LmHead, type Gpt2Context } from '../internal/onnx/gpt2.js';
import { Initializers } from '../internal/onnx/initializers.js';
import {
  llamaAttention,
  llamaEmbeddings,
  llamaFfn,
  llamaLmHead,
  llamaRope,
  trailingPositions,
  type LlamaContext,
} from '../internal/onnx/llama.js';
import { attentionBias, dimOf, positionIds, type KvCache, type ModuleInputCapture } from '../internal/onnx/modules.js';
import type { Int8Plan } from '../internal/onnx/quantized.js';
import { OnnxExportError } from './errors.js';
import { ONNX_DIMS, ONNX_NAMES, OPTIMUM_DIMS, OPTIMUM_NAMES } from './names.js';
import type { ActivationRange, OnnxQuantizeOptions } from './quantize.js';

/** Options shared by every export. */
export interface OnnxExportOptions {
  /**
   * 'full' (default): every position of the input sequence at once. 'decode' (GPT2, LLaMA): new
   * token(s) attending to a KV cache (past_key/past_value inputs, present_key/present_value outputs),
   * the generation setting of the latency table (guide/latency.md, guide/paper.md).
   */
  mode?: 'full' | 'decode';
  /**
   * Decode mode: fixes the cache length dimension to this value. Default: symbolic
   * (`past_sequence`), so one graph serves every cache length (0 included).
   */
  pastLength?: number;
  /**
   * Export INT8: the weights of every `quantizableLinears` projection int8 per output channel, their
   * inputs quantized to uint8 dynamically or from calibration ranges (the package README, "INT8
   * export"). Absent: fp32.
   */
  quantize?: OnnxQuantizeOptions;
}

/** Options of `exportModelToOnnx`. */
export interface ModelExportOptions extends OnnxExportOptions {
  /** Also output every hidden state: `hidden_state_0` (embeddings) … `hidden_state_<numLayers>`. */
  hiddenStates?: boolean;
  /**
   * Also output the input of every output projection, for calibration (guide/structured-obs.md):
   * `attention_input_<l>` [batch, sequence, heads_l·headDim] (the merged head outputs, input of the
   * attention output projection) and `ffn_input_<l>` [batch, sequence, neurons_l] (the activations,
   * input of FC2), for every layer whose module is kept.
   */
  moduleInputs?: boolean;
  /**
   * Also output, as float32 [batch, sequence, in], the input of every quantizable linear, one output
   * per distinct input (`QuantizableLinear.input`, `ONNX_NAMES.matmulInput`; BERT's Q, K and V share
   * one): the data of the GPTQ Hessians and of static activation ranges. Meant for the fp32 export.
   */
  matmulInputs?: boolean;
  /**
   * Decode mode: the graph's interface. 'ziplm' (default): `past_key_<l>`/`present_key_<l>`, positions
   * follow the cache (total − sequence … total − 1), ziplm's dim names; the graph the latency table times.
   * 'optimum': Optimum's decoder-with-past graph, the one transformers.js' `generate()` runs (it is
   * onnx/model.onnx of a decoder's transformers.js layout): an int64 `position_ids` [batch, sequence]
   * input that gives every position (wpe rows for GPT2, rotary angles for LLaMA), so left-padded
   * batches are right too; cache `past_key_values.<l>.key/value` → `present.<l>.key/value` and
   * Optimum's dim names (`OPTIMUM_NAMES`, `OPTIMUM_DIMS`). A cache of length 0 is the prefill.
   */
  signature?: 'ziplm' | 'optimum';
}

/** Options of the block exports. */
export interface BlockExportOptions extends OnnxExportOptions {
  /** Seed of the random weights (default 0). */
  seed?: number;
}

function checkOptions(what: string, config: ModelConfig, options: OnnxExportOptions): boolean {
  const mode = options.mode ?? 'full';
  if (mode !== 'full' && mode !== 'decode') throw new OnnxExportError(what, `mode must be "full" or "decode", got ${JSON.stringify(mode)}`);
  const decode = mode === 'decode';
  if (decode && config.modelType === 'bert')
    throw new OnnxExportError(what, 'mode "decode" (KV cache) is for GPT2 and LLaMA; BERT is an encoder');
  if (options.pastLength !== undefined) {
    if (!decode) throw new OnnxExportError(what, 'pastLength is only meaningful with mode "decode"');
    if (!Number.isInteger(options.pastLength) || options.pastLength < 0)
      throw new OnnxExportError(what, `pastLength must be a non-negative integer, got ${options.pastLength}`);
    if (options.pastLength >= config.maxPositions)
      throw new OnnxExportError(what, `pastLength ${options.pastLength} leaves no room in the model's ${config.maxPositions} positions`);
  }
  return decode;
}

/**
 * Range of a quantized MatMul's input that block exports use when the caller gives none: the block
 * timings of the latency table do not depend on it (the kernels are the same for every scale), and
 * ±8 covers LayerNorm outputs and GELU activations of random-weight blocks.
 */
const NOMINAL_ACTIVATION_RANGE: ActivationRange = { min: -8, max: 8 };

function checkQuantize(what: string, quantize: OnnxQuantizeOptions | undefined): void {
  if (quantize === undefined) return;
  if (quantize.activations !== 'dynamic' && quantize.activations !== 'static')
    throw new OnnxExportError(what, `quantize.activations must be "dynamic" or "static", got ${JSON.stringify(quantize.activations)}`);
  if (quantize.ranges !== undefined && quantize.activations === 'dynamic')
    throw new OnnxExportError(what, 'quantize.ranges are for activations "static"; dynamic quantization measures each input at run time');
}

/**
 * The INT8 plan of an export. A missing static range: `nominal` (block exports, for timing) or an
 * OnnxExportError naming the input (whole models, whose outputs must be meaningful).
 */
function int8Plan(what: string, quantize: OnnxQuantizeOptions | undefined, missingRange: 'throw' | 'nominal'): Int8Plan | undefined {
  if (quantize === undefined) return undefined;
  const ranges = quantize.ranges ?? new Map<string, ActivationRange>();
  return {
    activations: quantize.activations,
    weights: quantize.weights ?? new Map(),
    range: (input) => {
      const range = ranges.get(input);
      if (range !== undefined) return range;
      if (missingRange === 'nominal') return NOMINAL_ACTIVATION_RANGE;
      throw new OnnxExportError(
        what,
        `static quantization needs the activation range of "${input}" (quantize.ranges, keyed by quantizableLinears(config)[i].input)`,
      );
    },
  };
}

/** Checks `signature` against the mode; true for the Optimum signature. */
function checkSignature(what: string, signature: ModelExportOptions['signature'], decode: boolean): boolean {
  if (signature === undefined || signature === 'ziplm') return false;
  if (signature !== 'optimum') throw new OnnxExportError(what, `signature must be "ziplm" or "optimum", got ${JSON.stringify(signature)}`);
  if (!decode) throw new OnnxExportError(what, 'signature "optimum" is the decoder-with-past graph: it needs mode "decode"');
  return true;
}

function metadata(config: ModelConfig, graph: Record<string, unknown>, quantize: OnnxQuantizeOptions | undefined): Record<string, string> {
  const recorded = quantize === undefined ? graph : { ...graph, quantization: { precision: 'int8', activations: quantize.activations } };
  return { 'ziplm.graph': JSON.stringify(recorded), 'ziplm.config': JSON.stringify(toHfConfig(config)) };
}

/**
 * Exports a whole model. Inputs are int64 [batch, sequence] (`input_ids`, `attention_mask` with 1 =
 * token, and for BERT, not DistilBERT, `token_type_ids`); batch and sequence are symbolic. Output `logits`:
 * BERT classification [batch, labels], span-QA [batch, sequence, 2] (start, end), no head: the last
 * hidden state [batch, sequence, hidden]; GPT2 and LLaMA [batch, sequence, vocab]. Every layer has its own head
 * count and FFN size from the config; a removed module is skipped (for post-LN BERT with its
 * LayerNorm, guide/structured-obs.md).
 *
 * GPT2 decode mode: `attention_mask` is [batch, total_sequence] (cache + new tokens), and each layer
 * l that keeps attention takes `past_key_l`/`past_value_l` [batch, heads_l, past_sequence, headDim]
 * and returns `present_key_l`/`present_value_l` [batch, heads_l, total_sequence, headDim]. New tokens
 * get positions past … total − 1; a cache of length 0 makes decode equal full mode. LLaMA decode mode is
 * the same with `heads_l / headsPerGroup(config)` cached key/value heads per layer (keys after RoPE).
 * With `signature: 'optimum'` the decode graph takes `position_ids` and names its cache and dims as
 * Optimum does (`OPTIMUM_NAMES`, `OPTIMUM_DIMS`); a layer whose attention is removed has no cache
 * entry, under either signature.
 *
 * With `quantize`, the projections of `quantizableLinears(config)` are INT8 (the heads stay fp32) and
 * the `ziplm.graph` metadata records `quantization: { precision: 'int8', activations }`.
 *
 * @throws WeightsError when the checkpoint does not match its config; OnnxExportError for bad options.
 */
export function exportModelToOnnx(checkpoint: Checkpoint, options: ModelExportOptions = {}): Uint8Array {
  const config = checkpoint.config;
  const what = `exportModelToOnnx (${config.modelType})`;
  const decode = checkOptions(what, config, options);
  const optimum = checkSignature(what, options.signature, decode);
  checkQuantize(what, options.quantize);
  checkCheckpoint(checkpoint, `${what}: checkpoint`);
  const g = new GraphBuilder(`ziplm_${config.modelType}${decode ? '_decode' : ''}`);
  const init = new Initializers(g, checkpoint.weights, what);
  const dims = optimum ? OPTIMUM_DIMS : ONNX_DIMS;
  const cacheNames = optimum ? OPTIMUM_NAMES : ONNX_NAMES;
  const seqDims = [dims.batch, dims.sequence];
  const ids = g.input(ONNX_NAMES.inputIds, 'int64', seqDims);
  const mask = g.input(ONNX_NAMES.attentionMask, 'int64', decode ? [dims.batch, dims.total] : seqDims);
  // The Optimum signature's positions come from the caller (transformers.js: cumsum(attention_mask) − 1).
  const givenPositions = optimum ? g.input(OPTIMUM_NAMES.positionIds, 'int64', seqDims) : undefined;
  const hiddenDims = [dims.batch, dims.sequence, config.hiddenSize];
  const states: string[] = [];
  let logits: string;
  let logitsDims: (string | number)[];
  // Decode mode: each kept attention module's cache and its cached head count (the present outputs' shape):
  // GPT2 caches every head, LLaMA one key/value head per group.
  const caches: Array<{ cache: KvCache; heads: number }> = [];
  const captured: Array<{ name: string; tensor: string; width: number }> = [];
  const capture: ModuleInputCapture | undefined = options.moduleInputs
    ? (module, layer, tensor, width) =>
        captured.push({ name: module === 'attention' ? ONNX_NAMES.attentionInput(layer) : ONNX_NAMES.ffnInput(layer), tensor, width })
    : undefined;
  const matmulInputs = new Map<string, { tensor: string; width: number }>();
  const captureMatmulInput = options.matmulInputs
    ? (input: string, tensor: string, width: number) => {
        if (!matmulInputs.has(input)) matmulInputs.set(input, { tensor, width });
      }
    : undefined;
  const projections = {
    ...(captureMatmulInput ? { captureMatmulInput } : {}),
    ...(options.quantize ? { int8: int8Plan(what, options.quantize, 'throw')! } : {}),
  };

  if (config.modelType === 'bert') {
    const ctx: BertContext = { g, init, config, capture, ...projections };
    // Optimum's inputs: token_type_ids only for a model that has token types (BERT, not DistilBERT).
    const types = hasTokenTypes(config) ? g.input(ONNX_NAMES.tokenTypeIds, 'int64', seqDims) : undefined;
    let h = bertEmbeddings(ctx, ids, types);
    states.push(h);
    const bias = attentionBias(g, mask);
    for (let l = 0; l < config.numLayers; l++) {
      h = bertLayer(ctx, l, h, bias);
      states.push(h);
    }
    ({ logits, dims: logitsDims } = bertHead(ctx, h));
  } else if (config.modelType === 'llama') {
    const ctx: LlamaContext = { g, init, config, capture, ...projections };
    let h = llamaEmbeddings(ctx, ids);
    states.push(h);
    // Unless the caller gives them, new tokens sit at positions total − seq … total − 1: after the cache in decode mode.
    const offset = decode && givenPositions === undefined ? g.op('Sub', [dimOf(g, mask, 1), dimOf(g, ids, 1)]) : undefined;
    const rope = llamaRope(ctx, givenPositions ?? positionIds(g, ids, offset), true);
    const bias = attentionBias(g, mask, ids);
    const hd = headDim(config);
    const past = options.pastLength ?? dims.past;
    for (let l = 0; l < config.numLayers; l++) {
      const heads = config.layerHeads[l]!;
      if (heads > 0) {
        let cache: KvCache | undefined;
        if (decode) {
          const kvHeads = heads / headsPerGroup(config);
          cache = {
            pastKey: g.input(cacheNames.pastKey(l), 'float32', [dims.batch, kvHeads, past, hd]),
            pastValue: g.input(cacheNames.pastValue(l), 'float32', [dims.batch, kvHeads, past, hd]),
            presentKey: cacheNames.presentKey(l),
            presentValue: cacheNames.presentValue(l),
          };
          caches.push({ cache, heads: kvHeads });
        }
        h = llamaAttention(ctx, l, heads, h, bias, rope, cache);
      }
      if (config.layerIntermediate[l]! > 0) h = llamaFfn(ctx, l, h);
      states.push(h);
    }
    logits = llamaLmHead(ctx, h);
    logitsDims = [dims.batch, dims.sequence, config.vocabSize];
  } else {
    const ctx: Gpt2Context = { g, init, config, capture, ...projections };
    let h = gpt2Embeddings(ctx, ids, mask, decode, givenPositions);
    states.push(h);
    const bias = attentionBias(g, mask, ids);
    const hd = headDim(config);
    const past = options.pastLength ?? dims.past;
    for (let l = 0; l < config.numLayers; l++) {
      const heads = config.layerHeads[l]!;
      if (heads > 0) {
        let cache: KvCache | undefined;
        if (decode) {
          cache = {
            pastKey: g.input(cacheNames.pastKey(l), 'float32', [dims.batch, heads, past, hd]),
            pastValue: g.input(cacheNames.pastValue(l), 'float32', [dims.batch, heads, past, hd]),
            presentKey: cacheNames.presentKey(l),
            presentValue: cacheNames.presentValue(l),
          };
          caches.push({ cache, heads });
        }
        h = gpt2Attention(ctx, l, heads, h, bias, cache);
      }
      if (config.layerIntermediate[l]! > 0) h = gpt2Ffn(ctx, l, h);
      states.push(h);
    }
    logits = gpt2LmHead(ctx, h);
    logitsDims = [dims.batch, dims.sequence, config.vocabSize];
  }

  g.output(logits, 'float32', logitsDims, ONNX_NAMES.logits);
  for (const { cache, heads } of caches) {
    const presentDims = [dims.batch, heads, dims.total, headDim(config)];
    g.output(cache.presentKey, 'float32', presentDims);
    g.output(cache.presentValue, 'float32', presentDims);
  }
  if (options.hiddenStates) {
    states.forEach((s, i) => {
      g.output(s, 'float32', hiddenDims, ONNX_NAMES.hiddenState(i));
    });
  }
  for (const c of captured) g.output(c.tensor, 'float32', [dims.batch, dims.sequence, c.width], c.name);
  for (const [name, c] of matmulInputs) g.output(c.tensor, 'float32', [dims.batch, dims.sequence, c.width], name);
  const graph = { kind: 'model', mode: decode ? 'decode' : 'full', ...(optimum ? { signature: 'optimum' } : {}) };
  return g.toBytes({ metadata: metadata(config, graph, options.quantize) });
}

/**
 * Builds one module of one layer of `checkpoint` as a standalone graph: `hidden_states` [batch,
 * sequence, hidden] (+ `attention_mask` [batch, sequence|total_sequence] int64 for attention) →
 * `output` [batch, sequence, hidden]; GPT2 decode-mode attention also maps `past_key`/`past_value`
 * [batch, heads, past_sequence, headDim] to `present_key`/`present_value`. The module's subgraph
 * is built by the same function as in `exportModelToOnnx`: for BERT attention that is BertAttention
 * (with its residual and LayerNorm), for BERT FFN intermediate + output (with residual and
 * LayerNorm); for GPT2 x + attn(ln_1(x)) and x + mlp(ln_2(x)); for LLaMA x + attn(input_layernorm(x))
 * (RoPE at positions total − sequence … total − 1; a decode cache of `heads / headsPerGroup` key/value
 * heads) and x + mlp(post_attention_layernorm(x)). With `quantize` its projections are
 * the same INT8 subgraphs as the whole model's; a static export without a range for an input uses a
 * nominal ±8 (block exports are for timing).
 */
export function exportLayerBlock(
  checkpoint: Checkpoint,
  layer: number,
  module: 'attention' | 'ffn',
  options: OnnxExportOptions = {},
): Uint8Array {
  const config = checkpoint.config;
  const what = `exportLayerBlock (${config.modelType} layer ${layer} ${module})`;
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.numLayers)
    throw new OnnxExportError(what, `layer must be in [0, ${config.numLayers}), got ${layer}`);
  const size = module === 'attention' ? config.layerHeads[layer]! : config.layerIntermediate[layer]!;
  if (size === 0) throw new OnnxExportError(what, `the ${module} module of layer ${layer} is removed (size 0)`);
  return buildBlock(checkpoint, layer, module, options, what, config, { kind: module, layer, size });
}

function buildBlock(
  checkpoint: Checkpoint,
  layer: number,
  module: 'attention' | 'ffn',
  options: OnnxExportOptions,
  what: string,
  reportedConfig: ModelConfig,
  graphInfo: Record<string, unknown>,
): Uint8Array {
  const config = checkpoint.config;
  const decode = checkOptions(what, reportedConfig, options);
  checkQuantize(what, options.quantize);
  const int8 = int8Plan(what, options.quantize, 'nominal');
  const projections = int8 ? { int8 } : {};
  const g = new GraphBuilder(`ziplm_${config.modelType}_${module}${decode ? '_decode' : ''}`);
  const init = new Initializers(g, checkpoint.weights, what);
  const hiddenDims = [ONNX_DIMS.batch, ONNX_DIMS.sequence, config.hiddenSize];
  const x = g.input(ONNX_NAMES.blockInput, 'float32', hiddenDims);
  let out: string;
  let cache: KvCache | undefined;
  if (module === 'attention') {
    const heads = config.layerHeads[layer]!;
    const mask = g.input(ONNX_NAMES.attentionMask, 'int64', [ONNX_DIMS.batch, decode ? ONNX_DIMS.total : ONNX_DIMS.sequence]);
    // A decode-mode cache holds every GPT2 head, one key/value head per group for LLaMA.
    const cachedHeads = heads / headsPerGroup(config);
    if (decode && config.modelType !== 'bert') {
      const past = options.pastLength ?? ONNX_DIMS.past;
      const dims = [ONNX_DIMS.batch, cachedHeads, past, headDim(config)];
      cache = {
        pastKey: g.input(ONNX_NAMES.blockPastKey, 'float32', dims),
        pastValue: g.input(ONNX_NAMES.blockPastValue, 'float32', dims),
        presentKey: ONNX_NAMES.blockPresentKey,
        presentValue: ONNX_NAMES.blockPresentValue,
      };
    }
    if (config.modelType === 'bert') {
      out = bertAttention({ g, init, config, ...projections }, layer, heads, x, attentionBias(g, mask));
    } else if (config.modelType === 'llama') {
      const ctx: LlamaContext = { g, init, config, ...projections };
      // Positions total − seq … total − 1 (0 … seq − 1 in full mode), as in the whole model.
      const rope = llamaRope(ctx, trailingPositions(g, x, mask), false);
      out = llamaAttention(ctx, layer, heads, x, attentionBias(g, mask, x), rope, cache);
    } else {
      out = gpt2Attention({ g, init, config, ...projections }, layer, heads, x, attentionBias(g, mask, x), cache);
    }
  } else {
    out =
      config.modelType === 'bert'
        ? bertFfn({ g, init, config, ...projections }, layer, x)
        : config.modelType === 'llama'
          ? llamaFfn({ g, init, config, ...projections }, layer, x)
          : gpt2Ffn({ g, init, config, ...projections }, layer, x);
  }
  g.output(out, 'float32', hiddenDims, ONNX_NAMES.blockOutput);
  if (cache) {
    const dims = [ONNX_DIMS.batch, config.layerHeads[layer]! / headsPerGroup(config), ONNX_DIMS.total, headDim(config)];
    g.output(cache.presentKey, 'float32', dims);
    g.output(cache.presentValue, 'float32', dims);
  }
  return g.toBytes({ metadata: metadata(reportedConfig, { ...graphInfo, mode: decode ? 'decode' : 'full' }, options.quantize) });
}

/**
 * A config holding one layer with the given module sizes and no embedding tables to speak of
 * (vocabulary and positions of 1), so random block weights cost only the block's own parameters.
 */
function blockConfig(config: ModelConfig, heads: number, neurons: number): ModelConfig {
  const base = { ...config, numLayers: 1, layerHeads: [heads], layerIntermediate: [neurons], vocabSize: 1, maxPositions: 1 };
  // DistilBERT keeps its 0 token types (its variant requires them), BERT gets a one-row table.
  if (config.modelType === 'bert')
    return { ...(base as BertConfig), typeVocabSize: hasTokenTypes(config) ? 1 : 0, padTokenId: 0, head: { type: 'none' } };
  if (config.modelType === 'llama') {
    // Token ids must fit the one-token vocabulary: no end-of-sequence list, no padding id.
    const { eosTokenIds: _eos, padTokenId: _pad, ...llama } = base as LlamaConfig;
    return { ...llama, bosTokenId: 0, eosTokenId: 0 };
  }
  return { ...(base as Gpt2Config), bosTokenId: 0, eosTokenId: 0 };
}

/**
 * An attention block with `heads` heads at the model's hidden size and random weights (seeded), for
 * the latency table: the exact subgraph `exportModelToOnnx` emits for a layer with that head count
 * (see `exportLayerBlock` for inputs and outputs).
 */
export function exportAttentionBlock(config: ModelConfig, heads: number, options: BlockExportOptions = {}): Uint8Array {
  const what = `exportAttentionBlock (${config.modelType}, ${heads} heads)`;
  if (!Number.isInteger(heads) || heads < 1 || heads > config.numHeads)
    throw new OnnxExportError(what, `heads must be an integer in [1, ${config.numHeads}], got ${heads}`);
  const group = headsPerGroup(config);
  if (heads % group !== 0)
    throw new OnnxExportError(
      what,
      `heads must be a multiple of the ${group} query heads of one key/value group (LLaMA prunes whole groups)`,
    );
  const checkpoint = randomCheckpoint(blockConfig(config, heads, 0), { seed: options.seed ?? 0 });
  return buildBlock(checkpoint, 0, 'attention', options, what, config, { kind: 'attention', size: heads });
}

/** An FFN block with `neurons` neurons at the model's hidden size and random weights (seeded); see `exportAttentionBlock`. */
export function exportFfnBlock(config: ModelConfig, neurons: number, options: BlockExportOptions = {}): Uint8Array {
  const what = `exportFfnBlock (${config.modelType}, ${neurons} neurons)`;
  if (!Number.isInteger(neurons) || neurons < 1) throw new OnnxExportError(what, `neurons must be a positive integer, got ${neurons}`);
  const checkpoint = randomCheckpoint(blockConfig(config, 0, neurons), { seed: options.seed ?? 0 });
  return buildBlock(checkpoint, 0, 'ffn', options, what, config, { kind: 'ffn', size: neurons });
}
