// The teacher recipes as library functions: the models this project prunes, trained here from scratch
// (no pretrained BERT/GPT2 weights can be brought onto these machines). `scripts/teacher-*.ts` and
// `ziplm train` are thin wrappers around these two functions.
//
// sst2-bert (trainSst2Teacher):
// 1. WordPiece vocabulary trained by @ziplm/models' trainer on the SST-2 training sentences only.
// 2. BERT (post-LN) with several layers and heads, FFN = 4 × hidden, random init (seeded).
// 3. Task loss only (there is no teacher for the teacher: λ1 = 1, λ2 = λ3 = 0), AdamW, linear warm-up and
//    decay, dropout, gradient clipping 1.0, length-bucketed batches.
// 4. Model selection on glue/sst2/train-holdout.tsv every `evalEvery` updates; the best model is evaluated
//    once on the official dev.tsv (the number the paper reports) and written, with its vocabulary and a
//    results.json, to `outDir`.
//
// wikitext2-gpt2 (trainGpt2Teacher):
// Only wiki.test.raw is available, so it is split deterministically BY ARTICLE (an article starts at a
// top-level heading line " = Title = "): article k goes to the held-out set when k % 10 === 9, to training
// otherwise (`wikiTextArticleSplit` of @ziplm/models, the rule the pipeline scores GPT2 members by). No text
// of a held-out article is seen in training, the vocabulary included.
// 1. Byte-level BPE vocabulary trained by @ziplm/models' trainer on the training articles.
// 2. GPT2 (pre-LN, tied LM head) with several layers and heads, FFN = 4 × hidden, random init (seeded).
// 3. Causal LM loss (Table 7's GPT2 column: λ1 = 1, no distillation) on non-overlapping chunks of `seq`
//    tokens of the training stream (articles joined by <|endoftext|>), AdamW, linear warm-up and decay.
// 4. Model selection on held-out perplexity over fixed-length chunks (guide/paper.md: exp of the mean token
//    NLL); the best model is written with its vocabulary and results.json to `outDir`.
//
// Both resume automatically from `workDir` (the trainer's `last/` and `best/`) when rerun with the same
// options, and write `outDir` atomically.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  bertConfig,
  ByteLevelBpeTokenizer,
  chunkTokenIds,
  createModel,
  DataError,
  dataDir as defaultDataDir,
  findRepoRoot,
  GLUE_TASKS,
  gpt2Config,
  initBackend,
  loadCheckpoint,
  loadModelDir,
  parameterCount,
  randomCheckpoint,
  readGlue,
  readWikiText,
  saveCheckpoint,
  trainByteLevelBpe,
  trainWordPieceVocab,
  WordPieceTokenizer,
  wikiTextArticleSplit,
  buildWordOrderCorpus,
  shrinkWeights,
  WORD_ORDER_DATA_FILES,
  WORD_ORDER_LABELS,
  WORD_ORDER_MAX_TOKENS,
  WORD_ORDER_SPLIT_RULE,
  type Checkpoint,
  type ModelConfig,
  validateConfig,
  WIKITEXT_SPLIT_RULE,
  type BackendPreference,
  type GlueExample,
  type Tokenizer,
} from '@ziplm/models';
import type { TrainingExample } from './batching.js';
import { bestModelDir, writeDirectoryAtomically, type EvaluationRecord } from './checkpoint.js';
import { TrainingConfigError, TrainingStateError, TrainingStoppedError } from './errors.js';
import { type ClassificationMetrics, evaluateClassification, evaluatePerplexity, type PerplexityMetrics } from './evaluate.js';
// The committed teachers these recipes trained ship in @ziplm/teachers, which this package does not depend on (its
// users need not download them); @ziplm/teachers' tests check that its `TeacherName` equals `RecipeName`.
type TeacherName = 'sst2-bert' | 'wikitext2-gpt2' | 'wordorder-bert';
import { type EvaluateFn, type FineTuneOptions, type FineTuneResult, fineTune, type ProgressEvent, type StopReason } from './trainer.js';
import { trainBagOfWordsBaseline } from './baselines.js';

/** The recipes: one per committed teacher. */
export type RecipeName = TeacherName;
export const RECIPES: readonly RecipeName[] = ['sst2-bert', 'wikitext2-gpt2', 'wordorder-bert'];

/** The hyperparameters both recipes share. */
export type TeacherHyperparameters = {
  /** Target vocabulary size of the tokenizer trained on the training text (it may come out smaller). */
  readonly vocabSize: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly batchSize: number;
  readonly epochs: number;
  /** Total optimizer updates; 0 = `epochs` over the training set. */
  readonly maxSteps: number;
  /** Peak learning rate (linear warm-up, then linear decay). */
  readonly lr: number;
  readonly warmupRatio: number;
  readonly weightDecay: number;
  /** Hidden and attention dropout. */
  readonly dropout: number;
  readonly seed: number;
  /** Evaluate (and keep the best model) every this many updates, and after the last. */
  readonly evalEvery: number;
  /** Delete the training state in `workDir` and start over (default: resume). */
  readonly fresh: boolean;
};

export type Sst2TeacherHyperparameters = TeacherHyperparameters & {
  /** Tokens per sentence, [CLS] and [SEP] included (longer sentences are truncated). */
  readonly maxLength: number;
  /** Train on the first N sentences of train.tsv (vocabulary included); 0 = all. */
  readonly maxTrainExamples: number;
};

/** The word-order recipe takes the SST-2 recipe's options (`maxTrainExamples`: the first N training sentences). */
export type WordOrderTeacherHyperparameters = Sst2TeacherHyperparameters;

export type Gpt2TeacherHyperparameters = TeacherHyperparameters & {
  /** Tokens per training and evaluation chunk (also the model's positions). */
  readonly seq: number;
  /** Train on the first N training articles (vocabulary included); 0 = all. */
  readonly maxTrainArticles: number;
};

/** Defaults of the SST-2 recipe: the options the committed `teachers/sst2-bert` was trained with. */
export const SST2_TEACHER_DEFAULTS: Sst2TeacherHyperparameters = Object.freeze({
  vocabSize: 6000,
  hidden: 128,
  layers: 4,
  heads: 4,
  maxLength: 64,
  batchSize: 32,
  epochs: 3,
  maxSteps: 0,
  lr: 3e-4,
  warmupRatio: 0.06,
  weightDecay: 0.01,
  dropout: 0.1,
  seed: 0,
  evalEvery: 500,
  fresh: false,
  maxTrainExamples: 0,
});

