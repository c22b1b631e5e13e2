// Model configs with a shape per layer. Structured pruning leaves the hidden size and the number of
// layers alone but gives every layer its own number of attention heads and FFN size; 0 means the
// module is removed (guide/structured-obs.md). Configs are read from and written to Hugging Face config.json;
// the per-layer shapes and the sequence length a model was trained on live in a documented `ziplm` block
// (see `toHfConfig`).

import { ConfigError } from './errors.js';

/** What sits on top of a BERT encoder. */
export type BertHead =
  /** Bare encoder: logits are the last hidden state. */
  | { readonly type: 'none' }
  /** Sequence classification on the pooled [CLS] state (BertForSequenceClassification). */
  | { readonly type: 'classification'; readonly labels: readonly string[] }
  /** Extractive QA: start and end logits per token (BertForQuestionAnswering). */
  | { readonly type: 'span-qa' };

interface TransformerShape {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  /** Heads of the dense model; fixes the head size `hiddenSize / numHeads`. */
  readonly numHeads: number;
  /** FFN size of the dense model. */
  readonly intermediateSize: number;
  /** Heads kept in each layer (0 = attention module removed). */
  readonly layerHeads: readonly number[];
  /** FFN neurons kept in each layer (0 = FFN module removed). */
  readonly layerIntermediate: readonly number[];
  readonly maxPositions: number;
  readonly layerNormEps: number;
  /** Dropout on hidden states (training only). */
  readonly hiddenDropout: number;
  /** Dropout on attention probabilities (training only). */
  readonly attentionDropout: number;
  /**
   * The longest sequence the model was trained on (tokens, special tokens included), at most `maxPositions`.
   * Calibration, scoring and the latency table default to it: positions past it were never trained, so
   * inputs reaching them are scored on untrained embeddings. Absent for models trained elsewhere.
   */
  readonly maxSequenceLength?: number;
}

/** BERT: post-LayerNorm encoder, exact (erf) GELU, token type embeddings. */
export interface BertConfig extends TransformerShape {
  readonly modelType: 'bert';
  readonly typeVocabSize: number;
  readonly padTokenId: number;
  readonly head: BertHead;
}

/**
 * GPT2: pre-LayerNorm decoder, causal attention, tanh GELU, an LM head tied to the token embedding unless
 * `tieWordEmbeddings` is false. The three optional flags are Hugging Face's GPT2Config fields of the same
 * meaning; each is present only when it differs from Hugging Face's default, so a config that does not
 * set them is the plain GPT2 every earlier version of ziplm ran.
 */
export interface Gpt2Config extends TransformerShape {
  readonly modelType: 'gpt2';
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  /**
   * `tie_word_embeddings`. Absent or true: the logits are LN_f(h)·Wteᵀ and no `lm_head.weight` is stored
   * (Hugging Face's default). false: the checkpoint holds its own `lm_head.weight` [vocab, hidden] and the
   * logits are LN_f(h)·lm_headᵀ.
   */
  readonly tieWordEmbeddings?: boolean;
  /** `scale_attn_weights`. Absent or true: attention scores are divided by sqrt(head size); false: not scaled. */
  readonly scaleAttnWeights?: boolean;
  /**
   * `scale_attn_by_inverse_layer_idx`. true: the attention scores of layer i (from 0) are further divided by
   * i + 1 (the training stabiliser of Stanford CRFM's Mistral GPT2 runs). Absent or false: not.
   */
  readonly scaleAttnByInverseLayerIdx?: boolean;
}

export type ModelConfig = BertConfig | Gpt2Config;

/** Size of one attention head. */
export function headDim(config: ModelConfig): number {
  return config.hiddenSize / config.numHeads;
}

/** Whether a GPT2 config's LM head is the token embedding (`tie_word_embeddings`, true unless set to false). */
export function tiesWordEmbeddings(config: Gpt2Config): boolean {
  return config.tieWordEmbeddings !== false;
}

/**
 * What the attention scores of GPT2 layer `layer` (from 0) are divided by before the softmax: sqrt(head size)
 * unless `scaleAttnWeights` is false, times layer + 1 when `scaleAttnByInverseLayerIdx` is true. Hugging Face
 * folds both into one factor the same way (`scaling = head_dim**-0.5; scaling /= layer_idx + 1`). For a config
 * that sets neither flag this is exactly `Math.sqrt(headDim(config))`, the divisor BERT and plain GPT2 use.
 */
