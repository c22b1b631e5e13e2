// Training checkpoints: everything a run needs to continue exactly where it stopped.
//
//   <dir>/last/config.json          the student's config (Hugging Face form, `ziplm` block when pruned)
//   <dir>/last/model.safetensors    the student's weights
//   <dir>/last/optimizer.safetensors AdamW moments m.<i>, v.<i> in trainableVariables() order
//   <dir>/last/trainer-state.json   step, epoch, position in the epoch's plan, the Rng state at the epoch's
//                                   start, the run's fingerprint, evaluation history, best result
//
// Writing is atomic and durable at the directory level (`writeDirectoryAtomically`): the new checkpoint is written
// completely into `last.<pid>.tmp`, then `last` is renamed to `last.old`, the temporary directory to `last`,
// and `last.old` is removed. A crash at any point leaves either `last` or `last.old` complete, and the loader
// accepts either. trainer-state.json is written last inside the temporary directory, so its presence marks a
// complete checkpoint. The best evaluated model (`<dir>/best`, a plain model directory) is written the same
// way (`saveBestModel`), and `bestModelDir` finds `best` or, after a crash during its swap, `best.old`.

import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SeededRngState } from '@ziplm/core';
import { writeDirectoryAtomic } from '@ziplm/core/node';
import type { Checkpoint, ModelConfig, Tensor32, Tokenizer } from '@ziplm/models';
import { fromHfConfig, readSafetensors, saveCheckpoint, toHfConfig, writeSafetensors } from '@ziplm/models';
import { TrainingStateError } from './errors.js';
import type { AdamWState } from './optimizer.js';

/** Version of trainer-state.json. */
export const TRAINER_STATE_FORMAT = 1;

/** One evaluation during training. */
export interface EvaluationRecord {
  readonly step: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** The options that define a run; a checkpoint resumes only a run with the same fingerprint. */
export type RunFingerprint = Readonly<Record<string, string | number | boolean>>;

/** Contents of trainer-state.json. */
export interface TrainerState {
  readonly format: number;
  /** Optimizer updates done. */
  readonly step: number;
  readonly totalSteps: number;
  /** Index of the current epoch (0-based). */
  readonly epoch: number;
  /** Batches of the current epoch's plan already trained on. */
  readonly batchInEpoch: number;
  /** SeededRng state at the start of the current epoch, before its plan was drawn. */
  readonly epochRngState: SeededRngState;
  /** Real tokens trained on so far. */
  readonly tokensSeen: number;
  /** Training wall time so far in ms (all sessions). */
  readonly elapsedMs: number;
  readonly fingerprint: RunFingerprint;
  readonly history: readonly EvaluationRecord[];
  readonly best?: EvaluationRecord;
}

/** A complete training checkpoint in memory. */
export interface TrainingCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly optimizer: AdamWState;
  readonly state: TrainerState;
}