/**
 * Defaults of the word-order recipe: the options the committed `teachers/wordorder-bert` was trained with.
 * The same BERT shape as the SST-2 teacher; a larger vocabulary (three sources of text) and more frequent
 * evaluation (fewer, longer updates).
 */
export const WORDORDER_TEACHER_DEFAULTS: WordOrderTeacherHyperparameters = Object.freeze({
  vocabSize: 8000,
  hidden: 128,
  layers: 4,
  heads: 4,
  maxLength: WORD_ORDER_MAX_TOKENS,
  batchSize: 32,
  epochs: 2,
  maxSteps: 0,
  lr: 5e-4,
  warmupRatio: 0.06,
  weightDecay: 0.01,
  dropout: 0.1,
  seed: 0,
  evalEvery: 500,
  fresh: false,
  maxTrainExamples: 0,
});

/** Defaults of the GPT2 recipe: the options the committed `teachers/wikitext2-gpt2` was trained with. */
export const GPT2_TEACHER_DEFAULTS: Gpt2TeacherHyperparameters = Object.freeze({
  vocabSize: 4096,
  hidden: 128,
  layers: 4,
  heads: 4,
  seq: 128,
  batchSize: 16,
  epochs: 3,
  maxSteps: 0,
  lr: 1e-3,
  warmupRatio: 0.05,
  weightDecay: 0.01,
  dropout: 0.1,
  seed: 0,
  evalEvery: 50,
  fresh: false,
  maxTrainArticles: 0,
});

/** Where a recipe runs and writes; everything but `outDir` has a default. */
export interface RecipeLocation {
  /** The model directory to write (config, weights, vocabulary, results.json); replaced atomically. */
  readonly outDir: string;
  /** Resumable training state (default: `<repo>/runs/teachers/<recipe>`, {@link defaultRecipeWorkDir}). */
  readonly workDir?: string;
  /** The data directory (default: `dataDir()` of @ziplm/models, i.e. `$ZIPLM_DATA_DIR` or `../shared/data`). */
  readonly dataDir?: string;
  /** TensorFlow.js backend to train on (default `wasm`, what the committed teachers were trained on). */
  readonly backend?: BackendPreference;
  /** The command recorded as `recipe` in results.json (default: the package script). */
  readonly command?: string;
}

/**
 * How a recipe's training may end before its last update. Patience and the time budget still write the model
 * (the best evaluated one) and record why training stopped in results.json; an abort writes no model and
 * rejects with TrainingStoppedError. Each leaves the training state that the same command resumes from.
 */
export interface TrainingStopOptions {
  /** Early stopping: stop after this many evaluations in a row without a better selection metric. */
  readonly patience?: number;
  /**
   * Time budget of the call in minutes, counted from its start (data preparation included): training stops after
   * the update during which it runs out; the final evaluation and the writing of the model follow.
   */
  readonly maxMinutes?: number;
  /** Aborting it (Ctrl-C, SIGTERM) stops training after the current update and saves the state. */
  readonly signal?: AbortSignal;
}

export type Sst2TeacherOptions = RecipeLocation & TrainingStopOptions & Partial<Sst2TeacherHyperparameters>;
export type Gpt2TeacherOptions = RecipeLocation & TrainingStopOptions & Partial<Gpt2TeacherHyperparameters>;
export type WordOrderTeacherOptions = RecipeLocation & TrainingStopOptions & Partial<WordOrderTeacherHyperparameters>;