export function gpt2AttentionScoreDivisor(config: Gpt2Config, layer: number): number {
  const byHeadSize = config.scaleAttnWeights === false ? 1 : Math.sqrt(headDim(config));
  return config.scaleAttnByInverseLayerIdx === true ? byHeadSize * (layer + 1) : byHeadSize;
}

/** Whether any layer differs from the dense shape. */
export function isPruned(config: ModelConfig): boolean {
  return config.layerHeads.some((h) => h !== config.numHeads) || config.layerIntermediate.some((m) => m !== config.intermediateSize);
}

type Defaults<T> = { [K in keyof T]?: T[K] };

/** A dense BERT config with HF's defaults for everything not given. */
export function bertConfig(options: Defaults<Omit<BertConfig, 'modelType'>> = {}): BertConfig {
  const numLayers = options.numLayers ?? 12;
  checkInt(numLayers, 'numLayers', 1, undefined, 'numLayers'); // before the per-layer lists are allocated
  const numHeads = options.numHeads ?? 12;
  const intermediateSize = options.intermediateSize ?? 3072;
  const config: BertConfig = {
    modelType: 'bert',
    vocabSize: 30522,
    hiddenSize: 768,
    maxPositions: 512,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    padTokenId: 0,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    head: { type: 'none' },
    ...options,
    numLayers,
    numHeads,
    intermediateSize,
    layerHeads: options.layerHeads ?? new Array<number>(numLayers).fill(numHeads),
    layerIntermediate: options.layerIntermediate ?? new Array<number>(numLayers).fill(intermediateSize),
  };
  validateConfig(config);
  return config;
}

/** A dense GPT2 config with HF's defaults (GPT2-small) for everything not given. */
export function gpt2Config(options: Defaults<Omit<Gpt2Config, 'modelType'>> = {}): Gpt2Config {
  const numLayers = options.numLayers ?? 12;
  checkInt(numLayers, 'numLayers', 1, undefined, 'numLayers'); // before the per-layer lists are allocated
  const numHeads = options.numHeads ?? 12;
  const hiddenSize = options.hiddenSize ?? 768;
  const intermediateSize = options.intermediateSize ?? 4 * hiddenSize;
  const config: Gpt2Config = {
    modelType: 'gpt2',
    vocabSize: 50257,
    maxPositions: 1024,
    layerNormEps: 1e-5,
    bosTokenId: 50256,
    eosTokenId: 50256,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    ...options,
    hiddenSize,
    numLayers,
    numHeads,
    intermediateSize,
    layerHeads: options.layerHeads ?? new Array<number>(numLayers).fill(numHeads),
    layerIntermediate: options.layerIntermediate ?? new Array<number>(numLayers).fill(intermediateSize),
  };
  validateConfig(config);
  return config;
}

/** The same config with new per-layer shapes (validated). */
export function withLayerShapes<C extends ModelConfig>(config: C, layerHeads: readonly number[], layerIntermediate: readonly number[]): C {
  const next = { ...config, layerHeads: [...layerHeads], layerIntermediate: [...layerIntermediate] };
  validateConfig(next);
  return next;
}

/**
 * The largest size a config may declare, per field. A config is read before any weight, and every
 * size in it drives an allocation (per-layer lists, expected tensor shapes, embeddings), so a size
 * past these bounds is refused before anything is allocated: `num_hidden_layers: 1e9` would otherwise
 * fill the heap building per-layer lists. The bounds are well above every published BERT/GPT2
 * variant (GPT-3 175B: 96 layers, hidden 12288, 96 heads, FFN 49152, 50257 tokens, 2048 positions);
 * the weights file must still agree with every size (checked against its header before any tensor
 * is read, see `loadCheckpoint`). Documented in the package README ("Limits").
 */
export const CONFIG_LIMITS = {
  numLayers: 1024,
  hiddenSize: 65_536,
  numHeads: 1024,
  intermediateSize: 262_144,
  vocabSize: 4_194_304,
  maxPositions: 1_048_576,
  typeVocabSize: 1024,
  numLabels: 65_536,
} as const;

/** What a bound of {@link CONFIG_LIMITS} is, for messages. */
const LIMIT_NAMES: Record<keyof typeof CONFIG_LIMITS, string> = {
  numLayers: 'layers',
  hiddenSize: 'the hidden size',
  numHeads: 'attention heads',
  intermediateSize: 'the FFN size',
  vocabSize: 'the vocabulary size',
  maxPositions: 'positions',
  typeVocabSize: 'token types',
  numLabels: 'classification labels',
};

