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

/**
 * BERT: post-LayerNorm encoder, exact (erf) GELU, token type embeddings.
 *
 * DistilBERT is the same computation with two differences, so it is a BERT config with `variant:
 * 'distilbert'` rather than a family of its own: it has no token type embeddings (`typeVocabSize` is 0)
 * and its classification head applies ReLU after `pre_classifier` where BERT's pooler applies tanh (both
 * read the first token's hidden state). Its parameters live under BERT's canonical names in memory
 * (`q_lin` is `attention.self.query`, `pre_classifier` is `bert.pooler.dense`, ...) and under DistilBERT's
 * own names in every file (`distilbertFileName`), so the solver, shrink, the tfjs model and the ONNX
 * exporter serve both (guide/models.md).
 */
export interface BertConfig extends TransformerShape {
  readonly modelType: 'bert';
  /** Present only for DistilBERT; absent for BERT. */
  readonly variant?: 'distilbert';
  /** Token types; 0 for DistilBERT, which has none (no `token_type_ids` input). */
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

/**
 * RoPE frequency scaling (`rope_scaling` in config.json): `linear` divides every frequency by `factor`;
 * `llama3` (Llama 3.1 / 3.2) divides the low frequencies by `factor`, keeps the high ones and interpolates
 * between (see `ropeInverseFrequencies`).
 */
export type RopeScaling =
  | { readonly type: 'linear'; readonly factor: number }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositions: number;
    };

/**
 * LLaMA family (LlamaForCausalLM): pre-RMSNorm decoder, rotary position embeddings, SwiGLU FFN
 * (`down(silu(gate(x)) · up(x))`), no biases, grouped-query attention: `numKeyValueHeads` key/value heads,
 * each shared by `numHeads / numKeyValueHeads` query heads. `layerNormEps` is `rms_norm_eps`.
 *
 * Pruning rule for attention (guide/models.md): a layer keeps whole key/value groups, a key/value head
 * together with every query head that shares it, so `layerHeads[l]` (query heads kept) is always a
 * multiple of `headsPerGroup(config)`. A query head alone could be removed from the computation, but the
 * result has groups of different sizes, which no LLaMA config or attention kernel can express and which
 * onnxruntime does not run any faster; a whole group removes its key and value projections too.
 */
export interface LlamaConfig extends TransformerShape {
  readonly modelType: 'llama';
  /** Key/value heads of the dense model (`num_key_value_heads`); divides `numHeads`. */
  readonly numKeyValueHeads: number;
  /** RoPE base (`rope_theta`). */
  readonly ropeTheta: number;
  /** `rope_scaling`; absent = plain RoPE. */
  readonly ropeScaling?: RopeScaling;
  readonly bosTokenId: number;
  /** `eos_token_id`, the first one when config.json lists several (all in `eosTokenIds`). */
  readonly eosTokenId: number;
  /** Every end-of-sequence id when config.json lists more than one (Llama 3 instruct); absent otherwise. */
  readonly eosTokenIds?: readonly number[];
  /** `pad_token_id`, when config.json sets one. */
  readonly padTokenId?: number;
  /** `tie_word_embeddings`: true = the LM head is the token embedding (no `lm_head.weight`); absent = false, LLaMA's default. */
  readonly tieWordEmbeddings?: true;
}

export type ModelConfig = BertConfig | Gpt2Config | LlamaConfig;

/** Size of one attention head. */
export function headDim(config: ModelConfig): number {
  return config.hiddenSize / config.numHeads;
}

/**
 * Query heads that share one key/value head: `numHeads / numKeyValueHeads` for LLaMA (grouped-query
 * attention), 1 for BERT and GPT2. Attention is pruned in units of this many heads (see `LlamaConfig`).
 */
export function headsPerGroup(config: ModelConfig): number {
  return config.modelType === 'llama' ? config.numHeads / config.numKeyValueHeads : 1;
}