/** Callbacks of a recipe run. */
export interface RecipeHooks {
  /** One line of what the recipe is doing (no timestamp, no newline). Nothing is printed without it. */
  readonly log?: (message: string) => void;
  /** The trainer's progress events (steps, evaluations, checkpoints, resume). */
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** What both recipes report (and write to `<outDir>/results.json`). */
export interface TeacherResultsCommon {
  /** The command that reproduces this model. */
  readonly recipe: string;
  /** The hyperparameters the model was trained with. */
  readonly options: Readonly<Record<string, number | boolean>>;
  readonly model: { readonly parameters: number; readonly vocabSize: number };
  /** The tfjs backend training ran on. */
  readonly backend: string;
  readonly steps: number;
  readonly bestStep: number;
  readonly tokensSeen: number;
  /** Why training ended (absent from results written before it was recorded: every update was done). */
  readonly stopReason?: Exclude<StopReason, 'aborted'>;
  readonly history: readonly EvaluationRecord[];
  /** Training wall time of all sessions (evaluation included). */
  readonly trainingWallSeconds: number;
  /** Wall time of this call, data preparation and the final evaluation included. */
  readonly thisSessionWallSeconds: number;
  readonly note: string;
}

export interface Sst2TeacherResults extends TeacherResultsCommon {
  readonly data: {
    readonly train: number;
    readonly holdout: number;
    readonly dev: number;
    readonly meanTrainTokens: number;
    readonly devUnkRate: number;
  };
  readonly metrics: { readonly devAccuracy: number; readonly devLoss: number; readonly holdoutAccuracy: number };
}

/** Held-out accuracy (%) of the teacher and of what it becomes without each kind of structure. */
export interface WordOrderAblation {
  /** The dense teacher. */
  readonly dense: number;
  /** Every attention head of every layer removed (the FFNs kept). */
  readonly noAttention: number;
  /** Every FFN neuron of every layer removed (the attention kept). */
  readonly noFfn: number;
  /** One head per layer (the first) and no FFN neurons: what the SST-2 teacher keeps ~80% with. */
  readonly oneHeadNoFfn: number;
  /** Logistic regression on bags of the same tokens (order ignored), selected on the validation set. */
  readonly bagOfWords: number;
}

/** The testbed criterion of issue 13: structure must matter, and word identity alone must not suffice. */
export interface TestbedCriterion {
  /** dense − noAttention ≥ 10 points. */
  readonly attentionDrop: number;
  /** dense − noFfn ≥ 5 points. */
  readonly ffnDrop: number;
  /** dense − bagOfWords ≥ 5 points. */
  readonly overBagOfWords: number;
  readonly thresholds: { readonly attentionDrop: number; readonly ffnDrop: number; readonly overBagOfWords: number };
  readonly met: boolean;
}

/** The thresholds of {@link TestbedCriterion}, in accuracy points. */
export const TESTBED_THRESHOLDS = Object.freeze({ attentionDrop: 10, ffnDrop: 5, overBagOfWords: 5 });

/** Whether an ablation meets the testbed criterion (a test checks the committed teacher's results.json with it). */
export function testbedCriterion(a: WordOrderAblation): TestbedCriterion {
  const round = (x: number) => Number(x.toFixed(2));
  const attentionDrop = round(a.dense - a.noAttention);
  const ffnDrop = round(a.dense - a.noFfn);
  const overBagOfWords = round(a.dense - a.bagOfWords);
  const t = TESTBED_THRESHOLDS;
  return {
    attentionDrop,
    ffnDrop,
    overBagOfWords,
    thresholds: { ...t },
    met: attentionDrop >= t.attentionDrop && ffnDrop >= t.ffnDrop && overBagOfWords >= t.overBagOfWords,
  };
}

export interface WordOrderTeacherResults extends TeacherResultsCommon {
  readonly data: {
    readonly split: string;
    readonly sentences: Readonly<Record<'train' | 'heldout', Readonly<Record<string, number>>>>;
    readonly train: number;
    readonly validation: number;
    readonly heldout: number;
    readonly meanTrainTokens: number;
    readonly heldoutUnkRate: number;
  };
  readonly metrics: {
    readonly heldoutAccuracy: number;
    readonly heldoutLoss: number;
    readonly validationAccuracy: number;
  };
  /** Held-out accuracy (%) with whole kinds of structure removed, and the bag-of-words baseline. */
  readonly ablation: WordOrderAblation;
  readonly criterion: TestbedCriterion;
}

export interface Gpt2TeacherResults extends TeacherResultsCommon {
  readonly data: {
    readonly articles: number;
    readonly trainArticles: number;
    readonly heldOutArticles: number;
    readonly split: string;
    readonly trainChunks: number;
    readonly heldOutChunks: number;
  };
  readonly metrics: { readonly heldOutPerplexity: number; readonly heldOutLoss: number; readonly heldOutPredictedTokens: number };
}

/** The data files of each recipe, relative to the data directory. */
export const RECIPE_DATA_FILES: Readonly<Record<RecipeName, readonly string[]>> = {
  'sst2-bert': ['glue/sst2/train.tsv', 'glue/sst2/train-holdout.tsv', 'glue/sst2/dev.tsv'],
  'wikitext2-gpt2': ['wikitext-2-raw/wiki.test.raw'],
  'wordorder-bert': [...WORD_ORDER_DATA_FILES],
};

/** Default directory of a recipe's resumable training state: `<repo>/runs/teachers/<name>` (git-ignored). */
export function defaultRecipeWorkDir(name: RecipeName): string {
  return join(findRepoRoot() ?? process.cwd(), 'runs', 'teachers', name);
}

/** @internal The note every recipe's results.json carries about its wall times. */
export const NOTE = 'Wall times measured on a shared 2-core machine while other jobs ran; treat them as indicative.';

// ---- shared steps ------------------------------------------------------------------------------------

interface Prepared<H extends TeacherHyperparameters> {
  readonly h: H;
  readonly outDir: string;
  readonly workDir: string;
  readonly files: string[];
  readonly log: (message: string) => void;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Names of what a training state directory may hold (the trainer's `last`/`best` and their swaps). */
const STATE_ENTRY = /^(last|best)(\.old|\.\d+\.tmp)?$/;

/** @internal Checks the hyperparameters every recipe shares, and those of its own it has; throws TrainingConfigError naming the option. */
export function checkHyperparameters(
  h: TeacherHyperparameters & Partial<Sst2TeacherHyperparameters & Gpt2TeacherHyperparameters & { readonly ffn: number }>,
): void {
  const positiveInts = ['vocabSize', 'hidden', 'layers', 'heads', 'batchSize', 'maxLength', 'seq', 'ffn'] as const;
  for (const key of positiveInts) {
    const v = h[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new TrainingConfigError(key, `must be an integer >= 1, got ${v}`);
  }
  for (const key of ['maxSteps', 'evalEvery', 'seed', 'maxTrainExamples', 'maxTrainArticles'] as const) {
    const v = h[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new TrainingConfigError(key, `must be an integer >= 0, got ${v}`);
  }
  if (!(h.epochs > 0)) throw new TrainingConfigError('epochs', `must be > 0, got ${h.epochs}`);
  if (!(h.lr > 0)) throw new TrainingConfigError('lr', `must be > 0, got ${h.lr}`);
  if (!(h.warmupRatio >= 0 && h.warmupRatio < 1)) throw new TrainingConfigError('warmupRatio', `must be in [0, 1), got ${h.warmupRatio}`);
  if (!(h.weightDecay >= 0)) throw new TrainingConfigError('weightDecay', `must be >= 0, got ${h.weightDecay}`);
  if (!(h.dropout >= 0 && h.dropout < 1)) throw new TrainingConfigError('dropout', `must be in [0, 1), got ${h.dropout}`);
  if (h.hidden % h.heads !== 0) throw new TrainingConfigError('heads', `must divide hidden ${h.hidden}, got ${h.heads}`);
}

/**
 * Resolves the options, checks them and the data files before anything is computed, and applies `fresh`.
 * A missing data file is a DataError naming it; an output directory that would clobber the training state
 * or something that is not a model directory is a TrainingConfigError.
 */
async function prepare<H extends TeacherHyperparameters>(
  name: RecipeName,
  defaults: H,
  options: RecipeLocation & Partial<H>,
  hooks: RecipeHooks,
): Promise<Prepared<H>> {
  const h = { ...defaults } as Record<string, unknown>;
  for (const key of Object.keys(defaults)) {
    const v = (options as Record<string, unknown>)[key];
    if (v !== undefined) h[key] = v;
  }
  const hyper = Object.freeze(h) as H;
  checkHyperparameters(hyper);
  if (!options.outDir) throw new TrainingConfigError('outDir', 'is required');
  const { outDir, workDir } = checkDirectories(options.outDir, options.workDir ?? defaultRecipeWorkDir(name));
  const dir = resolve(options.dataDir ?? defaultDataDir());
  const files = RECIPE_DATA_FILES[name].map((f) => join(dir, ...f.split('/')));
  const missing = files.find((f) => !existsSync(f));
  if (missing !== undefined) {
    throw new DataError(
      missing,
      `not found: the ${name} recipe needs ${RECIPE_DATA_FILES[name].join(', ')} under the data directory ${dir} (set ZIPLM_DATA_DIR)`,
    );
  }
  if (hyper.fresh) await deleteTrainingState(workDir);
  return { h: hyper, outDir, workDir, files, log: hooks.log ?? (() => {}) };
}

/**
 * @internal Resolves the output and state directories and refuses a pair where writing the model would
 * clobber the training state, or an output directory that holds something other than a model.
 */
export function checkDirectories(outDirOption: string, workDirOption: string): { outDir: string; workDir: string } {
  const outDir = resolve(outDirOption);
  const workDir = resolve(workDirOption);
  if (isInside(workDir, outDir) || isInside(outDir, workDir)) {
    throw new TrainingConfigError('outDir', `${outDir} must be neither the training state directory ${workDir} nor inside it or above it`);
  }
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new TrainingConfigError('outDir', `${outDir} exists and is not a directory`);
    if (readdirSync(outDir).length > 0 && !existsSync(join(outDir, 'config.json'))) {
      throw new TrainingConfigError(
        'outDir',
        `${outDir} is not empty and holds no config.json: refusing to replace a directory that is not a model directory`,
      );
    }
  }
  return { outDir, workDir };
}

/** @internal `fresh`: deletes the training state directory, refusing one that holds anything else. */
export async function deleteTrainingState(workDir: string): Promise<void> {
  if (existsSync(workDir)) {
    const foreign = readdirSync(workDir).filter((e) => !STATE_ENTRY.test(e));
    if (foreign.length > 0) {
      throw new TrainingConfigError(
        'fresh',
        `would delete ${workDir}, which holds more than training state (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})`,
      );
    }
    await rm(workDir, { recursive: true, force: true });
  }
}

/** @internal Starts the tfjs backend, logs why it was chosen, and returns its name. */
export async function startBackend(preferred: BackendPreference, log: (m: string) => void): Promise<string> {
  const info = await initBackend(preferred);
  log(`backend ${info.backend}: ${info.reason}`);
  return tf.getBackend();
}

/** @internal The hyperparameters as results.json records them. */
export function hyperparameterRecord(h: TeacherHyperparameters): Record<string, number | boolean> {
  return { ...(h as unknown as Record<string, number | boolean>) };
}

/**
 * @internal Writes the model directory with its vocabulary and results.json atomically, then checks that it
 * loads. The config records `maxSequenceLength`, the length the model was trained on (also when `best/` was
 * written by a version that did not record it).
 */
export async function writeOutput(
  outDir: string,
  bestDir: string,
  tokenizer: Tokenizer,
  results: object,
  log: (m: string) => void,
  maxSequenceLength: number,
): Promise<void> {
  const best = await loadCheckpoint(bestDir);
  const config = validatedWith(best.config, maxSequenceLength);
  await writeDirectoryAtomically(dirname(outDir), basename(outDir), async (tmp) => {
    await saveCheckpoint(tmp, { config, weights: best.weights }, { tokenizer });
    await writeFile(join(tmp, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  });
  // The written model must load on its own.
  const check = await loadModelDir(outDir);
  log(`wrote ${outDir} (${check.tokenizer.vocabSize}-token vocabulary, ${parameterCount(check.checkpoint.config)} parameters)`);
}

/** A config with its trained length recorded, checked (an integer in [2, maxPositions]). */
function validatedWith(config: ModelConfig, maxSequenceLength: number): ModelConfig {
  const next = { ...config, maxSequenceLength };
  validateConfig(next);
  return next;
}

/** @internal Seconds for a log line. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** @internal A duration as 0h00m00s for a log line. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
}

/** @internal The `best/` model of a finished training; TrainingStateError when no evaluation selected one. */
export async function bestOf(workDir: string): Promise<string> {
  const dir = await bestModelDir(workDir);
  if (dir === undefined) throw new TrainingStateError(join(workDir, 'best'), 'missing after training: no evaluation selected a best model');
  return dir;
}

/** @internal Checks `patience` and `maxMinutes`; throws TrainingConfigError naming the option. */
export function checkStopOptions(stop: TrainingStopOptions): void {
  if (stop.patience !== undefined && !(Number.isInteger(stop.patience) && stop.patience >= 1))
    throw new TrainingConfigError('patience', `must be an integer >= 1, got ${stop.patience}`);
  if (stop.maxMinutes !== undefined && !(stop.maxMinutes > 0))
    throw new TrainingConfigError('maxMinutes', `must be > 0, got ${stop.maxMinutes}`);
}

/**
 * @internal The trainer options of a recipe's stop options; `started` (performance.now()) is when the call
 * began, so the budget covers data preparation too (an update always runs once the budget is spent).
 */
export function stopControls(stop: TrainingStopOptions, started: number): Pick<FineTuneOptions, 'patience' | 'maxMilliseconds' | 'signal'> {
  return {
    ...(stop.patience !== undefined ? { patience: stop.patience } : {}),
    ...(stop.maxMinutes !== undefined ? { maxMilliseconds: Math.max(1, stop.maxMinutes * 60_000 - (performance.now() - started)) } : {}),
    ...(stop.signal ? { signal: stop.signal } : {}),
  };
}

/** @internal Rejects with TrainingStoppedError when `signal` is aborted (checked between a recipe's long steps). */
export function throwIfAborted(signal: AbortSignal | undefined, workDir: string): void {
  if (signal?.aborted) throw new TrainingStoppedError(workDir);
}

/**
 * @internal A finished training's result, or TrainingStoppedError when its signal stopped it (the model is
 * then disposed: no output is written from an aborted run).
 */
export function unlessAborted(result: FineTuneResult, workDir: string): FineTuneResult & { stopReason: Exclude<StopReason, 'aborted'> } {
  if (result.stopReason === 'aborted') {
    result.model.dispose();
    throw new TrainingStoppedError(workDir, result.step, result.totalSteps);
  }
  return { ...result, stopReason: result.stopReason };
}

/** @internal A log line saying why training ended early, or nothing when every update was done. */
export function stopNote(result: { readonly stopReason: StopReason; readonly step: number; readonly totalSteps: number }): string {
  if (result.stopReason === 'patience') return ` (early stopping at step ${result.step} of ${result.totalSteps})`;
  if (result.stopReason === 'time-budget') return ` (time budget spent at step ${result.step} of ${result.totalSteps})`;
  return '';
}

/** The recipes' model selection: accuracy and loss (classification) or perplexity and loss (causal LM) on `selection`. */
function evaluateSelection(task: 'classification' | 'causal-lm', selection: readonly TrainingExample[]): EvaluateFn {
  if (task === 'classification') {
    return async (model) => {
      const m = await evaluateClassification(model, selection, { batchSize: 64 });
      return { accuracy: m.accuracy, loss: m.loss };
    };
  }
  return async (model) => {
    const m = await evaluatePerplexity(model, selection, { batchSize: 16 });
    return { perplexity: m.perplexity, loss: m.loss };
  };
}

/**
 * @internal The training every recipe runs: the task loss alone (no teacher), the hyperparameters `h`, model
 * selection on `evaluate` every `h.evalEvery` updates (the best model in `workDir/best`), and the stop controls.
 * Throws TrainingStoppedError when the signal stopped it (before or during training); otherwise returns the
 * result with its model disposed (the recipes read the best model back from `workDir`), after logging it.
 */
export async function trainWithTaskLoss(run: {
  readonly task: 'classification' | 'causal-lm';
  readonly student: Checkpoint;
  readonly train: readonly TrainingExample[];
  readonly h: TeacherHyperparameters;
  /**
   * The examples the best model is selected on: by accuracy (largest) for classification, by perplexity
   * (smallest) for causal LM.
   */
  readonly selection: readonly TrainingExample[];
  readonly workDir: string;
  readonly tokenizer: Tokenizer;
  readonly stop: TrainingStopOptions;
  /** performance.now() at the start of the recipe: the time budget counts from there. */
  readonly started: number;
  readonly hooks: RecipeHooks;
  readonly log: (message: string) => void;
}): Promise<FineTuneResult & { stopReason: Exclude<StopReason, 'aborted'> }> {
  const { h, workDir } = run;
  // What the training will cost, before it starts (the progress lines give the ETA once it runs).
  const tokens = run.train.reduce((n, e) => n + e.inputIds.length, 0);
  const updates = h.maxSteps > 0 ? `${h.maxSteps} updates` : `${h.epochs} epochs`;
  run.log(
    `plan: ${updates} of ${h.batchSize} sequences over ${run.train.length} training sequences (${tokens} tokens; ${h.maxSteps > 0 ? 'about ' : ''}${Math.round(h.maxSteps > 0 ? (h.maxSteps * h.batchSize * tokens) / Math.max(1, run.train.length) : h.epochs * tokens)} tokens in all), evaluating every ${h.evalEvery} updates`,
  );
  throwIfAborted(run.stop.signal, workDir);
  const trained = await fineTune({
    task: run.task,
    student: run.student,
    train: run.train,
    batchSize: h.batchSize,
    epochs: h.epochs,
    ...(h.maxSteps > 0 ? { maxSteps: h.maxSteps } : {}),
    learningRate: h.lr,
    warmupRatio: h.warmupRatio,
    weightDecay: h.weightDecay,
    maxGradNorm: 1.0,
    weights: { task: 1, logit: 0, token: 0 },
    seed: h.seed,
    evaluate: evaluateSelection(run.task, run.selection),
    evaluateEvery: h.evalEvery,
    ...(run.task === 'classification' ? { selectMetric: 'accuracy' } : { selectMetric: 'perplexity', higherIsBetter: false }),
    checkpointDir: workDir,
    tokenizer: run.tokenizer,
    ...stopControls(run.stop, run.started),
    ...(run.hooks.onProgress ? { onProgress: run.hooks.onProgress } : {}),
  });
  const result = unlessAborted(trained, workDir);
  result.model.dispose();
  run.log(
    `training done: ${result.step} steps, ${result.tokensSeen} tokens, ${duration(result.elapsedMs)} (all sessions, evaluation included)${stopNote(result)}`,
  );
  return result;
}

// ---- BERT sentence classifiers (SST-2, word order) ---------------------------------------------------

/** A labelled sentence of a BERT teacher's data. */
interface LabelledSentence {
  readonly text: string;
  readonly label: number;
}

/** What the two BERT recipes' shared steps produce. */
interface SentenceClassifierTraining {
  readonly tokenizer: WordPieceTokenizer;
  readonly config: ReturnType<typeof bertConfig>;
  /** The encoded sets, in the order given. */
  readonly train: TrainingExample[];
  readonly selection: TrainingExample[];
  readonly scored: TrainingExample[];
  readonly meanTrainTokens: number;
  /** Share of [UNK] among the scored set's tokens. */
  readonly scoredUnkRate: number;
  readonly result: ReturnType<typeof unlessAborted>;
}

/**
 * The steps the SST-2 and word-order recipes share: a WordPiece vocabulary from the training sentences
 * alone (never from the selection or scored text), a from-scratch BERT classifier with `labels`, and
 * task-loss training with model selection on `selection` every `evalEvery` updates (best model in
 * `workDir`). `scoredName` names the scored set in the log ('dev', 'held-out').
 */
async function trainBertSentenceClassifier(
  h: Sst2TeacherHyperparameters,
  sets: {
    readonly train: readonly LabelledSentence[];
    readonly selection: readonly LabelledSentence[];
    readonly scored: readonly LabelledSentence[];
  },
  labels: readonly string[],
  scoredName: string,
  workDir: string,
  hooks: RecipeHooks,
  log: (message: string) => void,
  stop: TrainingStopOptions,
  started: number,
): Promise<SentenceClassifierTraining> {
  throwIfAborted(stop.signal, workDir);
  let t0 = performance.now();
  const vocab = trainWordPieceVocab(
    sets.train.map((e) => e.text),
    { vocabSize: h.vocabSize, lowercase: true },
  );
  const tokenizer = new WordPieceTokenizer({ vocab, lowercase: true });
  log(`WordPiece vocabulary: ${tokenizer.vocabSize} tokens in ${seconds(performance.now() - t0)}`);

  const encode = (examples: readonly LabelledSentence[]): TrainingExample[] =>
    examples.map((e) => {
      const enc = tokenizer.encode(e.text, undefined, { maxLength: h.maxLength });
      return { inputIds: enc.ids, typeIds: enc.typeIds, label: e.label };
    });
  t0 = performance.now();
  const train = encode(sets.train);
  const selection = encode(sets.selection);
  const scored = encode(sets.scored);
  const meanTrainTokens = train.reduce((s, e) => s + e.inputIds.length, 0) / train.length;
  const unk = tokenizer.tokenToId('[UNK]');
  const scoredUnkRate =
    scored.reduce((s, e) => s + e.inputIds.filter((id) => id === unk).length, 0) / scored.reduce((s, e) => s + e.inputIds.length, 0);
  log(
    `tokenized in ${seconds(performance.now() - t0)}: mean train length ${meanTrainTokens.toFixed(1)} tokens, ${scoredName} [UNK] rate ${(100 * scoredUnkRate).toFixed(2)}%`,
  );

  const config = bertConfig({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: h.hidden,
    numLayers: h.layers,
    numHeads: h.heads,
    intermediateSize: 4 * h.hidden,
    maxPositions: Math.max(128, h.maxLength),
    maxSequenceLength: h.maxLength,
    hiddenDropout: h.dropout,
    attentionDropout: h.dropout,
    padTokenId: tokenizer.padId,
    head: { type: 'classification', labels: [...labels] },
  });
  log(
    `BERT ${h.layers} layers × ${h.heads} heads (size ${h.hidden / h.heads}), hidden ${h.hidden}, FFN ${4 * h.hidden}: ${parameterCount(config)} parameters`,
  );

  const result = await trainWithTaskLoss({
    task: 'classification',
    student: randomCheckpoint(config, { seed: h.seed }),
    train: train,
    h,
    selection: selection,
    workDir,
    tokenizer,
    stop: stop,
    started,
    hooks,
    log,
  });
  return { tokenizer, config, train, selection, scored, meanTrainTokens, scoredUnkRate, result };
}

/** @internal Classification metrics of one checkpoint on each set, in order (the model is built once). */
export async function evaluateCheckpoint(
  checkpoint: Checkpoint,
  ...sets: readonly (readonly TrainingExample[])[]
): Promise<ClassificationMetrics[]> {
  const model = createModel(checkpoint);
  try {
    const metrics: ClassificationMetrics[] = [];
    for (const set of sets) metrics.push(await evaluateClassification(model, set, { batchSize: 64 }));
    return metrics;
  } finally {
    model.dispose();
  }
}

// ---- SST-2 BERT --------------------------------------------------------------------------------------

/**
 * Trains the SST-2 teacher (a small BERT sentence classifier, from scratch) and writes it to
 * `options.outDir`; returns the results record also written there as results.json. Resumes from
 * `workDir` when rerun with the same options. Throws DataError naming the file when the data are absent.
 */
export async function trainSst2Teacher(options: Sst2TeacherOptions, hooks: RecipeHooks = {}): Promise<Sst2TeacherResults> {
  const started = performance.now();
  checkStopOptions(options);
  const { h, outDir, workDir, files, log } = await prepare('sst2-bert', SST2_TEACHER_DEFAULTS, options, hooks);
  const [trainFile, holdoutFile, devFile] = files as [string, string, string];
  const backend = await startBackend(options.backend ?? 'wasm', log);

  const allTrain = readGlue(trainFile, 'sst2');
  const train = h.maxTrainExamples > 0 ? allTrain.slice(0, h.maxTrainExamples) : allTrain;
  const holdout = readGlue(holdoutFile, 'sst2');
  const dev = readGlue(devFile, 'sst2');
  log(
    `SST-2: ${train.length} train${train.length < allTrain.length ? ` (of ${allTrain.length})` : ''}, ${holdout.length} holdout, ${dev.length} dev sentences`,
  );

  const sentences = (examples: readonly GlueExample[]) => examples.map((e) => ({ text: e.textA, label: e.label }));
  const { tokenizer, config, selection, scored, meanTrainTokens, scoredUnkRate, result } = await trainBertSentenceClassifier(
    h,
    { train: sentences(train), selection: sentences(holdout), scored: sentences(dev) },
    GLUE_TASKS.sst2.labelNames,
    'dev',
    workDir,
    hooks,
    log,
    options,
    started,
  );

  // The best model on the holdout set, evaluated once on the official dev set.
  const bestDir = await bestOf(workDir);
  const [devMetrics, holdoutMetrics] = await evaluateCheckpoint(await loadCheckpoint(bestDir), scored, selection);
  log(
    `best model (step ${result.best!.step}): holdout accuracy ${holdoutMetrics!.accuracy.toFixed(4)}, dev accuracy ${devMetrics!.accuracy.toFixed(4)}`,
  );

  const results: Sst2TeacherResults = {
    recipe: options.command ?? 'pnpm --filter @ziplm/distill teacher:sst2',
    options: hyperparameterRecord(h),
    data: {
      train: train.length,
      holdout: holdout.length,
      dev: dev.length,
      meanTrainTokens: Number(meanTrainTokens.toFixed(2)),
      devUnkRate: Number(scoredUnkRate.toFixed(5)),
    },
    model: { parameters: parameterCount(config), vocabSize: tokenizer.vocabSize },
    backend,
    steps: result.step,
    bestStep: result.best!.step,
    tokensSeen: result.tokensSeen,
    stopReason: result.stopReason,
    metrics: { devAccuracy: devMetrics!.accuracy, devLoss: devMetrics!.loss, holdoutAccuracy: holdoutMetrics!.accuracy },
    history: result.history,
    trainingWallSeconds: Math.round(result.elapsedMs / 1000),
    thisSessionWallSeconds: Math.round((performance.now() - started) / 1000),
    note: NOTE,
  };
  await writeOutput(outDir, bestDir, tokenizer, results, log, h.maxLength);
  return results;
}

// ---- word order BERT ---------------------------------------------------------------------------------

/** `checkpoint` without the structures `drop` removes (every head, every neuron, or both but one head). */
function ablated(checkpoint: Checkpoint, drop: 'attention' | 'ffn' | 'all-but-one-head'): Checkpoint {
  const { numLayers, numHeads, intermediateSize } = checkpoint.config;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const heads = range(numLayers).map(() => (drop === 'attention' ? [] : drop === 'all-but-one-head' ? [0] : range(numHeads)));
  const neurons = range(numLayers).map(() => (drop === 'attention' ? range(intermediateSize) : []));
  return shrinkWeights(checkpoint, { heads, neurons });
}

/**
 * Trains the word-order teacher (ziplm's BERT testbed whose layers matter: is a sentence as written,
 * or are its words shuffled?) from scratch on the corpus `buildWordOrderCorpus` of
 * @ziplm/models makes from SST-2, WikiText-2 and SQuAD text, and writes it to `options.outDir`. Besides
 * the held-out accuracy, results.json records the ablation (no attention, no FFN, one head and no FFN,
 * a bag-of-words baseline) and whether it meets the testbed criterion. Resumes from `workDir`.
 */
export async function trainWordOrderTeacher(options: WordOrderTeacherOptions, hooks: RecipeHooks = {}): Promise<WordOrderTeacherResults> {
  const started = performance.now();
  checkStopOptions(options);
  const { h, outDir, workDir, files, log } = await prepare('wordorder-bert', WORDORDER_TEACHER_DEFAULTS, options, hooks);
  const [sst2Train, wikitext, squad] = files as [string, string, string];
  const backend = await startBackend(options.backend ?? 'wasm', log);

  let t0 = performance.now();
  const corpus = buildWordOrderCorpus({ sst2Train, wikitext, squad });
  const train = h.maxTrainExamples > 0 ? corpus.train.slice(0, h.maxTrainExamples) : corpus.train;
  log(
    `word order: ${train.length} training${train.length < corpus.train.length ? ` (of ${corpus.train.length})` : ''}, ` +
      `${corpus.validation.length} validation, ${corpus.heldout.length} held-out sentences (${seconds(performance.now() - t0)})`,
  );

  const {
    tokenizer,
    config,
    train: trainSet,
    selection: validationSet,
    scored: heldoutSet,
    meanTrainTokens,
    scoredUnkRate,
    result,
  } = await trainBertSentenceClassifier(
    h,
    { train, selection: corpus.validation, scored: corpus.heldout },
    WORD_ORDER_LABELS,
    'held-out',
    workDir,
    hooks,
    log,
    options,
    started,
  );

  // The best model on the validation set, evaluated once on the held-out set, then without its structures.
  const bestDir = await bestOf(workDir);
  const best = await loadCheckpoint(bestDir);
  const [heldout, validation] = await evaluateCheckpoint(best, heldoutSet, validationSet);
  const pct = (x: number) => Number((100 * x).toFixed(2));
  t0 = performance.now();
  const bagOfWords = trainBagOfWordsBaseline(trainSet, validationSet, heldoutSet, {
    vocabSize: tokenizer.vocabSize,
    ignoreIds: [tokenizer.tokenToId('[CLS]'), tokenizer.tokenToId('[SEP]'), tokenizer.padId].filter((id) => id !== undefined),
    seed: h.seed,
  });
  log(`bag-of-words baseline (L2 ${bagOfWords.l2}): held-out accuracy ${pct(bagOfWords.accuracy)}% (${seconds(performance.now() - t0)})`);
  const ablation: WordOrderAblation = {
    dense: pct(heldout!.accuracy),
    noAttention: pct((await evaluateCheckpoint(ablated(best, 'attention'), heldoutSet))[0]!.accuracy),
    noFfn: pct((await evaluateCheckpoint(ablated(best, 'ffn'), heldoutSet))[0]!.accuracy),
    oneHeadNoFfn: pct((await evaluateCheckpoint(ablated(best, 'all-but-one-head'), heldoutSet))[0]!.accuracy),
    bagOfWords: pct(bagOfWords.accuracy),
  };
  const criterion = testbedCriterion(ablation);
  log(
    `best model (step ${result.best!.step}): held-out ${ablation.dense}%, no attention ${ablation.noAttention}%, no FFN ${ablation.noFfn}%, ` +
      `one head and no FFN ${ablation.oneHeadNoFfn}%, bag of words ${ablation.bagOfWords}%: criterion ${criterion.met ? 'met' : 'NOT met'}`,
  );

  const results: WordOrderTeacherResults = {
    recipe: options.command ?? 'pnpm --filter @ziplm/distill teacher:wordorder',
    options: hyperparameterRecord(h),
    data: {
      split: WORD_ORDER_SPLIT_RULE,
      sentences: corpus.counts,
      train: train.length,
      validation: corpus.validation.length,
      heldout: corpus.heldout.length,
      meanTrainTokens: Number(meanTrainTokens.toFixed(2)),
      heldoutUnkRate: Number(scoredUnkRate.toFixed(5)),
    },
    model: { parameters: parameterCount(config), vocabSize: tokenizer.vocabSize },
    backend,
    steps: result.step,
    bestStep: result.best!.step,
    tokensSeen: result.tokensSeen,
    stopReason: result.stopReason,
    metrics: { heldoutAccuracy: heldout!.accuracy, heldoutLoss: heldout!.loss, validationAccuracy: validation!.accuracy },
    ablation,
    criterion,
    history: result.history,
    trainingWallSeconds: Math.round(result.elapsedMs / 1000),
    thisSessionWallSeconds: Math.round((performance.now() - started) / 1000),
    note: NOTE,
  };
  await writeOutput(outDir, bestDir, tokenizer, results, log, h.maxLength);
  return results;
}

// ---- WikiText-2 GPT2 ---------------------------------------------------------------------------------

/**
 * Trains the GPT2 teacher (a small causal LM, from scratch, on WikiText-2's wiki.test.raw split by article)
 * and writes it to `options.outDir`; returns the results record also written there as results.json.
 * Resumes from `workDir` when rerun with the same options. Throws DataError naming the file when the data
 * are absent or too small for the split.
 */
export async function trainGpt2Teacher(options: Gpt2TeacherOptions, hooks: RecipeHooks = {}): Promise<Gpt2TeacherResults> {
  const started = performance.now();
  checkStopOptions(options);
  const { h, outDir, workDir, files, log } = await prepare('wikitext2-gpt2', GPT2_TEACHER_DEFAULTS, options, hooks);
  if (h.seq < 2) throw new TrainingConfigError('seq', `must be >= 2, got ${h.seq}`);
  const file = files[0]!;

  // The pipeline scores GPT2 members on the held-out side of the same split, so the teacher never saw their text.
  const { articles, train: allTrainArticles, heldout: heldOutArticles } = wikiTextArticleSplit(readWikiText(file), file);
  if (heldOutArticles.length === 0) {
    throw new DataError(
      file,
      `has ${articles} article(s) (top-level " = Title = " headings): at least 10 are needed to hold out every tenth`,
    );
  }
  const trainArticles = h.maxTrainArticles > 0 ? allTrainArticles.slice(0, h.maxTrainArticles) : allTrainArticles;
  const backend = await startBackend(options.backend ?? 'wasm', log);
  log(
    `WikiText-2 (${basename(file)}): ${articles} articles, ${trainArticles.length} for training${trainArticles.length < allTrainArticles.length ? ` (of ${allTrainArticles.length})` : ''}, ${heldOutArticles.length} held out`,
  );

  let t0 = performance.now();
  const bpe = trainByteLevelBpe(trainArticles, { vocabSize: h.vocabSize });
  const tokenizer = new ByteLevelBpeTokenizer({ vocab: bpe.vocab, merges: bpe.merges });
  const eos = tokenizer.padId; // <|endoftext|>
  log(`byte-level BPE: ${tokenizer.vocabSize} tokens in ${seconds(performance.now() - t0)}`);

  /** The articles as one id stream, separated by <|endoftext|>, cut into non-overlapping chunks. */
  const chunks = (texts: readonly string[]): TrainingExample[] => {
    const ids: number[] = [];
    for (const text of texts) {
      for (const id of tokenizer.tokenize(text).ids) ids.push(id);
      ids.push(eos);
    }
    return chunkTokenIds(ids, h.seq).map((c) => ({ inputIds: Array.from(c) }));
  };
  t0 = performance.now();
  const trainSet = chunks(trainArticles);
  const heldOutSet = chunks(heldOutArticles);
  if (trainSet.length === 0 || heldOutSet.length === 0) {
    throw new DataError(
      file,
      `too little text for chunks of ${h.seq} tokens: ${trainSet.length} training and ${heldOutSet.length} held-out chunks`,
    );
  }
  log(
    `tokenized in ${seconds(performance.now() - t0)}: ${trainSet.length} training and ${heldOutSet.length} held-out chunks of ${h.seq} tokens`,
  );

  const config = gpt2Config({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: h.hidden,
    numLayers: h.layers,
    numHeads: h.heads,
    intermediateSize: 4 * h.hidden,
    maxPositions: h.seq,
    maxSequenceLength: h.seq,
    hiddenDropout: h.dropout,
    attentionDropout: h.dropout,
    bosTokenId: eos,
    eosTokenId: eos,
  });
  log(
    `GPT2 ${h.layers} layers × ${h.heads} heads (size ${h.hidden / h.heads}), hidden ${h.hidden}, FFN ${4 * h.hidden}: ${parameterCount(config)} parameters`,
  );

  const result = await trainWithTaskLoss({
    task: 'causal-lm',
    student: randomCheckpoint(config, { seed: h.seed }),
    train: trainSet,
    h,
    selection: heldOutSet,
    workDir,
    tokenizer,
    stop: options,
    started,
    hooks,
    log,
  });

  const bestDir = await bestOf(workDir);
  const model = createModel(await loadCheckpoint(bestDir));
  let heldOut: PerplexityMetrics;
  try {
    heldOut = await evaluatePerplexity(model, heldOutSet, { batchSize: 16 });
  } finally {
    model.dispose();
  }
  log(
    `best model (step ${result.best!.step}): held-out perplexity ${heldOut.perplexity.toFixed(2)} over ${heldOut.tokens} predicted tokens`,
  );

  const results: Gpt2TeacherResults = {
    recipe: options.command ?? 'pnpm --filter @ziplm/distill teacher:gpt2',
    options: hyperparameterRecord(h),
    data: {
      articles,
      trainArticles: trainArticles.length,
      heldOutArticles: heldOutArticles.length,
      split: WIKITEXT_SPLIT_RULE,
      trainChunks: trainSet.length,
      heldOutChunks: heldOutSet.length,
    },
    model: { parameters: parameterCount(config), vocabSize: tokenizer.vocabSize },
    backend,
    steps: result.step,
    bestStep: result.best!.step,
    tokensSeen: result.tokensSeen,
    stopReason: result.stopReason,
    metrics: { heldOutPerplexity: heldOut.perplexity, heldOutLoss: heldOut.loss, heldOutPredictedTokens: heldOut.tokens },
    history: result.history,
    trainingWallSeconds: Math.round(result.elapsedMs / 1000),
    thisSessionWallSeconds: Math.round((performance.now() - started) / 1000),
    note: NOTE,
  };
  await writeOutput(outDir, bestDir, tokenizer, results, log, h.seq);
  return results;
}

/** Runs the recipe `name` (the union of both recipes' options; each takes its own). */
export function trainTeacher(name: 'sst2-bert', options: Sst2TeacherOptions, hooks?: RecipeHooks): Promise<Sst2TeacherResults>;
export function trainTeacher(name: 'wikitext2-gpt2', options: Gpt2TeacherOptions, hooks?: RecipeHooks): Promise<Gpt2TeacherResults>;
export function trainTeacher(
  name: 'wordorder-bert',
  options: WordOrderTeacherOptions,
  hooks?: RecipeHooks,
): Promise<WordOrderTeacherResults>;
export function trainTeacher(
  name: RecipeName,
  options: Sst2TeacherOptions | Gpt2TeacherOptions | WordOrderTeacherOptions,
  hooks?: RecipeHooks,
): Promise<Sst2TeacherResults | Gpt2TeacherResults | WordOrderTeacherResults>;
export function trainTeacher(
  name: RecipeName,
  options: Sst2TeacherOptions | Gpt2TeacherOptions | WordOrderTeacherOptions,
  hooks: RecipeHooks = {},
): Promise<Sst2TeacherResults | Gpt2TeacherResults | WordOrderTeacherResults> {
  if (name === 'sst2-bert') return trainSst2Teacher(options as Sst2TeacherOptions, hooks);
  if (name === 'wordorder-bert') return trainWordOrderTeacher(options as WordOrderTeacherOptions, hooks);
  if (name === 'wikitext2-gpt2') return trainGpt2Teacher(options as Gpt2TeacherOptions, hooks);
  return Promise.reject(new TrainingConfigError('recipe', `must be one of ${RECIPES.join(', ')}, got ${JSON.stringify(name)}`));
}