function checkInt(value: unknown, field: string, min: number, file?: string, limit?: keyof typeof CONFIG_LIMITS): void {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new ConfigError(field, `must be an integer, got ${JSON.stringify(value)}`, file);
  if (value < min) throw new ConfigError(field, `must be >= ${min}, got ${value}`, file);
  if (limit !== undefined && value > CONFIG_LIMITS[limit]) {
    throw new ConfigError(field, `must be <= ${CONFIG_LIMITS[limit]} (ziplm's limit on ${LIMIT_NAMES[limit]}), got ${value}`, file);
  }
}

function checkNumber(value: unknown, field: string, min: number, max: number, file?: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConfigError(field, `must be a finite number, got ${JSON.stringify(value)}`, file);
  if (value < min || value > max) throw new ConfigError(field, `must be in [${min}, ${max}], got ${value}`, file);
}

/** A trained sequence length: an integer in [2, maxPositions] (one token predicts nothing and attends to nothing). */
function checkMaxSequenceLength(value: unknown, field: string, maxPositions: number, positionsField: string, file?: string): void {
  checkInt(value, field, 2, file);
  if ((value as number) > maxPositions) throw new ConfigError(field, `must be <= ${positionsField} (${maxPositions}), got ${value}`, file);
}

/** A special token id: an integer in [0, vocabSize). */
function checkTokenId(value: unknown, field: string, vocabSize: number, vocabField: string, file?: string): void {
  checkInt(value, field, 0, file);
  if ((value as number) >= vocabSize) throw new ConfigError(field, `must be < ${vocabField} (${vocabSize}), got ${value}`, file);
}

/**
 * Checks every field; throws a ConfigError naming the first offending field. Field names are the
 * camelCase names of the in-memory config; `fromHfConfig` reports config.json's own names.
 */