const STATE_FILE = 'trainer-state.json';
const MODEL_FILE = 'model.safetensors';
const CONFIG_FILE = 'config.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the directory `<parent>/<name>` atomically: `fill` writes the complete contents into
 * `<name>.<pid>.tmp`, which then replaces `<name>` by two renames (the previous `<name>` goes to `<name>.old`
 * in between and is removed at the end). A crash at any point leaves `<name>` or `<name>.old` complete; a
 * crash inside `fill` leaves only a temporary directory, removed by the next write. Every file is fsynced
 * before the swap and the parent directory after it (@ziplm/core/node's `writeDirectoryAtomic`). Returns
 * the final path.
 */
export async function writeDirectoryAtomically(parent: string, name: string, fill: (tmp: string) => Promise<void>): Promise<string> {
  return writeDirectoryAtomic(join(parent, name), fill);
}

/** Writes `<dir>/last` atomically (see the file comment). */
export async function saveTrainingCheckpoint(dir: string, data: TrainingCheckpoint): Promise<string> {
  return writeDirectoryAtomically(dir, 'last', async (tmp) => {
    await writeFile(join(tmp, CONFIG_FILE), `${JSON.stringify(toHfConfig(data.checkpoint.config), null, 2)}\n`);
    await writeSafetensors(join(tmp, MODEL_FILE), data.checkpoint.weights, { metadata: { format: 'pt' } });
    const moments: Array<[string, Tensor32]> = [];
    data.optimizer.m.forEach((m, i) => {
      moments.push([`m.${i}`, { shape: data.optimizer.shapes[i]!, data: m }]);
    });
    data.optimizer.v.forEach((v, i) => {
      moments.push([`v.${i}`, { shape: data.optimizer.shapes[i]!, data: v }]);
    });
    await writeSafetensors(join(tmp, OPTIMIZER_FILE), moments, {
      metadata: { step: String(data.optimizer.step), count: String(data.optimizer.m.length) },
    });
    // Written last: its presence marks a complete checkpoint.
    await writeFile(join(tmp, STATE_FILE), `${JSON.stringify(data.state, null, 2)}\n`);
  });
}

/**
 * Writes the best evaluated model to `<dir>/best` atomically, as a model directory (`loadCheckpoint`, or
 * `loadModelDir` when a tokenizer is given). Returns the path.
 */
export async function saveBestModel(
  dir: string,
  checkpoint: Checkpoint,
  options: { readonly tokenizer?: Tokenizer } = {},
): Promise<string> {
  return writeDirectoryAtomically(dir, 'best', async (tmp) => {
    await saveCheckpoint(tmp, checkpoint, options.tokenizer ? { tokenizer: options.tokenizer } : {});
  });
}

/**
 * The best model directory of a training run: `<dir>/best`, or `<dir>/best.old` after a crash between the
 * two renames of its swap. Undefined when the run has written no best model.
 */
export async function bestModelDir(dir: string): Promise<string | undefined> {
  for (const name of ['best', 'best.old']) {
    const path = join(dir, name);
    if (await exists(join(path, CONFIG_FILE))) return path;
  }
  return undefined;
}

/**
 * Loads `<dir>/last` (or `<dir>/last.old` after a crash during the swap). Returns undefined when the
 * directory holds no complete checkpoint; throws TrainingStateError naming the file when one is malformed.
 */
export async function loadTrainingCheckpoint(dir: string): Promise<TrainingCheckpoint | undefined> {
  for (const name of ['last', 'last.old']) {
    const path = join(dir, name);
    if (await exists(join(path, STATE_FILE))) return readCheckpointDir(path);
  }
  return undefined;
}

async function readCheckpointDir(path: string): Promise<TrainingCheckpoint> {
  const stateFile = join(path, STATE_FILE);
  const state = parseState(await readJson(stateFile), stateFile);
  const configFile = join(path, CONFIG_FILE);
  const config: ModelConfig = fromHfConfig(await readJson(configFile), configFile);
  const weights = (await readSafetensors(join(path, MODEL_FILE))).tensors;
  const optimizerFile = join(path, OPTIMIZER_FILE);
  const contents = await readSafetensors(optimizerFile);
  const count = Number(contents.metadata.count);
  const step = Number(contents.metadata.step);
  if (!Number.isInteger(count) || count < 0)
    throw new TrainingStateError(optimizerFile, `metadata "count" must be an integer, got ${contents.metadata.count}`);
  if (!Number.isInteger(step) || step < 0)
    throw new TrainingStateError(optimizerFile, `metadata "step" must be an integer, got ${contents.metadata.step}`);
  if (step !== state.step)
    throw new TrainingStateError(optimizerFile, `optimizer step ${step} differs from trainer-state.json step ${state.step}`);
  const m: Float32Array[] = [];
  const v: Float32Array[] = [];
  const shapes: number[][] = [];
  for (let i = 0; i < count; i++) {
    const mi = contents.tensors.get(`m.${i}`);
    const vi = contents.tensors.get(`v.${i}`);
    if (!mi || !vi) throw new TrainingStateError(optimizerFile, `moments of parameter ${i} are missing (m.${i}, v.${i})`);
    m.push(mi.data);
    v.push(vi.data);
    shapes.push([...mi.shape]);
  }
  return { checkpoint: { config, weights }, optimizer: { step, m, v, shapes }, state };
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TrainingStateError(file, `cannot be read (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TrainingStateError(file, `is not valid JSON (${(error as Error).message})`);
  }
}

function parseState(json: unknown, file: string): TrainerState {
  if (typeof json !== 'object' || json === null) throw new TrainingStateError(file, 'must be a JSON object');
  const s = json as Record<string, unknown>;
  if (s.format !== TRAINER_STATE_FORMAT)
    throw new TrainingStateError(file, `format must be ${TRAINER_STATE_FORMAT}, got ${JSON.stringify(s.format)}`);
  for (const key of ['step', 'totalSteps', 'epoch', 'batchInEpoch', 'tokensSeen', 'elapsedMs'] as const) {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new TrainingStateError(file, `"${key}" must be a number >= 0, got ${JSON.stringify(v)}`);
  }
  const rng = s.epochRngState;
  if (!Array.isArray(rng) || rng.length !== 4 || rng.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff)) {
    throw new TrainingStateError(file, `"epochRngState" must be four uint32 numbers, got ${JSON.stringify(rng)}`);
  }
  if (typeof s.fingerprint !== 'object' || s.fingerprint === null) throw new TrainingStateError(file, '"fingerprint" must be an object');
  if (!Array.isArray(s.history)) throw new TrainingStateError(file, '"history" must be an array');
  return json as TrainerState;
}

/**
 * Compares a checkpoint's fingerprint with the current run's; throws naming the first option that differs,
 * because resuming a different run would silently mix two trainings.
 */
export function checkFingerprint(saved: RunFingerprint, current: RunFingerprint, file: string): void {
  const keys = new Set([...Object.keys(saved), ...Object.keys(current)]);
  for (const key of keys) {
    if (saved[key] !== current[key]) {
      throw new TrainingStateError(
        file,
        `was written by a different run: option "${key}" was ${JSON.stringify(saved[key])}, now ${JSON.stringify(current[key])} ` +
          '(use a new checkpoint directory, or resume: false to start over)',
      );
    }
  }
}
