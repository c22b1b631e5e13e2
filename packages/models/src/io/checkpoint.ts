// Hugging Face checkpoint directories: config.json + model.safetensors (+ tokenizer files).
//
// Loading maps every stored name to ziplm's canonical name (`canonicalName`), requires every tensor
// of `expectedShapes(config)` with exactly its shape, and rejects stored transformer-layer tensors
// the config does not expect (e.g. a pruned config over dense weights). GPT2's `lm_head.weight` is a
// parameter when config.json says `tie_word_embeddings: false`; in a tied checkpoint (Hugging Face writes
// none) a stored copy is accepted only when it equals `transformer.wte.weight`, because the model will use
// wte and a different head would be silently dropped. Saving writes the config
// (per-layer shapes in its `ziplm` block) and the weights in the `expectedShapes` order, each file
// atomically, so that load(save(x)) gives x back bit for bit.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@ziplm/core/node';
import type { ModelConfig } from '../config.js';
import { fromHfConfig, tiesWordEmbeddings, toHfConfig } from '../config.js';
import { ConfigError, VocabularyError, WeightsError } from '../errors.js';
import { readTextFile } from '../internal/text-file.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { loadTokenizer } from '../tokenizers/index.js';
import type { Checkpoint, Tensor32, WeightMap } from '../weights.js';
import { GPT2_NAMES, LLAMA_NAMES, canonicalName, expectedShapes, fileName } from '../weights.js';
import type { SafetensorsHeader, SafetensorsWriteDtype } from './safetensors.js';
import { FLOAT_DTYPES, readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors.js';

/** File names of a checkpoint directory. */
export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/** Reads and validates a Hugging Face config.json. @throws ConfigError naming the file. */
export async function readConfigFile(file: string): Promise<ModelConfig> {
  const text = readTextFile(file, { lineBased: false }, (problem, cause) => {
    throw new ConfigError('(file)', problem === 'file not found' ? 'cannot be read: file not found' : problem, file, { cause });
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('(root)', `is not valid JSON (${error instanceof Error ? error.message : String(error)})`, file, {
      cause: error,
    });
  }
  return fromHfConfig(json, file);
}

function listNames(names: string[], max = 4): string {
  const shown = names
    .slice(0, max)
    .map((n) => `"${n}"`)
    .join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/**
 * Refuses a tensor holding NaN or ±Infinity: such weights export and score without complaint (a
 * NaN in one FFN gave 48% accuracy instead of 80%, exit 0), so they are refused where they enter.
 * Costs one pass over the floats: 0.55 to 1.1 ms per MB (100 MiB of float32 on a busy 2-core machine), so
 * 0.2 to 0.45 s for a 400 MB checkpoint, less than reading it from disk (README, "Limits").
 */
export function checkFinite(data: Float32Array, name: string, file: string): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity: one subtraction, no call.
    if (x - x !== 0) {
      throw new WeightsError(file, `tensor "${name}" holds ${x} at flat index ${i}: weights must be finite numbers`);
    }
  }
}

/** Prefixes of per-layer parameters: a stored one the config does not expect means config and weights disagree. */
const LAYER_PREFIX = /^(bert\.encoder\.layer\.\d+\.|transformer\.h\.\d+\.|model\.layers\.\d+\.)/;

/** The token embedding an LM head is tied to, when the config ties it (GPT2 by default, LLaMA when asked); else undefined. */
function tiedHeadSource(config: ModelConfig): string | undefined {
  if (config.modelType === 'gpt2') return tiesWordEmbeddings(config) ? GPT2_NAMES.tokenEmbeddings : undefined;
  if (config.modelType === 'llama') return config.tieWordEmbeddings === true ? LLAMA_NAMES.tokenEmbeddings : undefined;
  return undefined;
}

/**
 * Checks that a checkpoint holds exactly the tensors its config requires, with the right shapes
 * and element counts. `file` (default: "checkpoint") names the source in errors.
 * @throws WeightsError listing missing, mis-shaped or unexpected tensors.
 */
export function checkCheckpoint(checkpoint: Checkpoint, file = 'checkpoint'): void {
  const expected = expectedShapes(checkpoint.config);
  const missing = [...expected.keys()].filter((n) => !checkpoint.weights.has(n));
  if (missing.length > 0) throw new WeightsError(file, `missing ${missing.length} tensor(s) required by the config: ${listNames(missing)}`);
  for (const [name, shape] of expected) {
    const t = checkpoint.weights.get(name)!;
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new WeightsError(file, `tensor "${name}" has shape [${t.shape.join(', ')}] but the config implies [${shape.join(', ')}]`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (!(t.data instanceof Float32Array) || t.data.length !== size) {
      throw new WeightsError(file, `tensor "${name}" must hold ${size} float32 values, has ${t.data?.length ?? 'none'}`);
    }
  }
  const extra = [...checkpoint.weights.keys()].filter((n) => !expected.has(n));
  if (extra.length > 0) throw new WeightsError(file, `${extra.length} tensor(s) are not part of the config: ${listNames(extra)}`);
}

/**
 * Loads `dir/config.json` and `dir/model.safetensors` into a checkpoint (F32/F16/BF16/F64 weights
 * become float32; names are canonicalised; entries that are not parameters, such as GPT2's mask
 * buffers or BERT's pre-training heads, are skipped).
 * @throws ConfigError for a bad config.json, WeightsError for a bad or mismatching model.safetensors.
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const configFile = join(dir, CONFIG_FILE);
  const weightsFile = join(dir, WEIGHTS_FILE);
  const config = await readConfigFile(configFile);
  let header: SafetensorsHeader;
  try {
    header = await readSafetensorsHeader(weightsFile);
  } catch (error) {
    if (error instanceof WeightsError && error.problem === 'file not found') {
      throw new WeightsError(
        weightsFile,
        'file not found (only single-file safetensors checkpoints are supported; convert pytorch_model.bin or sharded checkpoints first)',
      );
    }
    throw error;
  }
  const expected = expectedShapes(config);
  const stored = new Map<string, string>(); // canonical → stored name
  const unexpected: string[] = [];
  /** The stored name of an `lm_head.weight` next to a tied config: it must equal wte (checked once read). */
  let tiedLmHead: string | undefined;
  for (const entry of header.entries) {
    const canonical = canonicalName(config, entry.name);
    if (canonical === undefined) continue;
    const previous = stored.get(canonical);
    if (previous !== undefined) throw new WeightsError(weightsFile, `tensors "${previous}" and "${entry.name}" both map to "${canonical}"`);
    if (canonical === GPT2_NAMES.lmHead && tiedHeadSource(config) !== undefined) {
      tiedLmHead = entry.name;
      continue;
    }
    if (!expected.has(canonical)) {
      if (LAYER_PREFIX.test(canonical)) unexpected.push(entry.name);
      continue;
    }
    stored.set(canonical, entry.name);
    const shape = expected.get(canonical)!;
    if (entry.shape.length !== shape.length || entry.shape.some((v, i) => v !== shape[i])) {
      throw new WeightsError(
        weightsFile,
        `tensor "${entry.name}" has shape [${entry.shape.join(', ')}] but ${CONFIG_FILE} implies [${shape.join(', ')}]`,
      );
    }
    if (!FLOAT_DTYPES.includes(entry.dtype)) {
      throw new WeightsError(
        weightsFile,
        `tensor "${entry.name}" has dtype ${entry.dtype}; weights must be one of ${FLOAT_DTYPES.join(', ')}`,
      );
    }
  }
  const missing = [...expected.keys()].filter((n) => !stored.has(n));
  if (missing.length > 0) {
    const embedding = config.modelType === 'llama' ? LLAMA_NAMES.tokenEmbeddings : GPT2_NAMES.tokenEmbeddings;
    const untiedHead = missing.includes(GPT2_NAMES.lmHead)
      ? ` (${CONFIG_FILE} sets "tie_word_embeddings": false${config.modelType === 'llama' ? ' or leaves it out' : ''}, so the LM head "${GPT2_NAMES.lmHead}" must be stored; for a head tied to "${embedding}" set it to true)`
      : '';
    throw new WeightsError(
      weightsFile,
      `missing ${missing.length} tensor(s) required by ${CONFIG_FILE}: ${listNames(missing.map((n) => fileName(config, n)))}${untiedHead}`,
    );
  }
  if (unexpected.length > 0) {
    throw new WeightsError(
      weightsFile,
      `${unexpected.length} layer tensor(s) are not expected by ${CONFIG_FILE} (does its per-layer shape match the weights?): ${listNames(unexpected)}`,
    );
  }
  const wanted = new Set(stored.values());
  if (tiedLmHead !== undefined) wanted.add(tiedLmHead);
  const { tensors } = await readSafetensors(weightsFile, { select: (e) => wanted.has(e.name) });
  const weights: WeightMap = new Map();
  for (const [canonical, name] of stored) {
    const tensor = tensors.get(name)!;
    checkFinite(tensor.data, name, weightsFile);
    weights.set(canonical, tensor);
  }
  if (tiedLmHead !== undefined) {
    const source = tiedHeadSource(config)!;
    checkTiedLmHead(tensors.get(tiedLmHead)!, tiedLmHead, weights.get(source)!, source, weightsFile);
  }
  // Keep the expectedShapes order (the order models create variables and files are written in).
  const ordered: WeightMap = new Map();
  for (const name of expected.keys()) ordered.set(name, weights.get(name)!);
  return { config, weights: ordered };
}

/**
 * A tied GPT2 checkpoint may store `lm_head.weight` as a copy of wte (checkpoints converted from
 * pytorch_model.bin do); the model computes its logits with wte, so a head that differs would be silently
 * replaced. It is refused instead, pointing at `tie_word_embeddings: false`.
 */
function checkTiedLmHead(head: Tensor32, name: string, wte: Tensor32, wteName: string, file: string): void {
  const sameShape = head.shape.length === wte.shape.length && head.shape.every((v, i) => v === wte.shape[i]);
  const index = sameShape ? head.data.findIndex((v, i) => v !== wte.data[i]) : -1;
  if (sameShape && index === -1) return;
  const difference = sameShape
    ? `differs from "${wteName}" (first at flat index ${index})`
    : `has shape [${head.shape.join(', ')}], "${wteName}" [${wte.shape.join(', ')}]`;
  throw new WeightsError(
    file,
    `tensor "${name}" ${difference}, but ${CONFIG_FILE} ties the LM head to the token embedding ("tie_word_embeddings"): set "tie_word_embeddings": false to use this LM head, or drop it`,
  );
}

/** What `saveCheckpoint` needs from a tokenizer: writing its vocabulary files. */
export type SavableTokenizer = Pick<Tokenizer, 'save'>;

/** Options of `saveCheckpoint`. */
export interface SaveCheckpointOptions {
  /** Also writes the tokenizer's vocabulary files into the directory. */
  tokenizer?: SavableTokenizer;
  /** Storage dtype of the weights (default F32, which round-trips bit-exactly). */
  dtype?: SafetensorsWriteDtype;
}

/**
 * Writes `dir/model.safetensors`, the tokenizer files (if given) and `dir/config.json` (last, so a
 * directory with a config.json is complete). Each of our files is written atomically.
 * @returns the names of the files written.
 * @throws WeightsError when the weights do not match the config.
 */
export async function saveCheckpoint(dir: string, checkpoint: Checkpoint, options: SaveCheckpointOptions = {}): Promise<string[]> {
  const weightsFile = join(dir, WEIGHTS_FILE);
  checkCheckpoint(checkpoint, weightsFile);
  await mkdir(dir, { recursive: true });
  // Under the model's own file names (DistilBERT's for a DistilBERT config; see weights.ts).
  const ordered = [...expectedShapes(checkpoint.config).keys()].map((n) => [fileName(checkpoint.config, n), checkpoint.weights.get(n)!] as const);
  // Hugging Face transformers refuses safetensors files without format metadata.
  await writeSafetensors(weightsFile, ordered, { metadata: { format: 'pt' }, dtype: options.dtype });
  const written = [WEIGHTS_FILE];
  if (options.tokenizer) written.push(...(await options.tokenizer.save(dir)));
  const json = `${JSON.stringify(toHfConfig(checkpoint.config), null, 2)}\n`;
  await writeFileAtomic(join(dir, CONFIG_FILE), json);
  written.push(CONFIG_FILE);
  return written;
}

/** A checkpoint and its tokenizer. */
export interface ModelDir {
  readonly checkpoint: Checkpoint;
  readonly tokenizer: Tokenizer;
}

/**
 * Loads a whole model directory: config.json, model.safetensors and the tokenizer
 * (vocab.txt / tokenizer.json for BERT, vocab.json + merges.txt for GPT2).
 * @throws ConfigError, WeightsError or VocabularyError naming the offending file.
 */
export async function loadModelDir(dir: string): Promise<ModelDir> {
  const checkpoint = await loadCheckpoint(dir);
  const tokenizer = await loadTokenizer(dir, checkpoint.config.modelType === 'llama' ? 'gpt2' : checkpoint.config.modelType);
  if (tokenizer.vocabSize > checkpoint.config.vocabSize) {
    throw new VocabularyError(
      dir,
      `the tokenizer has ${tokenizer.vocabSize} tokens but ${CONFIG_FILE} vocab_size is ${checkpoint.config.vocabSize}: ids would fall outside the embedding`,
    );
  }
  return { checkpoint, tokenizer };
}