export function validateConfig(config: ModelConfig, file?: string): void {
  if (config.modelType !== 'bert' && config.modelType !== 'gpt2') {
    throw new ConfigError(
      'modelType',
      `must be "bert" or "gpt2", got ${JSON.stringify((config as { modelType: unknown }).modelType)}`,
      file,
    );
  }
  checkInt(config.vocabSize, 'vocabSize', 1, file, 'vocabSize');
  checkInt(config.hiddenSize, 'hiddenSize', 1, file, 'hiddenSize');
  checkInt(config.numLayers, 'numLayers', 1, file, 'numLayers');
  checkInt(config.numHeads, 'numHeads', 1, file, 'numHeads');
  checkInt(config.intermediateSize, 'intermediateSize', 1, file, 'intermediateSize');
  checkInt(config.maxPositions, 'maxPositions', 1, file, 'maxPositions');
  if (config.maxSequenceLength !== undefined)
    checkMaxSequenceLength(config.maxSequenceLength, 'maxSequenceLength', config.maxPositions, 'maxPositions', file);
  checkNumber(config.layerNormEps, 'layerNormEps', 0, 1, file);
  checkNumber(config.hiddenDropout, 'hiddenDropout', 0, 1, file);
  checkNumber(config.attentionDropout, 'attentionDropout', 0, 1, file);
  if (config.hiddenSize % config.numHeads !== 0) {
    throw new ConfigError('numHeads', `must divide hiddenSize (${config.hiddenSize}), got ${config.numHeads}`, file);
  }
  // A pruned layer keeps a subset of the dense layer's heads and neurons, so it can never be larger
  // than the dense model (numHeads, intermediateSize also fix the head size and the latency levels).
  for (const [name, list, boundName, max] of [
    ['layerHeads', config.layerHeads, 'numHeads', config.numHeads],
    ['layerIntermediate', config.layerIntermediate, 'intermediateSize', config.intermediateSize],
  ] as const) {
    if (!Array.isArray(list)) throw new ConfigError(name, 'must be an array with one entry per layer', file);
    if (list.length !== config.numLayers)
      throw new ConfigError(name, `must have numLayers (${config.numLayers}) entries, got ${list.length}`, file);
    list.forEach((v, i) => {
      checkInt(v, `${name}[${i}]`, 0, file);
      if (v > max) throw new ConfigError(`${name}[${i}]`, `must be <= ${boundName} (${max}), got ${v}`, file);
    });
  }
  if (config.modelType === 'bert') {
    checkInt(config.typeVocabSize, 'typeVocabSize', 1, file, 'typeVocabSize');
    checkTokenId(config.padTokenId, 'padTokenId', config.vocabSize, 'vocabSize', file);
    const head = config.head as BertHead | undefined;
    if (!head || !['none', 'classification', 'span-qa'].includes(head.type)) {
      throw new ConfigError('head.type', `must be "none", "classification" or "span-qa", got ${JSON.stringify(head?.type)}`, file);
    }
    if (head.type === 'classification') {
      if (!Array.isArray(head.labels) || head.labels.length < 1) throw new ConfigError('head.labels', 'must list at least one label', file);
      checkInt(head.labels.length, 'head.labels.length', 1, file, 'numLabels');
    }
  } else {
    checkTokenId(config.bosTokenId, 'bosTokenId', config.vocabSize, 'vocabSize', file);
    checkTokenId(config.eosTokenId, 'eosTokenId', config.vocabSize, 'vocabSize', file);
    for (const flag of ['tieWordEmbeddings', 'scaleAttnWeights', 'scaleAttnByInverseLayerIdx'] as const) {
      const value: unknown = config[flag];
      if (value !== undefined && typeof value !== 'boolean')
        throw new ConfigError(flag, `must be true or false when given, got ${JSON.stringify(value)}`, file);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Hugging Face config.json
// ---------------------------------------------------------------------------------------------

/** Version of the `ziplm` block written into config.json. */
export const ZIPLM_CONFIG_FORMAT = 1;

/**
 * The `ziplm` block of config.json: what Hugging Face's config has no field for. A pruned model records its
 * per-layer shapes here (HF has no per-layer FFN size); `num_attention_heads` / `n_head` and
 * `intermediate_size` / `n_inner` keep the dense model's values (they fix the head size and the level keys of
 * the latency table). A model trained by ziplm records the length it was trained on. A dense model without a
 * training length has no block.
 */
export interface ZiplmConfigBlock {
  format: number;
  /** Heads kept per layer; 0 = attention removed. Present with `layer_intermediate_sizes`, only when pruned. */
  layer_heads?: number[];
  /** FFN neurons kept per layer; 0 = FFN removed. Present with `layer_heads`, only when pruned. */
  layer_intermediate_sizes?: number[];
  /** The longest sequence the model was trained on (`ModelConfig.maxSequenceLength`), at most the positions. */
  max_sequence_length?: number;
}

type Json = Record<string, unknown>;

function field(json: Json, key: string, file: string | undefined, fallback?: unknown): unknown {
  const v = json[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(key, 'is missing', file);
  }
  return v;
}

function intField(
  json: Json,
  key: string,
  file: string | undefined,
  min: number,
  fallback?: number,
  limit?: keyof typeof CONFIG_LIMITS,
): number {
  const v = field(json, key, file, fallback);
  checkInt(v, key, min, file, limit);
  return v as number;
}

function numField(json: Json, key: string, file: string | undefined, min: number, max: number, fallback?: number): number {
  const v = field(json, key, file, fallback);
  checkNumber(v, key, min, max, file);
  return v as number;
}

function boolField(json: Json, key: string, file: string | undefined, fallback: boolean): boolean {
  const v = field(json, key, file, fallback);
  if (typeof v !== 'boolean') throw new ConfigError(key, `must be true or false, got ${JSON.stringify(v)}`, file);
  return v;
}

/**
 * GPT2's optional flags from config.json, each only when it differs from Hugging Face's default (see
 * `Gpt2Config`). `reorder_and_upcast_attn` is checked to be a boolean and otherwise accepted: it makes
 * Hugging Face compute QKᵀ with the scale folded in and in float32 even under fp16/bf16 autocast; ziplm
 * computes attention in float32 throughout, where the reordering only changes rounding (≈1e-7 relative), so
 * both values give the same model here.
 */
function gpt2Flags(json: Json, file?: string): Pick<Gpt2Config, 'tieWordEmbeddings' | 'scaleAttnWeights' | 'scaleAttnByInverseLayerIdx'> {
  boolField(json, 'reorder_and_upcast_attn', file, false);
  return {
    ...(boolField(json, 'tie_word_embeddings', file, true) ? {} : { tieWordEmbeddings: false }),
    ...(boolField(json, 'scale_attn_weights', file, true) ? {} : { scaleAttnWeights: false }),
    ...(boolField(json, 'scale_attn_by_inverse_layer_idx', file, false) ? { scaleAttnByInverseLayerIdx: true } : {}),
  };
}

/** The dense model's sizes that bound the per-layer lists, with config.json's names for the messages. */
interface DenseBounds {
  readonly numLayers: number;
  readonly numHeads: number;
  /** `num_attention_heads` (BERT) or `n_head` (GPT2). */
  readonly headsField: string;
  readonly intermediate: number;
  /** `intermediate_size` (BERT) or `n_inner` (GPT2; 4·n_embd when null). */
  readonly intermediateField: string;
}

/** config.json's `ziplm` block, checked to be an object of the known format; undefined when absent. */
function ziplmBlock(json: Json, file?: string): Json | undefined {
  const block = json.ziplm;
  if (block === undefined) return undefined;
  if (typeof block !== 'object' || block === null || Array.isArray(block)) throw new ConfigError('ziplm', 'must be an object', file);
  const format = (block as Json).format;
  if (format !== ZIPLM_CONFIG_FORMAT)
    throw new ConfigError('ziplm.format', `must be ${ZIPLM_CONFIG_FORMAT}, got ${JSON.stringify(format)}`, file);
  return block as Json;
}

/** `ziplm.max_sequence_length`, when the block records one: an integer in [2, the positions]. */
function maxSequenceLengthOf(json: Json, maxPositions: number, positionsField: string, file?: string): { maxSequenceLength?: number } {
  const value = ziplmBlock(json, file)?.max_sequence_length;
  if (value === undefined) return {};
  checkMaxSequenceLength(value, 'ziplm.max_sequence_length', maxPositions, positionsField, file);
  return { maxSequenceLength: value as number };
}

function layerShapes(json: Json, bounds: DenseBounds, file?: string): { heads: number[]; ffn: number[] } {
  const { numLayers, numHeads, intermediate } = bounds;
  const block = ziplmBlock(json, file);
  // A dense model's block (its training length only) has neither list; a pruned model's has both.
  if (block === undefined || (block.layer_heads === undefined && block.layer_intermediate_sizes === undefined)) {
    return { heads: new Array<number>(numLayers).fill(numHeads), ffn: new Array<number>(numLayers).fill(intermediate) };
  }
  const heads = block.layer_heads;
  const ffn = block.layer_intermediate_sizes;
  for (const [name, list, what, boundField, max] of [
    ['ziplm.layer_heads', heads, 'head count', bounds.headsField, numHeads],
    ['ziplm.layer_intermediate_sizes', ffn, 'FFN size', bounds.intermediateField, intermediate],
  ] as const) {
    if (!Array.isArray(list)) throw new ConfigError(name, 'must be an array with one entry per layer', file);
    if (list.length !== numLayers) throw new ConfigError(name, `must have one entry per layer (${numLayers}), got ${list.length}`, file);
    list.forEach((v: unknown, i: number) => {
      checkInt(v, `${name}[${i}]`, 0, file);
      if ((v as number) > max)
        throw new ConfigError(`${name}[${i}]`, `must be <= the dense ${what} (${boundField} = ${max}), got ${v}`, file);
    });
  }
  return { heads: heads as number[], ffn: ffn as number[] };
}

function bertHeadFromJson(json: Json, file?: string): BertHead {
  const archs = json.architectures;
  const arch = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : 'BertModel';
  if (arch === 'BertForQuestionAnswering') return { type: 'span-qa' };
  if (arch === 'BertForSequenceClassification') {
    const id2label = json.id2label as Record<string, string> | undefined;
    if (id2label !== undefined) {
      if (typeof id2label !== 'object' || id2label === null) throw new ConfigError('id2label', 'must be an object', file);
      const n = Object.keys(id2label).length;
      const labels: string[] = [];
      for (let i = 0; i < n; i++) {
        const label = id2label[String(i)];
        if (typeof label !== 'string') throw new ConfigError(`id2label.${i}`, 'is missing (ids must be 0..n-1)', file);
        labels.push(label);
      }
      if (labels.length === 0) throw new ConfigError('id2label', 'must list at least one label', file);
      return { type: 'classification', labels };
    }
    const n = intField(json, 'num_labels', file, 1, 2, 'numLabels');
    return { type: 'classification', labels: Array.from({ length: n }, (_, i) => `LABEL_${i}`) };
  }
  if (arch === 'BertModel' || arch === 'BertForPreTraining' || arch === 'BertForMaskedLM') return { type: 'none' };
  throw new ConfigError(
    'architectures[0]',
    `"${arch}" is not supported (BertModel, BertForSequenceClassification, BertForQuestionAnswering)`,
    file,
  );
}

/**
 * Parses a Hugging Face config.json object. Errors name config.json's own field names and `file`.
 */
export function fromHfConfig(json: unknown, file?: string): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError('(root)', 'must be a JSON object', file);
  const j = json as Json;
  const modelType = j.model_type;
  if (modelType === 'bert') {
    const act = field(j, 'hidden_act', file, 'gelu');
    if (act !== 'gelu') throw new ConfigError('hidden_act', `must be "gelu" (exact erf GELU) for BERT, got ${JSON.stringify(act)}`, file);
    const numLayers = intField(j, 'num_hidden_layers', file, 1, undefined, 'numLayers');
    const numHeads = intField(j, 'num_attention_heads', file, 1, undefined, 'numHeads');
    const hiddenSize = intField(j, 'hidden_size', file, 1, undefined, 'hiddenSize');
    if (hiddenSize % numHeads !== 0)
      throw new ConfigError('num_attention_heads', `must divide hidden_size (${hiddenSize}), got ${numHeads}`, file);
    const intermediateSize = intField(j, 'intermediate_size', file, 1, undefined, 'intermediateSize');
    const shapes = layerShapes(
      j,
      { numLayers, numHeads, headsField: 'num_attention_heads', intermediate: intermediateSize, intermediateField: 'intermediate_size' },
      file,
    );
    const vocabSize = intField(j, 'vocab_size', file, 1, undefined, 'vocabSize');
    const maxPositions = intField(j, 'max_position_embeddings', file, 1, 512, 'maxPositions');
    const padTokenId = intField(j, 'pad_token_id', file, 0, 0);
    checkTokenId(padTokenId, 'pad_token_id', vocabSize, 'vocab_size', file);
    const config: BertConfig = {
      modelType: 'bert',
      vocabSize,
      hiddenSize,
      numLayers,
      numHeads,
      intermediateSize,
      layerHeads: shapes.heads,
      layerIntermediate: shapes.ffn,
      maxPositions,
      ...maxSequenceLengthOf(j, maxPositions, 'max_position_embeddings', file),
      typeVocabSize: intField(j, 'type_vocab_size', file, 1, 2, 'typeVocabSize'),
      layerNormEps: numField(j, 'layer_norm_eps', file, 0, 1, 1e-12),
      padTokenId,
      hiddenDropout: numField(j, 'hidden_dropout_prob', file, 0, 1, 0.1),
      attentionDropout: numField(j, 'attention_probs_dropout_prob', file, 0, 1, 0.1),
      head: bertHeadFromJson(j, file),
    };
    validateConfig(config, file);
    return config;
  }
  if (modelType === 'gpt2') {
    const act = field(j, 'activation_function', file, 'gelu_new');
    if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
      throw new ConfigError('activation_function', `must be "gelu_new" (tanh GELU) for GPT2, got ${JSON.stringify(act)}`, file);
    }
    const numLayers = intField(j, 'n_layer', file, 1, undefined, 'numLayers');
    const numHeads = intField(j, 'n_head', file, 1, undefined, 'numHeads');
    const hiddenSize = intField(j, 'n_embd', file, 1, undefined, 'hiddenSize');
    if (hiddenSize % numHeads !== 0) throw new ConfigError('n_head', `must divide n_embd (${hiddenSize}), got ${numHeads}`, file);
    const inner =
      j.n_inner === null || j.n_inner === undefined ? 4 * hiddenSize : intField(j, 'n_inner', file, 1, undefined, 'intermediateSize');
    const shapes = layerShapes(
      j,
      {
        numLayers,
        numHeads,
        headsField: 'n_head',
        intermediate: inner,
        intermediateField: j.n_inner === null || j.n_inner === undefined ? 'n_inner, null: 4·n_embd' : 'n_inner',
      },
      file,
    );
    const vocabSize = intField(j, 'vocab_size', file, 1, undefined, 'vocabSize');
    const maxPositions = intField(j, 'n_positions', file, 1, 1024, 'maxPositions');
    const bosTokenId = intField(j, 'bos_token_id', file, 0, 50256);
    const eosTokenId = intField(j, 'eos_token_id', file, 0, 50256);
    checkTokenId(bosTokenId, 'bos_token_id', vocabSize, 'vocab_size', file);
    checkTokenId(eosTokenId, 'eos_token_id', vocabSize, 'vocab_size', file);
    const config: Gpt2Config = {
      modelType: 'gpt2',
      vocabSize,
      hiddenSize,
      numLayers,
      numHeads,
      intermediateSize: inner,
      layerHeads: shapes.heads,
      layerIntermediate: shapes.ffn,
      maxPositions,
      ...maxSequenceLengthOf(j, maxPositions, 'n_positions', file),
      layerNormEps: numField(j, 'layer_norm_epsilon', file, 0, 1, 1e-5),
      bosTokenId,
      eosTokenId,
      hiddenDropout: numField(j, 'resid_pdrop', file, 0, 1, 0.1),
      attentionDropout: numField(j, 'attn_pdrop', file, 0, 1, 0.1),
      ...gpt2Flags(j, file),
    };
    validateConfig(config, file);
    return config;
  }
  throw new ConfigError('model_type', `must be "bert" or "gpt2", got ${JSON.stringify(modelType)}`, file);
}

/** The `ziplm` block of a config: its per-layer shapes when pruned, its training length when known; else none. */
function toZiplmBlock(config: ModelConfig): ZiplmConfigBlock | undefined {
  const pruned = isPruned(config);
  if (!pruned && config.maxSequenceLength === undefined) return undefined;
  return {
    format: ZIPLM_CONFIG_FORMAT,
    ...(pruned ? { layer_heads: [...config.layerHeads], layer_intermediate_sizes: [...config.layerIntermediate] } : {}),
    ...(config.maxSequenceLength !== undefined ? { max_sequence_length: config.maxSequenceLength } : {}),
  };
}

/** Writes a config as a Hugging Face config.json object (with the `ziplm` block when pruned or its training length is known). */
export function toHfConfig(config: ModelConfig): Json {
  const ziplm = toZiplmBlock(config);
  if (config.modelType === 'bert') {
    const head = config.head;
    const architectures =
      head.type === 'classification'
        ? ['BertForSequenceClassification']
        : head.type === 'span-qa'
          ? ['BertForQuestionAnswering']
          : ['BertModel'];
    const json: Json = {
      architectures,
      model_type: 'bert',
      vocab_size: config.vocabSize,
      hidden_size: config.hiddenSize,
      num_hidden_layers: config.numLayers,
      num_attention_heads: config.numHeads,
      intermediate_size: config.intermediateSize,
      hidden_act: 'gelu',
      hidden_dropout_prob: config.hiddenDropout,
      attention_probs_dropout_prob: config.attentionDropout,
      max_position_embeddings: config.maxPositions,
      type_vocab_size: config.typeVocabSize,
      layer_norm_eps: config.layerNormEps,
      pad_token_id: config.padTokenId,
    };
    if (head.type === 'classification') {
      json.id2label = Object.fromEntries(head.labels.map((l, i) => [String(i), l]));
      json.label2id = Object.fromEntries(head.labels.map((l, i) => [l, i]));
    }
    if (ziplm) json.ziplm = ziplm;
    return json;
  }
  const json: Json = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: config.vocabSize,
    n_embd: config.hiddenSize,
    n_layer: config.numLayers,
    n_head: config.numHeads,
    n_inner: config.intermediateSize,
    n_positions: config.maxPositions,
    activation_function: 'gelu_new',
    layer_norm_epsilon: config.layerNormEps,
    resid_pdrop: config.hiddenDropout,
    embd_pdrop: config.hiddenDropout,
    attn_pdrop: config.attentionDropout,
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenId,
    tie_word_embeddings: tiesWordEmbeddings(config),
  };
  // The attention flags are written only when they differ from Hugging Face's defaults (which every reader
  // of config.json assumes when they are absent), so a plain GPT2's config.json stays as it always was.
  if (config.scaleAttnWeights === false) json.scale_attn_weights = false;
  if (config.scaleAttnByInverseLayerIdx === true) json.scale_attn_by_inverse_layer_idx = true;
  if (ziplm) json.ziplm = ziplm;
  return json;
}