/** Whether a model is a causal decoder (GPT2, LLaMA) rather than a bidirectional encoder (BERT, DistilBERT). */
export function isDecoder(config: ModelConfig): config is Gpt2Config | LlamaConfig {
  return config.modelType !== 'bert';
}

/** The family's usual name, for messages and reports: BERT, DistilBERT, GPT2 or LLaMA. */
export function familyName(config: ModelConfig): string {
  if (config.modelType === 'bert') return config.variant === 'distilbert' ? 'DistilBERT' : 'BERT';
  return config.modelType === 'gpt2' ? 'GPT2' : 'LLaMA';
}

/** Whether a BERT config is DistilBERT (no token types, ReLU pre-classifier; see `BertConfig`). */
export function isDistilBert(config: ModelConfig): boolean {
  return config.modelType === 'bert' && config.variant === 'distilbert';
}

/** Whether a model reads `token_type_ids` (BERT; not DistilBERT, GPT2 or LLaMA). */
export function hasTokenTypes(config: ModelConfig): config is BertConfig {
  return config.modelType === 'bert' && config.typeVocabSize > 0;
}

/**
 * RoPE inverse frequencies θ_i = ropeTheta^(−2i/headDim), i < headDim/2, with `ropeScaling` applied as
 * Hugging Face's `ROPE_INIT_FUNCTIONS` do (computed in float64, returned as float32 like torch's buffer).
 */
export function ropeInverseFrequencies(config: LlamaConfig): Float32Array {
  const hd = headDim(config);
  const out = new Float32Array(hd / 2);
  const scaling = config.ropeScaling;
  for (let i = 0; i < hd / 2; i++) {
    // Hugging Face: 1 / base ** (arange(0, dim, 2, dtype=int64).float() / dim), in float32.
    const exponent = Math.fround(Math.fround(2 * i) / hd);
    let f = Math.fround(1 / Math.fround(config.ropeTheta ** exponent));
    if (scaling?.type === 'linear') f = Math.fround(f / scaling.factor);
    else if (scaling?.type === 'llama3') {
      const lowWavelength = scaling.originalMaxPositions / scaling.lowFreqFactor;
      const highWavelength = scaling.originalMaxPositions / scaling.highFreqFactor;
      const wavelength = (2 * Math.PI) / f;
      if (wavelength > lowWavelength) f = f / scaling.factor;
      else if (wavelength >= highWavelength) {
        const smooth =
          (scaling.originalMaxPositions / wavelength - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
        f = (1 - smooth) * (f / scaling.factor) + smooth * f;
      }
      f = Math.fround(f);
    }
    out[i] = f;
  }
  return out;
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

/** The layer sizes of a config-constructor's options: what they give, else the family's defaults; every layer dense unless per-layer lists are given. */
function denseLayers(
  options: Defaults<Pick<TransformerShape, 'numLayers' | 'numHeads' | 'intermediateSize' | 'layerHeads' | 'layerIntermediate'>>,
  defaults: Pick<TransformerShape, 'numLayers' | 'numHeads' | 'intermediateSize'>,
): Pick<TransformerShape, 'numLayers' | 'numHeads' | 'intermediateSize' | 'layerHeads' | 'layerIntermediate'> {
  const numLayers = options.numLayers ?? defaults.numLayers;
  checkInt(numLayers, 'numLayers', 1, undefined, 'numLayers'); // before the per-layer lists are allocated
  const numHeads = options.numHeads ?? defaults.numHeads;
  const intermediateSize = options.intermediateSize ?? defaults.intermediateSize;
  return {
    numLayers,
    numHeads,
    intermediateSize,
    layerHeads: options.layerHeads ?? new Array<number>(numLayers).fill(numHeads),
    layerIntermediate: options.layerIntermediate ?? new Array<number>(numLayers).fill(intermediateSize),
  };
}

/** A dense BERT config with HF's defaults for everything not given. */
export function bertConfig(options: Defaults<Omit<BertConfig, 'modelType'>> = {}): BertConfig {
  const layers = denseLayers(options, { numLayers: 12, numHeads: 12, intermediateSize: 3072 });
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
    ...layers,
  };
  validateConfig(config);
  return config;
}

/** A dense GPT2 config with HF's defaults (GPT2-small) for everything not given. */
export function gpt2Config(options: Defaults<Omit<Gpt2Config, 'modelType'>> = {}): Gpt2Config {
  const hiddenSize = options.hiddenSize ?? 768;
  const layers = denseLayers(options, { numLayers: 12, numHeads: 12, intermediateSize: 4 * hiddenSize });
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
    ...layers,
  };
  validateConfig(config);
  return config;
}

