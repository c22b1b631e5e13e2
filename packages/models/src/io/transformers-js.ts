// A model directory in the transformers.js layout, the one Hugging Face's ONNX exports (Optimum,
// transformers.js' conversion script) publish: config.json, tokenizer.json + tokenizer_config.json and
// onnx/model.onnx (+ onnx/model_quantized.onnx). A user's transformers.js code loads it unchanged:
//
//   env.localModelPath = parent; pipeline('text-classification', name) / AutoModelForCausalLM.from_pretrained(name)
//
// What transformers.js 4.x takes from these files:
// - config.json: `model_type` picks the model class (bert, distilbert, gpt2, llama); `id2label` names the
//   classifier's labels; `transformers.js_config.dtype` is the graph it loads when the caller names none.
//   The layer count only names the cache inputs it looks for (`past_key_values.{0..L-1}.key/value`); the
//   shapes of the empty first-step cache come from the graph's own input metadata (numeric dims as they
//   are, `batch_size` → the batch, any other symbolic dim → 0). So a pruned model with a different number
//   of heads and FFN neurons in every layer needs nothing more: its per-layer shapes live in the graph,
//   and in the `ziplm` block of config.json for ziplm itself.
// - tokenizer.json: the whole tokenizer (the `tokenizers` format); tokenizer_config.json: the tokenizer
//   class (BertTokenizer returns token_type_ids), special tokens, padding side and maximum length.
// - onnx/model.onnx for dtype fp32, onnx/model_quantized.onnx for dtype q8: inputs `input_ids`,
//   `attention_mask` (+ `token_type_ids` for BERT), output `logits`, as Optimum names them (ONNX_NAMES).
//   A decoder's graph is Optimum's decoder-with-past (`transformersJsExportOptions`): `generate()` runs
//   the prompt once with an empty cache and then feeds only the new token with the cache of the step
//   before (`past_key_values.{l}.*` in, `present.{l}.*` out; it feeds back every `present*` output it
//   gets and picks from that only the inputs the graph declares, so a layer whose attention was removed
//   simply has no cache entry), and `position_ids`, which it computes from the attention mask.
// - generation_config.json (decoders, optional): the token ids generation starts, stops and pads with.

import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ATOMIC_TEMP_MARKER, writeFileAtomic } from '@ziplm/core/node';
import type { ModelConfig } from '../config.js';
import { isDecoder, isDistilBert, toHfConfig } from '../config.js';
import { exportModelToOnnx, type ModelExportOptions } from '../onnx/export.js';
import type { OnnxQuantizeOptions } from '../onnx/quantize.js';
import type { Tokenizer, TokenizerConfigJson } from '../tokenizers/types.js';
import type { Checkpoint } from '../weights.js';

/** The files of a transformers.js model directory, relative to it (`/`-separated). */
export const TRANSFORMERS_JS_FILES = {
  config: 'config.json',
  generationConfig: 'generation_config.json',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  /** The FP32 graph (transformers.js dtype `fp32`). */
  model: 'onnx/model.onnx',
  /** The INT8 graph (transformers.js dtype `q8`). */
  quantizedModel: 'onnx/model_quantized.onnx',
} as const;

/** What the writer needs of a tokenizer: its tokenizer.json and tokenizer_config.json. */
export type TransformersJsTokenizer = Pick<Tokenizer, 'tokenizerJson' | 'tokenizerConfig'>;

/**
 * A graph to write: its bytes, or a file already on disk that holds exactly those bytes (`sameBytesAs`),
 * which becomes a hard link so that the bytes are stored once (a copy where the file system cannot link).
 */
export type OnnxGraphSource = Uint8Array | { readonly sameBytesAs: string };

/** Options of `saveTransformersJsModel`. */
export interface TransformersJsModelOptions {
  /**
   * The FP32 graph of `checkpoint` that transformers.js runs (`exportModelToOnnx(checkpoint,
   * transformersJsExportOptions(config))`: over the whole sequence for an encoder, the decoder-with-past
   * graph for a decoder), when the caller has it already; exported here when absent.
   */
  readonly onnx?: OnnxGraphSource;
  /**
   * The INT8 graph of the same model, with the same export options plus `quantize`, written as
   * onnx/model_quantized.onnx. With it, config.json makes INT8 the graph transformers.js loads when the
   * caller names no dtype: it is the model that was measured and shipped.
   */
  readonly quantizedOnnx?: OnnxGraphSource;
  /**
   * Without `quantizedOnnx`: export onnx/model_quantized.onnx here, `exportModelToOnnx(checkpoint,
   * { ...transformersJsExportOptions(config), quantize })` (ignored when `quantizedOnnx` is given).
   */
  readonly quantize?: OnnxQuantizeOptions;
}

/**
 * The export options of the graphs transformers.js runs: the whole-sequence graph for an encoder,
 * Optimum's decoder-with-past graph (`mode: 'decode'`, `signature: 'optimum'`, symbolic cache length; the
 * prompt is the step with a cache of length 0) for a decoder.
 */
export function transformersJsExportOptions(config: ModelConfig): ModelExportOptions {
  return isDecoder(config) ? { mode: 'decode', signature: 'optimum' } : {};
}

/** transformers.js' name of an FP32 or INT8 graph (its `dtype` option). */
export type TransformersJsDtype = 'fp32' | 'q8';

/**
 * The tokenizer class transformers.js instantiates from tokenizer_config.json, by model family. It
 * decides whether token_type_ids are returned (BertTokenizer: yes, DistilBertTokenizer: no, as the
 * DistilBERT graph has no such input) and the padding side (see `paddingSide`).
 */
