// Hugging Face checkpoint directories: config.json + model.safetensors (+ tokenizer files), or the
// transformers.js / Optimum layout: config.json + onnx/model.onnx (or model.onnx) (+ tokenizer files).
//
// Loading maps every stored name to ziplm's canonical name (`canonicalName`), requires every tensor
// of `expectedShapes(config)` with exactly its shape, and rejects stored transformer-layer tensors
// the config does not expect (e.g. a pruned config over dense weights). GPT2's `lm_head.weight` is a
// parameter when config.json says `tie_word_embeddings: false`; in a tied checkpoint (Hugging Face writes
// none) a stored copy is accepted only when it equals `transformer.wte.weight`, because the model will use
// wte and a different head would be silently dropped. Both file kinds go through that one validation
// (checkpoint-tensors.ts); onnx-checkpoint.ts first maps an ONNX graph's initializers back to those names.
// Saving writes the config (per-layer shapes in its `ziplm` block) and the weights in the `expectedShapes`
// order, each file atomically, so that load(save(x)) gives x back bit for bit.

import { existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@ziplm/core/node';
import type { ModelConfig } from '../config.js';
import { fromHfConfig, toHfConfig } from '../config.js';
import { ConfigError, VocabularyError, WeightsError } from '../errors.js';
import { readTextFile } from '../internal/text-file.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { loadTokenizer } from '../tokenizers/index.js';
import type { Checkpoint } from '../weights.js';
import { expectedShapes, fileName } from '../weights.js';
import { CONFIG_FILE, assembleCheckpoint, listNames, planCheckpointTensors } from './checkpoint-tensors.js';
import { checkpointFromOnnx, ONNX_MODEL_FILE } from './onnx-checkpoint.js';
import type { SafetensorsHeader, SafetensorsWriteDtype } from './safetensors.js';
import { FLOAT_DTYPES, readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors.js';

export { checkFinite } from './checkpoint-tensors.js';
export { CONFIG_FILE, ONNX_MODEL_FILE };
/** The weights file of a Hugging Face checkpoint directory. */
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
        'file not found (only single-file safetensors checkpoints, or an ONNX export onnx/model.onnx in the transformers.js / Optimum layout, are supported; convert pytorch_model.bin or sharded checkpoints first)',
      );
    }
    throw error;
  }
  const plan = planCheckpointTensors(config, header.entries, weightsFile, (entry) => {
    if (!FLOAT_DTYPES.includes(entry.dtype)) {
      throw new WeightsError(
        weightsFile,
        `tensor "${entry.name}" has dtype ${entry.dtype}; weights must be one of ${FLOAT_DTYPES.join(', ')}`,
      );
    }
  });
  const wanted = new Set(plan.stored.values());
  if (plan.tiedLmHead !== undefined) wanted.add(plan.tiedLmHead);
  const { tensors } = await readSafetensors(weightsFile, { select: (e) => wanted.has(e.name) });
  return assembleCheckpoint(config, plan, (name) => tensors.get(name)!, weightsFile);
}

/**
 * The largest ONNX file read: a protobuf message cannot exceed 2 GiB, so a bigger file is not a single-file export
 * (exports over 2 GiB keep their weights in model.onnx_data, which is not supported). Checked before reading.
 */
const MAX_ONNX_FILE_BYTES = 2 ** 31 - 1;

/** Options of `loadOnnxCheckpoint`. */
export interface LoadOnnxCheckpointOptions {
  /** The ONNX file, relative to the directory or absolute (default `onnx/model.onnx`). */
  readonly onnxFile?: string;
}

/**
 * Loads `dir/config.json` and an ONNX export of that model (default `dir/onnx/model.onnx`, the transformers.js /
 * Optimum layout) into a checkpoint: initializers are mapped back to Hugging Face parameters by reading the graph
 * (onnx-checkpoint.ts) and validated as model.safetensors is. A quantized export is refused, naming the fp32 file.
 * @throws ConfigError for a bad config.json, WeightsError naming the ONNX file for everything else.
 */
export async function loadOnnxCheckpoint(dir: string, options: LoadOnnxCheckpointOptions = {}): Promise<Checkpoint> {
  const config = await readConfigFile(join(dir, CONFIG_FILE));
  const file = resolve(dir, options.onnxFile ?? ONNX_MODEL_FILE);
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new WeightsError(file, 'is not a file');
    size = info.size;
  } catch (error) {
    if (error instanceof WeightsError) throw error;
    throw new WeightsError(file, 'file not found', { cause: error });
  }
  if (size > MAX_ONNX_FILE_BYTES) {
    throw new WeightsError(
      file,
      `has ${size} bytes; a single-file ONNX model holds at most ${MAX_ONNX_FILE_BYTES} (external data is not supported)`,
    );
  }
  return checkpointFromOnnx(config, new Uint8Array(await readFile(file)), file);
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
  const ordered = [...expectedShapes(checkpoint.config).keys()].map(
    (n) => [fileName(checkpoint.config, n), checkpoint.weights.get(n)!] as const,
  );
  // Hugging Face transformers refuses safetensors files without format metadata.
  await writeSafetensors(weightsFile, ordered, { metadata: { format: 'pt' }, dtype: options.dtype });
  const written = [WEIGHTS_FILE];
  if (options.tokenizer) written.push(...(await options.tokenizer.save(dir)));
  const json = `${JSON.stringify(toHfConfig(checkpoint.config), null, 2)}\n`;
  await writeFileAtomic(join(dir, CONFIG_FILE), json);
  written.push(CONFIG_FILE);
  return written;
}