/** A dense DistilBERT config (distilbert-base-uncased's sizes) for everything not given; see `BertConfig`. */
export function distilBertConfig(options: Defaults<Omit<BertConfig, 'modelType' | 'variant' | 'typeVocabSize'>> = {}): BertConfig {
  return bertConfig({ numLayers: 6, ...options, variant: 'distilbert', typeVocabSize: 0 });
}

/** A dense LLaMA config (Llama-3.2-1B's sizes) for everything not given. */
export function llamaConfig(options: Defaults<Omit<LlamaConfig, 'modelType'>> = {}): LlamaConfig {
  const layers = denseLayers(options, { numLayers: 16, numHeads: 32, intermediateSize: 8192 });
  const config: LlamaConfig = {
    modelType: 'llama',
    vocabSize: 128_256,
    hiddenSize: 2048,
    numKeyValueHeads: 8,
    maxPositions: 131_072,
    layerNormEps: 1e-5,
    ropeTheta: 500_000,
    bosTokenId: 128_000,
    eosTokenId: 128_001,
    hiddenDropout: 0,
    attentionDropout: 0,
    ...options,
    ...layers,
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
  if (config.modelType !== 'bert' && config.modelType !== 'gpt2' && config.modelType !== 'llama') {
    throw new ConfigError(
      'modelType',
      `must be "bert", "gpt2" or "llama", got ${JSON.stringify((config as { modelType: unknown }).modelType)}`,
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
    if (config.variant !== undefined && config.variant !== 'distilbert')
      throw new ConfigError('variant', `must be "distilbert" when given, got ${JSON.stringify(config.variant)}`, file);
    if (config.variant === 'distilbert') {
      if (config.typeVocabSize !== 0)
        throw new ConfigError('typeVocabSize', `must be 0 for DistilBERT (it has no token types), got ${config.typeVocabSize}`, file);
    } else checkInt(config.typeVocabSize, 'typeVocabSize', 1, file, 'typeVocabSize');
    checkTokenId(config.padTokenId, 'padTokenId', config.vocabSize, 'vocabSize', file);
    const head = config.head as BertHead | undefined;
    if (!head || !['none', 'classification', 'span-qa'].includes(head.type)) {
      throw new ConfigError('head.type', `must be "none", "classification" or "span-qa", got ${JSON.stringify(head?.type)}`, file);
    }
    if (head.type === 'classification') {
      if (!Array.isArray(head.labels) || head.labels.length < 1) throw new ConfigError('head.labels', 'must list at least one label', file);
      checkInt(head.labels.length, 'head.labels.length', 1, file, 'numLabels');
    }
  } else if (config.modelType === 'llama') {
    validateLlama(config, file);
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

/** The LLaMA-only fields, and the rule that attention keeps whole key/value groups. */
function validateLlama(config: LlamaConfig, file?: string): void {
  checkInt(config.numKeyValueHeads, 'numKeyValueHeads', 1, file, 'numHeads');
  if (config.numHeads % config.numKeyValueHeads !== 0)
    throw new ConfigError('numKeyValueHeads', `must divide numHeads (${config.numHeads}), got ${config.numKeyValueHeads}`, file);
  if (headDim(config) % 2 !== 0)
    throw new ConfigError('numHeads', `must leave an even head size for RoPE, got head size ${headDim(config)}`, file);
  checkNumber(config.ropeTheta, 'ropeTheta', Number.MIN_VALUE, Number.MAX_VALUE, file);
  const scaling = config.ropeScaling;
  if (scaling !== undefined) {
    if (scaling.type !== 'linear' && scaling.type !== 'llama3')
      throw new ConfigError(
        'ropeScaling.type',
        `must be "linear" or "llama3", got ${JSON.stringify((scaling as { type: unknown }).type)}`,
        file,
      );
    checkNumber(scaling.factor, 'ropeScaling.factor', Number.MIN_VALUE, Number.MAX_VALUE, file);
    if (scaling.type === 'llama3') {
      checkNumber(scaling.lowFreqFactor, 'ropeScaling.lowFreqFactor', Number.MIN_VALUE, Number.MAX_VALUE, file);
      checkNumber(scaling.highFreqFactor, 'ropeScaling.highFreqFactor', Number.MIN_VALUE, Number.MAX_VALUE, file);
      if (scaling.highFreqFactor <= scaling.lowFreqFactor)
        throw new ConfigError(
          'ropeScaling.highFreqFactor',
          `must be > lowFreqFactor (${scaling.lowFreqFactor}), got ${scaling.highFreqFactor}`,
          file,
        );
      checkInt(scaling.originalMaxPositions, 'ropeScaling.originalMaxPositions', 1, file, 'maxPositions');
    }
  }
  checkTokenId(config.bosTokenId, 'bosTokenId', config.vocabSize, 'vocabSize', file);
  checkTokenId(config.eosTokenId, 'eosTokenId', config.vocabSize, 'vocabSize', file);
  config.eosTokenIds?.forEach((id, i) => {
    checkTokenId(id, `eosTokenIds[${i}]`, config.vocabSize, 'vocabSize', file);
  });
  if (config.padTokenId !== undefined) checkTokenId(config.padTokenId, 'padTokenId', config.vocabSize, 'vocabSize', file);
  if (config.tieWordEmbeddings !== undefined && config.tieWordEmbeddings !== true)
    throw new ConfigError(
      'tieWordEmbeddings',
      `must be true when given (absent = untied), got ${JSON.stringify(config.tieWordEmbeddings)}`,
      file,
    );
  const group = headsPerGroup(config);
  config.layerHeads.forEach((h, i) => {
    if (h % group !== 0)
      throw new ConfigError(
        `layerHeads[${i}]`,
        `must be a multiple of ${group} (the query heads sharing one key/value head: a layer keeps whole groups), got ${h}`,
        file,
      );
  });
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

/** config.json's own names for the sizes every family has, e.g. `num_hidden_layers` (BERT) or `n_layer` (GPT2). */
interface SizeFields {
  readonly layers: string;
  readonly heads: string;
  readonly hidden: string;
  readonly positions: string;
  /** The positions when config.json leaves them out. */
  readonly defaultPositions: number;
}

/** The sizes every family shares, with the per-layer shapes of the `ziplm` block, checked as read. */
interface SharedSizes {
  readonly numLayers: number;
  readonly numHeads: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly layerHeads: number[];
  readonly layerIntermediate: number[];
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly maxSequenceLength?: number;
}

/**
 * Reads the sizes every family shares under the family's field names (`fields`); `intermediate` reads the FFN
 * size given the hidden size (GPT2's `n_inner` may be null: 4·n_embd) and says which field it came from, for
 * messages. `afterHeads` runs once the head count and hidden size are known (LLaMA's head_dim and key/value heads).
 */
function sharedSizes(
  j: Json,
  fields: SizeFields,
  intermediate: (hiddenSize: number) => { readonly size: number; readonly field: string },
  file?: string,
  afterHeads?: (numHeads: number, hiddenSize: number) => void,
): SharedSizes {
  const numLayers = intField(j, fields.layers, file, 1, undefined, 'numLayers');
  const numHeads = intField(j, fields.heads, file, 1, undefined, 'numHeads');
  const hiddenSize = intField(j, fields.hidden, file, 1, undefined, 'hiddenSize');
  if (hiddenSize % numHeads !== 0)
    throw new ConfigError(fields.heads, `must divide ${fields.hidden} (${hiddenSize}), got ${numHeads}`, file);
  afterHeads?.(numHeads, hiddenSize);
  const ffn = intermediate(hiddenSize);
  const shapes = layerShapes(
    j,
    { numLayers, numHeads, headsField: fields.heads, intermediate: ffn.size, intermediateField: ffn.field },
    file,
  );
  const vocabSize = intField(j, 'vocab_size', file, 1, undefined, 'vocabSize');
  const maxPositions = intField(j, fields.positions, file, 1, fields.defaultPositions, 'maxPositions');
  return {
    numLayers,
    numHeads,
    hiddenSize,
    intermediateSize: ffn.size,
    layerHeads: shapes.heads,
    layerIntermediate: shapes.ffn,
    vocabSize,
    maxPositions,
    ...maxSequenceLengthOf(j, maxPositions, fields.positions, file),
  };
}

/** The FFN size under one config.json field. */
function intermediateField(j: Json, key: string, file?: string): () => { size: number; field: string } {
  return () => ({ size: intField(j, key, file, 1, undefined, 'intermediateSize'), field: key });
}

const BERT_SIZE_FIELDS: SizeFields = {
  layers: 'num_hidden_layers',
  heads: 'num_attention_heads',
  hidden: 'hidden_size',
  positions: 'max_position_embeddings',
  defaultPositions: 512,
};

/**
 * The head of a BERT or DistilBERT config.json, from `architectures[0]` (`prefix` is "Bert" or "DistilBert";
 * a missing list means the bare encoder).
 */
function bertHeadFromJson(json: Json, prefix: 'Bert' | 'DistilBert', file?: string): BertHead {
  const archs = json.architectures;
  const arch = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : `${prefix}Model`;
  if (arch === `${prefix}ForQuestionAnswering`) return { type: 'span-qa' };
  if (arch === `${prefix}ForSequenceClassification`) {
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
  const bare = prefix === 'Bert' ? ['BertModel', 'BertForPreTraining', 'BertForMaskedLM'] : ['DistilBertModel', 'DistilBertForMaskedLM'];
  if (bare.includes(arch)) return { type: 'none' };
  throw new ConfigError(
    'architectures[0]',
    `"${arch}" is not supported (${prefix}Model, ${prefix}ForSequenceClassification, ${prefix}ForQuestionAnswering)`,
    file,
  );
}

/** A DistilBERT config.json (`dim`, `n_layers`, `n_heads`, `hidden_dim`, ...) as a BERT config with `variant: 'distilbert'`. */
function distilBertFromJson(j: Json, file?: string): BertConfig {
  const act = field(j, 'activation', file, 'gelu');
  if (act !== 'gelu')
    throw new ConfigError('activation', `must be "gelu" (exact erf GELU) for DistilBERT, got ${JSON.stringify(act)}`, file);
  const sizes = sharedSizes(
    j,
    { layers: 'n_layers', heads: 'n_heads', hidden: 'dim', positions: 'max_position_embeddings', defaultPositions: 512 },
    intermediateField(j, 'hidden_dim', file),
    file,
  );
  // sinusoidal_pos_embds only changes how Hugging Face initialises the position table; the table itself is
  // stored in the checkpoint either way, so both values load the same model.
  boolField(j, 'sinusoidal_pos_embds', file, false);
  const padTokenId = intField(j, 'pad_token_id', file, 0, 0);
  checkTokenId(padTokenId, 'pad_token_id', sizes.vocabSize, 'vocab_size', file);
  const config: BertConfig = {
    modelType: 'bert',
    variant: 'distilbert',
    ...sizes,
    typeVocabSize: 0,
    // DistilBERT's LayerNorms are nn.LayerNorm(dim, eps=1e-12), fixed in the code, not in the config.
    layerNormEps: 1e-12,
    padTokenId,
    hiddenDropout: numField(j, 'dropout', file, 0, 1, 0.1),
    attentionDropout: numField(j, 'attention_dropout', file, 0, 1, 0.1),
    head: bertHeadFromJson(j, 'DistilBert', file),
  };
  validateConfig(config, file);
  return config;
}

/** An integer token id field that may be a list (Llama 3's `eos_token_id`); the list, or undefined when absent or null. */
function tokenIdList(j: Json, key: string, file?: string): number[] | undefined {
  const v = j[key];
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new ConfigError(key, 'must be a token id or a non-empty list of them', file);
  list.forEach((id, i) => {
    checkInt(id, Array.isArray(v) ? `${key}[${i}]` : key, 0, file);
  });
  return list as number[];
}

/**
 * RoPE settings of a LLaMA config.json: `rope_theta` + `rope_scaling` (transformers 4.x) or
 * `rope_parameters` (transformers 5.x: `rope_theta`, `rope_type` and the scaling fields in one object).
 */
function ropeFromJson(j: Json, file?: string): Pick<LlamaConfig, 'ropeTheta' | 'ropeScaling'> {
  const params = j.rope_parameters;
  let block: Json | undefined;
  let blockField: string;
  let theta: number;
  if (params !== undefined && params !== null) {
    if (typeof params !== 'object' || Array.isArray(params)) throw new ConfigError('rope_parameters', 'must be an object', file);
    block = params as Json;
    blockField = 'rope_parameters';
    theta = numField(
      block,
      'rope_theta',
      file,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      numField(j, 'rope_theta', file, Number.MIN_VALUE, Number.MAX_VALUE, 10000),
    );
  } else {
    theta = numField(j, 'rope_theta', file, Number.MIN_VALUE, Number.MAX_VALUE, 10000);
    const scaling = j.rope_scaling;
    if (scaling !== undefined && scaling !== null && (typeof scaling !== 'object' || Array.isArray(scaling)))
      throw new ConfigError('rope_scaling', 'must be an object or null', file);
    block = (scaling ?? undefined) as Json | undefined;
    blockField = 'rope_scaling';
  }
  if (block === undefined) return { ropeTheta: theta };
  const type = block.rope_type ?? block.type ?? 'default';
  const at = (key: string) => `${blockField}.${key}`;
  const num = (key: string) => {
    const v = block[key];
    checkNumber(v, at(key), Number.MIN_VALUE, Number.MAX_VALUE, file);
    return v as number;
  };
  if (type === 'default') return { ropeTheta: theta };
  if (type === 'linear') return { ropeTheta: theta, ropeScaling: { type: 'linear', factor: num('factor') } };
  if (type === 'llama3') {
    const original = block.original_max_position_embeddings;
    checkInt(original, at('original_max_position_embeddings'), 1, file, 'maxPositions');
    return {
      ropeTheta: theta,
      ropeScaling: {
        type: 'llama3',
        factor: num('factor'),
        lowFreqFactor: num('low_freq_factor'),
        highFreqFactor: num('high_freq_factor'),
        originalMaxPositions: original as number,
      },
    };
  }
  throw new ConfigError(
    at('rope_type'),
    `must be "default", "linear" or "llama3" (the RoPE variants ziplm implements), got ${JSON.stringify(type)}`,
    file,
  );
}

/** A LLaMA config.json (LlamaForCausalLM / LlamaModel). */
function llamaFromJson(j: Json, file?: string): LlamaConfig {
  const archs = j.architectures;
  const arch = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : 'LlamaForCausalLM';
  if (arch !== 'LlamaForCausalLM' && arch !== 'LlamaModel')
    throw new ConfigError('architectures[0]', `"${arch}" is not supported (LlamaForCausalLM, LlamaModel)`, file);
  const act = field(j, 'hidden_act', file, 'silu');
  if (act !== 'silu') throw new ConfigError('hidden_act', `must be "silu" (SwiGLU) for LLaMA, got ${JSON.stringify(act)}`, file);
  for (const key of ['attention_bias', 'mlp_bias'] as const) {
    if (boolField(j, key, file, false)) throw new ConfigError(key, 'must be false: ziplm runs LLaMA projections without biases', file);
  }
  const tp = intField(j, 'pretraining_tp', file, 1, 1);
  if (tp !== 1) throw new ConfigError('pretraining_tp', `must be 1 (only changes how Hugging Face splits the matmuls), got ${tp}`, file);
  let numKeyValueHeads = 0;
  const sizes = sharedSizes(
    j,
    { ...BERT_SIZE_FIELDS, defaultPositions: 2048 },
    intermediateField(j, 'intermediate_size', file),
    file,
    (numHeads, hiddenSize) => {
      if (j.head_dim !== undefined && j.head_dim !== null) {
        const hd = intField(j, 'head_dim', file, 1);
        if (hd !== hiddenSize / numHeads)
          throw new ConfigError(
            'head_dim',
            `must be hidden_size / num_attention_heads (${hiddenSize / numHeads}) for ziplm, got ${hd}`,
            file,
          );
      }
      numKeyValueHeads = intField(j, 'num_key_value_heads', file, 1, numHeads, 'numHeads');
      if (numHeads % numKeyValueHeads !== 0)
        throw new ConfigError('num_key_value_heads', `must divide num_attention_heads (${numHeads}), got ${numKeyValueHeads}`, file);
    },
  );
  const { vocabSize } = sizes;
  const bos = tokenIdList(j, 'bos_token_id', file) ?? [1];
  const eos = tokenIdList(j, 'eos_token_id', file) ?? [2];
  if (bos.length !== 1) throw new ConfigError('bos_token_id', `must be one token id, got ${bos.length}`, file);
  const pad = tokenIdList(j, 'pad_token_id', file);
  if (pad !== undefined && pad.length !== 1) throw new ConfigError('pad_token_id', `must be one token id, got ${pad.length}`, file);
  for (const [key, ids] of [
    ['bos_token_id', bos],
    ['eos_token_id', eos],
    ['pad_token_id', pad ?? []],
  ] as const)
    for (const id of ids) checkTokenId(id, key, vocabSize, 'vocab_size', file);
  const config: LlamaConfig = {
    modelType: 'llama',
    ...sizes,
    numKeyValueHeads,
    layerNormEps: numField(j, 'rms_norm_eps', file, 0, 1, 1e-6),
    hiddenDropout: 0,
    attentionDropout: numField(j, 'attention_dropout', file, 0, 1, 0),
    ...ropeFromJson(j, file),
    bosTokenId: bos[0]!,
    eosTokenId: eos[0]!,
    ...(eos.length > 1 ? { eosTokenIds: eos } : {}),
    ...(pad !== undefined ? { padTokenId: pad[0]! } : {}),
    ...(boolField(j, 'tie_word_embeddings', file, false) ? { tieWordEmbeddings: true as const } : {}),
  };
  validateConfig(config, file);
  return config;
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
    const sizes = sharedSizes(j, BERT_SIZE_FIELDS, intermediateField(j, 'intermediate_size', file), file);
    const padTokenId = intField(j, 'pad_token_id', file, 0, 0);
    checkTokenId(padTokenId, 'pad_token_id', sizes.vocabSize, 'vocab_size', file);
    const config: BertConfig = {
      modelType: 'bert',
      ...sizes,
      typeVocabSize: intField(j, 'type_vocab_size', file, 1, 2, 'typeVocabSize'),
      layerNormEps: numField(j, 'layer_norm_eps', file, 0, 1, 1e-12),
      padTokenId,
      hiddenDropout: numField(j, 'hidden_dropout_prob', file, 0, 1, 0.1),
      attentionDropout: numField(j, 'attention_probs_dropout_prob', file, 0, 1, 0.1),
      head: bertHeadFromJson(j, 'Bert', file),
    };
    validateConfig(config, file);
    return config;
  }
  if (modelType === 'gpt2') {
    const act = field(j, 'activation_function', file, 'gelu_new');
    if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
      throw new ConfigError('activation_function', `must be "gelu_new" (tanh GELU) for GPT2, got ${JSON.stringify(act)}`, file);
    }
    const sizes = sharedSizes(
      j,
      { layers: 'n_layer', heads: 'n_head', hidden: 'n_embd', positions: 'n_positions', defaultPositions: 1024 },
      (hiddenSize) =>
        j.n_inner === null || j.n_inner === undefined
          ? { size: 4 * hiddenSize, field: 'n_inner, null: 4·n_embd' }
          : { size: intField(j, 'n_inner', file, 1, undefined, 'intermediateSize'), field: 'n_inner' },
      file,
    );
    const { vocabSize } = sizes;
    const bosTokenId = intField(j, 'bos_token_id', file, 0, 50256);
    const eosTokenId = intField(j, 'eos_token_id', file, 0, 50256);
    checkTokenId(bosTokenId, 'bos_token_id', vocabSize, 'vocab_size', file);
    checkTokenId(eosTokenId, 'eos_token_id', vocabSize, 'vocab_size', file);
    const config: Gpt2Config = {
      modelType: 'gpt2',
      ...sizes,
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
  if (modelType === 'distilbert') return distilBertFromJson(j, file);
  if (modelType === 'llama') return llamaFromJson(j, file);
  throw new ConfigError('model_type', `must be "bert", "distilbert", "gpt2" or "llama", got ${JSON.stringify(modelType)}`, file);
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
  if (config.modelType === 'llama') {
    const json = llamaToJson(config);
    if (ziplm) json.ziplm = ziplm;
    return json;
  }
  if (config.modelType === 'bert' && config.variant === 'distilbert') {
    const json = distilBertToJson(config);
    if (ziplm) json.ziplm = ziplm;
    return json;
  }
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

function id2label(labels: readonly string[]): Json {
  return {
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  };
}

function distilBertToJson(config: BertConfig): Json {
  const head = config.head;
  const architectures =
    head.type === 'classification'
      ? ['DistilBertForSequenceClassification']
      : head.type === 'span-qa'
        ? ['DistilBertForQuestionAnswering']
        : ['DistilBertModel'];
  return {
    architectures,
    model_type: 'distilbert',
    vocab_size: config.vocabSize,
    dim: config.hiddenSize,
    n_layers: config.numLayers,
    n_heads: config.numHeads,
    hidden_dim: config.intermediateSize,
    activation: 'gelu',
    dropout: config.hiddenDropout,
    attention_dropout: config.attentionDropout,
    max_position_embeddings: config.maxPositions,
    sinusoidal_pos_embds: false,
    pad_token_id: config.padTokenId,
    ...(head.type === 'classification' ? id2label(head.labels) : {}),
  };
}

function llamaToJson(config: LlamaConfig): Json {
  const scaling = config.ropeScaling;
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKeyValueHeads,
    head_dim: headDim(config),
    intermediate_size: config.intermediateSize,
    hidden_act: 'silu',
    max_position_embeddings: config.maxPositions,
    rms_norm_eps: config.layerNormEps,
    attention_bias: false,
    attention_dropout: config.attentionDropout,
    mlp_bias: false,
    pretraining_tp: 1,
    // Written the transformers 4.x way (rope_theta + rope_scaling), which transformers 5 still reads.
    rope_theta: config.ropeTheta,
    rope_scaling:
      scaling === undefined
        ? null
        : scaling.type === 'linear'
          ? { rope_type: 'linear', factor: scaling.factor }
          : {
              rope_type: 'llama3',
              factor: scaling.factor,
              low_freq_factor: scaling.lowFreqFactor,
              high_freq_factor: scaling.highFreqFactor,
              original_max_position_embeddings: scaling.originalMaxPositions,
            },
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenIds ? [...config.eosTokenIds] : config.eosTokenId,
    ...(config.padTokenId !== undefined ? { pad_token_id: config.padTokenId } : {}),
    tie_word_embeddings: config.tieWordEmbeddings === true,
  };
}