function tokenizerClass(config: ModelConfig, tokenizer: TokenizerConfigJson): string {
  if (config.modelType === 'bert') return isDistilBert(config) ? 'DistilBertTokenizer' : 'BertTokenizer';
  if (config.modelType === 'gpt2') return 'GPT2Tokenizer';
  // LLaMA checkpoints name their fast tokenizer in many ways (LlamaTokenizer, PreTrainedTokenizerFast,
  // transformers 5's TokenizersBackend); what it does is in tokenizer.json, so the generic class is used.
  return tokenizer.tokenizer_class === 'GPT2Tokenizer' ? 'PreTrainedTokenizer' : tokenizer.tokenizer_class;
}

/**
 * The tokenizer_config.json of the model: the tokenizer's own settings with the class of the model
 * family, the model's maximum length (so that `truncation: true` cuts at the position table's size) and,
 * for decoders, right padding. The decoder graph transformers.js runs takes `position_ids` (computed from
 * the attention mask), so a left-padded batch would be right too; right padding keeps the ids of ziplm's
 * own batches and of the full-sequence graph (positions 0..S-1 in every row), which is right only for a
 * right-padded batch.
 */
export function transformersJsTokenizerConfig(config: ModelConfig, tokenizer: TransformersJsTokenizer): TokenizerConfigJson {
  const own = tokenizer.tokenizerConfig();
  return {
    ...own,
    tokenizer_class: tokenizerClass(config, own),
    model_max_length: config.maxPositions,
    ...(isDecoder(config) ? { padding_side: 'right' } : {}),
  };
}

/**
 * The config.json of the model: `toHfConfig` (Hugging Face fields plus the `ziplm` block with the
 * per-layer shapes of a pruned model) and `transformers.js_config.dtype`, the graph transformers.js loads
 * when the caller names no dtype. Without it a browser would ask for model_quantized.onnx (transformers.js'
 * default on WebAssembly is q8) of a model that has only model.onnx.
 */
export function transformersJsConfig(config: ModelConfig, dtype: TransformersJsDtype): Record<string, unknown> {
  return { ...toHfConfig(config), 'transformers.js_config': { dtype } };
}

/** generation_config.json of a decoder: the special token ids of its config.json, as `save_pretrained` writes them. */
function generationConfig(hfConfig: Record<string, unknown>): Record<string, unknown> {
  const ids = ['bos_token_id', 'eos_token_id', 'pad_token_id'].filter((key) => hfConfig[key] !== undefined && hfConfig[key] !== null);
  return { _from_model_config: true, ...Object.fromEntries(ids.map((key) => [key, hfConfig[key]])) };
}

/**
 * Writes `graph` to `file` atomically: its bytes, or a hard link to the file that holds them (made under a
 * temporary name and renamed, like every atomic write). File systems without hard links (some network and
 * FAT mounts) get a copy.
 */
async function writeGraph(file: string, graph: OnnxGraphSource): Promise<void> {
  if (graph instanceof Uint8Array) return writeFileAtomic(file, graph);
  const tmp = `${file}${ATOMIC_TEMP_MARKER}${randomBytes(6).toString('hex')}`;
  try {
    await link(graph.sameBytesAs, tmp);
  } catch {
    return writeFileAtomic(file, await readFile(graph.sameBytesAs));
  }
  try {
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Writes `checkpoint` and its tokenizer into `dir` (created if needed) in the transformers.js layout
 * (`TRANSFORMERS_JS_FILES`): config.json, generation_config.json (decoders), tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx and, when `options.quantizedOnnx` or `options.quantize` is given,
 * onnx/model_quantized.onnx (see `transformersJsExportOptions` for which graphs). Each file is written atomically; config.json last, so a directory with a
 * config.json is complete. Other files in `dir` (a checkpoint's model.safetensors, vocab.txt, ...) are
 * left alone, except that config.json and tokenizer_config.json are replaced by supersets of what
 * `saveCheckpoint` writes, which ziplm reads back the same.
 * @returns the written files, relative to `dir`, `/`-separated.
 */
export async function saveTransformersJsModel(
  dir: string,
  checkpoint: Checkpoint,
  tokenizer: TransformersJsTokenizer,
  options: TransformersJsModelOptions = {},
): Promise<string[]> {
  const { config } = checkpoint;
  const files = TRANSFORMERS_JS_FILES;
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const written: string[] = [];
  const exportOptions = transformersJsExportOptions(config);
  await writeGraph(join(dir, files.model), options.onnx ?? exportModelToOnnx(checkpoint, exportOptions));
  written.push(files.model);
  const quantized =
    options.quantizedOnnx ??
    (options.quantize ? exportModelToOnnx(checkpoint, { ...exportOptions, quantize: options.quantize }) : undefined);
  if (quantized) {
    await writeGraph(join(dir, files.quantizedModel), quantized);
    written.push(files.quantizedModel);
  }
  await writeFileAtomic(join(dir, files.tokenizer), tokenizer.tokenizerJson());
  await writeFileAtomic(join(dir, files.tokenizerConfig), jsonText(transformersJsTokenizerConfig(config, tokenizer)));
  written.push(files.tokenizer, files.tokenizerConfig);
  const hfConfig = transformersJsConfig(config, quantized ? 'q8' : 'fp32');
  if (isDecoder(config)) {
    await writeFileAtomic(join(dir, files.generationConfig), jsonText(generationConfig(hfConfig)));
    written.push(files.generationConfig);
  }
  await writeFileAtomic(join(dir, files.config), jsonText(hfConfig));
  written.push(files.config);
  return written;
}
