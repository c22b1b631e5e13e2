// The one validation path of a checkpoint's stored tensors, whatever file they come from (model.safetensors,
// or the initializers of an ONNX export mapped back to Hugging Face names by onnx-checkpoint.ts):
//
// 1. `planCheckpointTensors` sees names and shapes only, before any data is read or converted: every stored name
//    goes through `canonicalName(config, name)`; non-parameters (buffers, pre-training heads) are skipped; every
//    tensor of `expectedShapes(config)` must be there with exactly its shape; stored transformer-layer tensors the
//    config does not expect are refused (e.g. a pruned config over dense weights); two names mapping to one
//    parameter are refused; an `lm_head.weight` next to a tied config is set aside.
// 2. `assembleCheckpoint` takes the planned tensors' data: each must be finite; a set-aside tied LM head must
//    equal the token embedding it is tied to (the model uses the embedding, so a different head would be
//    silently dropped); the result is in `expectedShapes` order (the order models create variables and files
//    are written in).

import type { ModelConfig } from '../config.js';
import { tiesWordEmbeddings } from '../config.js';
import { WeightsError } from '../errors.js';
import type { Checkpoint, Tensor32, WeightMap } from '../weights.js';
import { GPT2_NAMES, LLAMA_NAMES, canonicalName, expectedShapes, fileName } from '../weights.js';

/** The config file of a checkpoint directory, named in messages about config/weights disagreement. */
export const CONFIG_FILE = 'config.json';

export function listNames(names: readonly string[], max = 4): string {
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

/** A tensor as the file stores it, before its data is read: name (a Hugging Face name) and shape. */
export interface StoredTensorInfo {
  readonly name: string;
  readonly shape: readonly number[];
  /** Where the tensor came from when its name alone does not say (an ONNX initializer), for messages. */
  readonly origin?: string;
}

/** Which stored tensor becomes which parameter: the outcome of `planCheckpointTensors`. */
export interface CheckpointTensorPlan {
  /** Canonical parameter name → stored name, for every tensor of `expectedShapes(config)`. */
  readonly stored: ReadonlyMap<string, string>;
  /** The stored name of an `lm_head.weight` beside a tied config: it must equal the embedding (checked on assembly). */
  readonly tiedLmHead: string | undefined;
}

function describe(entry: StoredTensorInfo): string {
  return entry.origin === undefined ? `"${entry.name}"` : `"${entry.name}" (${entry.origin})`;
}

/**
 * Step 1 of the validation (see the top of this file), on names and shapes only. `checkEntry` is called for each
 * tensor that becomes a parameter, right after its shape is checked (safetensors: its dtype).
 * @throws WeightsError naming `file` for duplicate, mis-shaped, missing or unexpected tensors.
 */
export function planCheckpointTensors<E extends StoredTensorInfo>(
  config: ModelConfig,
  entries: Iterable<E>,
  file: string,
  checkEntry?: (entry: E) => void,
): CheckpointTensorPlan {
  const expected = expectedShapes(config);
  const stored = new Map<string, string>(); // canonical → stored name
  const unexpected: string[] = [];
  let tiedLmHead: string | undefined;
  for (const entry of entries) {
    const canonical = canonicalName(config, entry.name);
    if (canonical === undefined) continue;
    const previous = stored.get(canonical) ?? (canonical === GPT2_NAMES.lmHead ? tiedLmHead : undefined);
    if (previous !== undefined) throw new WeightsError(file, `tensors "${previous}" and "${entry.name}" both map to "${canonical}"`);
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
        file,
        `tensor ${describe(entry)} has shape [${entry.shape.join(', ')}] but ${CONFIG_FILE} implies [${shape.join(', ')}]`,
      );
    }
    checkEntry?.(entry);
  }
  const missing = [...expected.keys()].filter((n) => !stored.has(n));
  if (missing.length > 0) {
    const embedding = config.modelType === 'llama' ? LLAMA_NAMES.tokenEmbeddings : GPT2_NAMES.tokenEmbeddings;
    const untiedHead = missing.includes(GPT2_NAMES.lmHead)
      ? ` (${CONFIG_FILE} sets "tie_word_embeddings": false${config.modelType === 'llama' ? ' or leaves it out' : ''}, so the LM head "${GPT2_NAMES.lmHead}" must be stored; for a head tied to "${embedding}" set it to true)`
      : '';
    throw new WeightsError(
      file,
      `missing ${missing.length} tensor(s) required by ${CONFIG_FILE}: ${listNames(missing.map((n) => fileName(config, n)))}${untiedHead}`,
    );
  }
  if (unexpected.length > 0) {
    throw new WeightsError(
      file,
      `${unexpected.length} layer tensor(s) are not expected by ${CONFIG_FILE} (does its per-layer shape match the weights?): ${listNames(unexpected)}`,
    );
  }
  return { stored, tiedLmHead };
}

/**
 * Step 2 of the validation (see the top of this file): `tensorOf(storedName)` gives the float32 data of each
 * tensor the plan names. @throws WeightsError naming `file` for non-finite values or a tied head that is not the embedding.
 */
export function assembleCheckpoint(
  config: ModelConfig,
  plan: CheckpointTensorPlan,
  tensorOf: (storedName: string) => Tensor32,
  file: string,
): Checkpoint {
  const weights: WeightMap = new Map();
  for (const [canonical, name] of plan.stored) {
    const tensor = tensorOf(name);
    checkFinite(tensor.data, name, file);
    weights.set(canonical, tensor);
  }
  if (plan.tiedLmHead !== undefined) {
    const source = tiedHeadSource(config)!;
    checkTiedLmHead(tensorOf(plan.tiedLmHead), plan.tiedLmHead, weights.get(source)!, source, file);
  }
  // Keep the expectedShapes order (the order models create variables and files are written in).
  const ordered: WeightMap = new Map();
  for (const name of expectedShapes(config).keys()) ordered.set(name, weights.get(name)!);
  return { config, weights: ordered };
}

/**
 * A tied checkpoint may store `lm_head.weight` as a copy of the embedding (checkpoints converted from
 * pytorch_model.bin do; a constant-folded ONNX export stores its transpose); the model computes its logits with
 * the embedding, so a head that differs would be silently replaced. It is refused instead, pointing at
 * `tie_word_embeddings: false`.
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
