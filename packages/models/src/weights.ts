// Parameters as plain typed arrays under Hugging Face's names and layouts. This is the currency of
// the whole toolkit: checkpoints load into it, the tfjs models are built from it and dump back to
// it, `shrinkWeights` and the ONNX exporter work on it, and the OBS solver reads and writes it.
//
// Layouts are Hugging Face's own:
// - BERT `nn.Linear.weight` is [out, in] (y = x Wᵀ + b).
// - GPT2 `Conv1D.weight` is [in, out] (y = x W + b); c_attn holds Q|K|V along the output axis.
// - LLaMA `nn.Linear.weight` is [out, in], no biases; q_proj/k_proj/v_proj are separate.
// Canonical names carry the task-model prefix (`bert.` / `transformer.` / `model.`); a bare BertModel,
// GPT2Model or LlamaModel checkpoint (no prefix) is accepted by `canonicalName`. DistilBERT's parameters
// are held under BERT's names (see `BertConfig`) and renamed at the file boundary (`distilBertFileName`).

import type { BertConfig, Gpt2Config, LlamaConfig, ModelConfig } from './config.js';
import { headDim, headsPerGroup, isDistilBert, tiesWordEmbeddings } from './config.js';

/** A dense row-major float32 tensor. */
export interface Tensor32 {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Parameters by canonical Hugging Face name. */
export type WeightMap = Map<string, Tensor32>;

/** A config and its weights: everything needed to run, shrink, save or export a model. */
export interface Checkpoint<C extends ModelConfig = ModelConfig> {
  readonly config: C;
  readonly weights: WeightMap;
}

export function tensor32(shape: readonly number[], data?: Float32Array): Tensor32 {
  const size = shape.reduce((a, b) => a * b, 1);
  const d = data ?? new Float32Array(size);
  if (d.length !== size) throw new RangeError(`tensor32: data has ${d.length} elements, shape [${shape.join(', ')}] needs ${size}`);
  return { shape: [...shape], data: d };
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/** Names of the parameters of one BERT encoder layer. */
export function bertLayerNames(layer: number) {
  const p = `bert.encoder.layer.${layer}`;
  return {
    query: `${p}.attention.self.query`,
    key: `${p}.attention.self.key`,
    value: `${p}.attention.self.value`,
    /** Attention output projection: OBS runs on its input columns (groups of head size). */
    attnOut: `${p}.attention.output.dense`,
    attnNorm: `${p}.attention.output.LayerNorm`,
    /** FC1. */
    ffnIn: `${p}.intermediate.dense`,
    /** FC2: OBS runs on its input columns (one per neuron). */
    ffnOut: `${p}.output.dense`,
    ffnNorm: `${p}.output.LayerNorm`,
  };
}

export const BERT_NAMES = {
  wordEmbeddings: 'bert.embeddings.word_embeddings.weight',
  positionEmbeddings: 'bert.embeddings.position_embeddings.weight',
  tokenTypeEmbeddings: 'bert.embeddings.token_type_embeddings.weight',
  embeddingsNorm: 'bert.embeddings.LayerNorm',
  pooler: 'bert.pooler.dense',
  classifier: 'classifier',
  qaOutputs: 'qa_outputs',
} as const;

/** Names of the parameters of one GPT2 block. */
export function gpt2LayerNames(layer: number) {
  const p = `transformer.h.${layer}`;
  return {
    ln1: `${p}.ln_1`,
    /** Conv1D [d, 3·heads·headDim]: Q|K|V along the output axis. */
    qkv: `${p}.attn.c_attn`,
    /** Conv1D [heads·headDim, d]: OBS runs on its input rows (groups of head size). */
    attnOut: `${p}.attn.c_proj`,
    ln2: `${p}.ln_2`,
    /** Conv1D [d, ffn]. */
    ffnIn: `${p}.mlp.c_fc`,
    /** Conv1D [ffn, d]: OBS runs on its input rows (one per neuron). */
    ffnOut: `${p}.mlp.c_proj`,
  };
}

export const GPT2_NAMES = {
  tokenEmbeddings: 'transformer.wte.weight',
  positionEmbeddings: 'transformer.wpe.weight',
  finalNorm: 'transformer.ln_f',
  /**
   * The LM head [vocab, hidden] (nn.Linear, no bias). A parameter of its own only when the config has
   * `tieWordEmbeddings: false`; otherwise it is the token embedding and never stored separately.
   */
  lmHead: 'lm_head.weight',
} as const;

/** Names of the parameters of one LLaMA decoder layer (nn.Linear [out, in], no biases). */
export function llamaLayerNames(layer: number) {
  const p = `model.layers.${layer}`;
  return {
    /** RMSNorm before attention. */
    inputNorm: `${p}.input_layernorm`,
    query: `${p}.self_attn.q_proj`,
    key: `${p}.self_attn.k_proj`,
    value: `${p}.self_attn.v_proj`,
    /** o_proj [hidden, heads·headDim]: OBS runs on its input columns (groups of g·head size, one per key/value group). */
    attnOut: `${p}.self_attn.o_proj`,
    /** RMSNorm before the FFN. */
    postAttentionNorm: `${p}.post_attention_layernorm`,
    gate: `${p}.mlp.gate_proj`,
    up: `${p}.mlp.up_proj`,
    /** down_proj [hidden, ffn]: OBS runs on its input columns (one per neuron). */
    ffnOut: `${p}.mlp.down_proj`,
  };
}

export const LLAMA_NAMES = {
  tokenEmbeddings: 'model.embed_tokens.weight',
  finalNorm: 'model.norm',
  /** The LM head [vocab, hidden]; absent when the config ties it to the token embedding. */
  lmHead: 'lm_head.weight',
} as const;

/** DistilBERT's file names for BERT's canonical ones, longest prefix first (see `distilBertFileName`). */
const DISTILBERT_RENAMES: ReadonlyArray<readonly [canonical: RegExp, file: string]> = [
  [/^bert\.embeddings\./, 'distilbert.embeddings.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.self\.query\./, 'distilbert.transformer.layer.$1.attention.q_lin.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.self\.key\./, 'distilbert.transformer.layer.$1.attention.k_lin.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.self\.value\./, 'distilbert.transformer.layer.$1.attention.v_lin.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.output\.dense\./, 'distilbert.transformer.layer.$1.attention.out_lin.'],
  [/^bert\.encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\./, 'distilbert.transformer.layer.$1.sa_layer_norm.'],
  [/^bert\.encoder\.layer\.(\d+)\.intermediate\.dense\./, 'distilbert.transformer.layer.$1.ffn.lin1.'],
  [/^bert\.encoder\.layer\.(\d+)\.output\.dense\./, 'distilbert.transformer.layer.$1.ffn.lin2.'],
  [/^bert\.encoder\.layer\.(\d+)\.output\.LayerNorm\./, 'distilbert.transformer.layer.$1.output_layer_norm.'],
  [/^bert\.pooler\.dense\./, 'pre_classifier.'],
];

/** DistilBERT's own name of a parameter held under BERT's canonical name (the name in every DistilBERT file). */
export function distilBertFileName(canonical: string): string {
  for (const [pattern, replacement] of DISTILBERT_RENAMES) if (pattern.test(canonical)) return canonical.replace(pattern, replacement);
  return canonical; // classifier.*, qa_outputs.*
}

/** BERT's canonical name of a DistilBERT file name (the inverse of `distilBertFileName`); undefined for non-parameters. */
function canonicalDistilBertName(name: string): string | undefined {
  // A bare DistilBertModel checkpoint has no `distilbert.` prefix; the MLM head (vocab_*) is not used.
  const n = /^(embeddings|transformer)\./.test(name) ? `distilbert.${name}` : name;
  if (n.startsWith('vocab_') || n.endsWith('position_ids')) return undefined;
  const layer = /^distilbert\.transformer\.layer\.(\d+)\.(.+)$/.exec(n);
  if (layer) {
    const [, l, rest] = layer;
    const p = `bert.encoder.layer.${l}.`;
    const parts: Record<string, string> = {
      'attention.q_lin.': 'attention.self.query.',
      'attention.k_lin.': 'attention.self.key.',
      'attention.v_lin.': 'attention.self.value.',
      'attention.out_lin.': 'attention.output.dense.',
      'sa_layer_norm.': 'attention.output.LayerNorm.',
      'ffn.lin1.': 'intermediate.dense.',
      'ffn.lin2.': 'output.dense.',
      'output_layer_norm.': 'output.LayerNorm.',
    };
    for (const [from, to] of Object.entries(parts)) if (rest!.startsWith(from)) return p + to + rest!.slice(from.length);
    return n;
  }
  if (n.startsWith('distilbert.embeddings.')) return `bert.embeddings.${n.slice('distilbert.embeddings.'.length)}`;
  if (n.startsWith('pre_classifier.')) return `bert.pooler.dense.${n.slice('pre_classifier.'.length)}`;
  return n;
}

/** The name a parameter has in the model's own files: DistilBERT's for a DistilBERT config, the canonical name otherwise. */
export function fileName(config: ModelConfig, canonical: string): string {
  return isDistilBert(config) ? distilBertFileName(canonical) : canonical;
}

/**
 * Maps a Hugging Face checkpoint name to ziplm's canonical name, or returns undefined for entries
 * that are not parameters (GPT2's causal-mask buffers `attn.bias` / `attn.masked_bias`, BERT's
 * `position_ids` buffer, the MLM/NSP heads). GPT2's `lm_head.weight` keeps its name: it is a parameter
 * of an untied config and a copy of `transformer.wte.weight` in a tied one (the loader decides).
 */
export function canonicalName(config: ModelConfig, name: string): string | undefined {
  if (isDistilBert(config)) return canonicalDistilBertName(name);
  if (config.modelType === 'llama') {
    if (name.endsWith('rotary_emb.inv_freq')) return undefined; // a buffer, recomputed from rope_theta
    if (name.startsWith('embed_tokens.') || name.startsWith('layers.') || name.startsWith('norm.')) return `model.${name}`;
    return name;
  }
  if (config.modelType === 'bert') {
    if (name.endsWith('position_ids')) return undefined;
    if (name.startsWith('cls.')) return undefined; // pre-training heads
    let n = name;
    // TF-era checkpoints call LayerNorm parameters gamma/beta.
    n = n.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
    if (n.startsWith('embeddings.') || n.startsWith('encoder.') || n.startsWith('pooler.')) n = `bert.${n}`;
    return n;
  }
  if (/\.attn\.(masked_)?bias$/.test(name)) return undefined;
  if (name.startsWith('wte.') || name.startsWith('wpe.') || name.startsWith('h.') || name.startsWith('ln_f.')) return `transformer.${name}`;
  return name;
}

// ---------------------------------------------------------------------------------------------
// Expected shapes
// ---------------------------------------------------------------------------------------------

/** Every parameter the config requires, with its shape, in a stable order. */
export function expectedShapes(config: ModelConfig): Map<string, number[]> {
  if (config.modelType === 'bert') return bertShapes(config);
  return config.modelType === 'gpt2' ? gpt2Shapes(config) : llamaShapes(config);
}

function bertShapes(c: BertConfig): Map<string, number[]> {
  const d = c.hiddenSize;
  const hd = headDim(c);
  const m = new Map<string, number[]>();
  m.set(BERT_NAMES.wordEmbeddings, [c.vocabSize, d]);
  m.set(BERT_NAMES.positionEmbeddings, [c.maxPositions, d]);
  if (c.typeVocabSize > 0) m.set(BERT_NAMES.tokenTypeEmbeddings, [c.typeVocabSize, d]);
  m.set(`${BERT_NAMES.embeddingsNorm}.weight`, [d]);
  m.set(`${BERT_NAMES.embeddingsNorm}.bias`, [d]);
  for (let l = 0; l < c.numLayers; l++) {
    const n = bertLayerNames(l);
    const a = c.layerHeads[l]! * hd;
    if (a > 0) {
      for (const qkv of [n.query, n.key, n.value]) {
        m.set(`${qkv}.weight`, [a, d]);
        m.set(`${qkv}.bias`, [a]);
      }
      m.set(`${n.attnOut}.weight`, [d, a]);
      m.set(`${n.attnOut}.bias`, [d]);
      m.set(`${n.attnNorm}.weight`, [d]);
      m.set(`${n.attnNorm}.bias`, [d]);
    }
    const f = c.layerIntermediate[l]!;
    if (f > 0) {
      m.set(`${n.ffnIn}.weight`, [f, d]);
      m.set(`${n.ffnIn}.bias`, [f]);
      m.set(`${n.ffnOut}.weight`, [d, f]);
      m.set(`${n.ffnOut}.bias`, [d]);
      m.set(`${n.ffnNorm}.weight`, [d]);
      m.set(`${n.ffnNorm}.bias`, [d]);
    }
  }
  if (c.head.type === 'classification') {
    m.set(`${BERT_NAMES.pooler}.weight`, [d, d]);
    m.set(`${BERT_NAMES.pooler}.bias`, [d]);
    m.set(`${BERT_NAMES.classifier}.weight`, [c.head.labels.length, d]);
    m.set(`${BERT_NAMES.classifier}.bias`, [c.head.labels.length]);
  } else if (c.head.type === 'span-qa') {
    m.set(`${BERT_NAMES.qaOutputs}.weight`, [2, d]);
    m.set(`${BERT_NAMES.qaOutputs}.bias`, [2]);
  }
  return m;
}

function gpt2Shapes(c: Gpt2Config): Map<string, number[]> {
  const d = c.hiddenSize;
  const hd = headDim(c);
  const m = new Map<string, number[]>();
  m.set(GPT2_NAMES.tokenEmbeddings, [c.vocabSize, d]);
  m.set(GPT2_NAMES.positionEmbeddings, [c.maxPositions, d]);
  for (let l = 0; l < c.numLayers; l++) {
    const n = gpt2LayerNames(l);
    const a = c.layerHeads[l]! * hd;
    if (a > 0) {
      m.set(`${n.ln1}.weight`, [d]);
      m.set(`${n.ln1}.bias`, [d]);
      m.set(`${n.qkv}.weight`, [d, 3 * a]);
      m.set(`${n.qkv}.bias`, [3 * a]);
      m.set(`${n.attnOut}.weight`, [a, d]);
      m.set(`${n.attnOut}.bias`, [d]);
    }
    const f = c.layerIntermediate[l]!;
    if (f > 0) {
      m.set(`${n.ln2}.weight`, [d]);
      m.set(`${n.ln2}.bias`, [d]);
      m.set(`${n.ffnIn}.weight`, [d, f]);
      m.set(`${n.ffnIn}.bias`, [f]);
      m.set(`${n.ffnOut}.weight`, [f, d]);
      m.set(`${n.ffnOut}.bias`, [d]);
    }
  }
  m.set(`${GPT2_NAMES.finalNorm}.weight`, [d]);
  m.set(`${GPT2_NAMES.finalNorm}.bias`, [d]);
  // Last, as in Hugging Face's state dict; a tied config has none, so its order and every random
  // checkpoint drawn in this order stay what they were.
  if (!tiesWordEmbeddings(c)) m.set(GPT2_NAMES.lmHead, [c.vocabSize, d]);
  return m;
}

function llamaShapes(c: LlamaConfig): Map<string, number[]> {
  const d = c.hiddenSize;
  const hd = headDim(c);
  const g = headsPerGroup(c);
  const m = new Map<string, number[]>();
  m.set(LLAMA_NAMES.tokenEmbeddings, [c.vocabSize, d]);
  for (let l = 0; l < c.numLayers; l++) {
    const n = llamaLayerNames(l);
    const heads = c.layerHeads[l]!;
    if (heads > 0) {
      m.set(`${n.inputNorm}.weight`, [d]);
      m.set(`${n.query}.weight`, [heads * hd, d]);
      m.set(`${n.key}.weight`, [(heads / g) * hd, d]);
      m.set(`${n.value}.weight`, [(heads / g) * hd, d]);
      m.set(`${n.attnOut}.weight`, [d, heads * hd]);
    }
    const f = c.layerIntermediate[l]!;
    if (f > 0) {
      m.set(`${n.postAttentionNorm}.weight`, [d]);
      m.set(`${n.gate}.weight`, [f, d]);
      m.set(`${n.up}.weight`, [f, d]);
      m.set(`${n.ffnOut}.weight`, [d, f]);
    }
  }
  m.set(`${LLAMA_NAMES.finalNorm}.weight`, [d]);
  if (c.tieWordEmbeddings !== true) m.set(LLAMA_NAMES.lmHead, [c.vocabSize, d]);
  return m;
}

/** Total number of parameters of a config. */
export function parameterCount(config: ModelConfig): number {
  let n = 0;
  for (const shape of expectedShapes(config).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