/**
 * How a model directory stores its weights, as `detectModelLayout` finds it. Paths are relative to the directory;
 * `description` is a sentence for the user ("transformers.js / Optimum ONNX export (onnx/model.onnx)").
 */
export type ModelLayout =
  | {
      /** A Hugging Face checkpoint: config.json + model.safetensors. */
      readonly kind: 'safetensors';
      readonly weightsFile: string;
      /** An ONNX export beside it, not read: the safetensors weights are preferred (exact, no graph to map back). */
      readonly unusedOnnxFile?: string;
      readonly description: string;
    }
  | {
      /** The transformers.js / Optimum layout: config.json + onnx/model.onnx (or model.onnx at the top). */
      readonly kind: 'onnx';
      readonly onnxFile: string;
      /** Only a quantized export is there (it will be refused, naming the fp32 file to use). */
      readonly quantized: boolean;
      readonly description: string;
    };

/** Full-precision ONNX exports, where transformers.js / Optimum put them first. */
const ONNX_FILES = [ONNX_MODEL_FILE, 'model.onnx'] as const;
/** Quantized exports transformers.js publishes beside (or instead of) the fp32 one. */
const QUANTIZED_ONNX_FILES = ['model_quantized.onnx', 'model_int8.onnx', 'model_uint8.onnx', 'model_q4.onnx', 'model_bnb4.onnx'].flatMap(
  (name) => [join('onnx', name), name],
);

/**
 * Which layout a model directory has: a Hugging Face checkpoint (model.safetensors; preferred when an ONNX export
 * is there too), else a transformers.js / Optimum ONNX export (onnx/model.onnx, then model.onnx; a quantized one
 * only when no fp32 one exists). Undefined when the directory holds none of these files.
 */
export function detectModelLayout(dir: string): ModelLayout | undefined {
  const onnxFile = ONNX_FILES.find((f) => existsSync(join(dir, f)));
  if (existsSync(join(dir, WEIGHTS_FILE))) {
    return {
      kind: 'safetensors',
      weightsFile: WEIGHTS_FILE,
      ...(onnxFile !== undefined ? { unusedOnnxFile: onnxFile } : {}),
      description:
        onnxFile === undefined
          ? `Hugging Face checkpoint (${WEIGHTS_FILE})`
          : `Hugging Face checkpoint (${WEIGHTS_FILE}; preferred over the ONNX export ${onnxFile} beside it)`,
    };
  }
  if (onnxFile !== undefined) {
    return { kind: 'onnx', onnxFile, quantized: false, description: `transformers.js / Optimum ONNX export (${onnxFile})` };
  }
  const quantizedFile = QUANTIZED_ONNX_FILES.find((f) => existsSync(join(dir, f)));
  if (quantizedFile !== undefined) {
    return {
      kind: 'onnx',
      onnxFile: quantizedFile,
      quantized: true,
      description: `transformers.js / Optimum ONNX export (${quantizedFile}, quantized)`,
    };
  }
  return undefined;
}

/** A checkpoint and its tokenizer. */
export interface ModelDir {
  readonly checkpoint: Checkpoint;
  readonly tokenizer: Tokenizer;
  /** Where the weights came from (set by `loadModelDir`). */
  readonly layout?: ModelLayout;
}

/**
 * Loads the checkpoint of a model directory in either layout (`detectModelLayout`): model.safetensors, or the
 * ONNX export of a transformers.js / Optimum directory. No tokenizer is read (see `loadModelDir`).
 * @throws ConfigError or WeightsError naming the offending file.
 */
export async function loadModelCheckpoint(dir: string): Promise<{ checkpoint: Checkpoint; layout: ModelLayout }> {
  // With no weights file at all, the safetensors loader says what is missing, as it always did.
  const layout: ModelLayout = detectModelLayout(dir) ?? {
    kind: 'safetensors',
    weightsFile: WEIGHTS_FILE,
    description: `Hugging Face checkpoint (${WEIGHTS_FILE})`,
  };
  const checkpoint = layout.kind === 'onnx' ? await loadOnnxCheckpoint(dir, { onnxFile: layout.onnxFile }) : await loadCheckpoint(dir);
  return { checkpoint, layout };
}

/**
 * Loads a whole model directory: config.json, the weights (model.safetensors, or an ONNX export in the
 * transformers.js / Optimum layout, see `detectModelLayout`) and the tokenizer (vocab.txt / tokenizer.json for
 * BERT, vocab.json + merges.txt or tokenizer.json for the decoders).
 * @throws ConfigError, WeightsError or VocabularyError naming the offending file.
 */
export async function loadModelDir(dir: string): Promise<ModelDir> {
  const { checkpoint, layout } = await loadModelCheckpoint(dir);
  const tokenizer = await loadTokenizer(dir, checkpoint.config.modelType);
  if (tokenizer.vocabSize > checkpoint.config.vocabSize) {
    throw new VocabularyError(
      dir,
      `the tokenizer has ${tokenizer.vocabSize} tokens but ${CONFIG_FILE} vocab_size is ${checkpoint.config.vocabSize}: ids would fall outside the embedding`,
    );
  }
  return { checkpoint, tokenizer, layout };
}
