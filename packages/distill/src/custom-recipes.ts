// The generic recipes: a model for the caller's own task and data, of the size the caller chooses, trained from
// scratch or fine-tuned from the caller's Hugging Face checkpoint. The teacher recipes (recipes.ts) are the same
// steps on fixed data; these take the data as arguments, already read and split (the caller owns file formats and
// split rules and describes them in `data.description`, recorded verbatim in results.json).
//
// text classifier (trainTextClassifier): BERT on single texts or text pairs ([CLS] a [SEP] b [SEP], truncated
// longest-first to `maxLength`), task loss only, model selection and early stopping on the validation set, the
// best model scored once on the test set.
// causal LM (trainCausalLm): GPT2 on the training documents joined by <|endoftext|> and cut into chunks of
// `maxLength` tokens, model selection and early stopping on validation perplexity, the best model scored once on
// the test documents.
//
// A new model gets a vocabulary trained on the training text only (WordPiece for BERT, byte-level BPE for GPT2)
// and a random init; a model fine-tuned `from` a checkpoint keeps its tokenizer and shape. Both record the length
// they were trained on (`maxSequenceLength` in config.json), resume from `workDir`, stop early for `patience` or
// `maxMinutes` (still writing the best model), and on an abort save their state and reject with
// TrainingStoppedError without writing a model.

import { resolve } from 'node:path';
import {
  type BertConfig,
  bertConfig,
  ByteLevelBpeTokenizer,
  type Checkpoint,
  chunkTokenIds,
  createModel,
  expectedShapes,
  type Gpt2Config,
  gpt2Config,
  loadCheckpoint,
  loadModelDir,
  type ModelConfig,
  parameterCount,
  randomCheckpoint,
  type Tokenizer,
  trainByteLevelBpe,
  trainWordPieceVocab,
  validateConfig,
  WordPieceTokenizer,
  type WeightMap,
} from '@ziplm/models';
import type { TrainingExample } from './batching.js';
import type { EvaluationRecord } from './checkpoint.js';
import { TrainingConfigError } from './errors.js';
import { type ClassificationMetrics, evaluatePerplexity, type PerplexityMetrics } from './evaluate.js';
import {
  bestOf,
  checkDirectories,
  checkHyperparameters,
  checkStopOptions,
  deleteTrainingState,
  evaluateCheckpoint,
  GPT2_TEACHER_DEFAULTS,
  hyperparameterRecord,
  NOTE,
  type RecipeHooks,
  type RecipeLocation,
  seconds,
  startBackend,
  type TeacherHyperparameters,
  throwIfAborted,
  type TrainingStopOptions,
  trainWithTaskLoss,
  writeOutput,
} from './recipes.js';
import type { StopReason } from './trainer.js';

// ---- data and options --------------------------------------------------------------------------------

/** One labelled example: a text, or a text pair, and its label id. */
export interface TextExample {
  readonly text: string;
  readonly textPair?: string;
  /** An index into `TextClassifierData.labels`. */
  readonly label: number;
}

/** A text (pair) classification dataset, already split. */
export interface TextClassifierData {
  /** Label names in id order; written into the model's config as id2label/label2id. */
  readonly labels: readonly string[];
  readonly train: readonly TextExample[];
  /** Model selection and early stopping. */
  readonly validation: readonly TextExample[];
  /** Scored once, with the best model, at the end (may be empty). */
  readonly test: readonly TextExample[];
  /** Recorded verbatim in results.json as `data` (files, hashes, split rule: the caller builds it). */
  readonly description?: Readonly<Record<string, unknown>>;
}

/** A language modelling corpus: documents, already split (a document is never cut between splits). */
export interface CorpusData {
  readonly train: readonly string[];
  /** Model selection and early stopping. */
  readonly validation: readonly string[];
  /** Scored once, with the best model, at the end (may be empty). */
  readonly test: readonly string[];
  /** Recorded verbatim in results.json as `data`. */
  readonly description?: Readonly<Record<string, unknown>>;
}

/** The shape of a model trained from scratch. */
export interface RecipeModelShape {
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  /** FFN size (default 4 × hidden). */
  readonly ffn: number;
  /** Tokens per training sequence, special tokens included (saved as the model's `maxSequenceLength`). */
  readonly maxLength: number;
  /** Target vocabulary size of the tokenizer trained on the training text (it may come out smaller). */
  readonly vocabSize: number;
}

/** Everything a generic recipe's results.json records as `options`. */
export type CustomRecipeHyperparameters = TeacherHyperparameters & RecipeModelShape;

/** What the generic recipes take besides their hyperparameters. */
export interface CustomRecipeSource {
  /**
   * A model directory (a Hugging Face checkpoint: config.json, model.safetensors, its vocabulary) to fine-tune
   * with its own tokenizer, instead of a new vocabulary and a random init. Its shape is kept (shape options
   * must agree with it); `maxLength` defaults to min(its `maxSequenceLength` ?? 128, its positions).
   */
  readonly from?: string;
}

/**
 * Options of {@link trainTextClassifier}. `workDir` defaults to `<outDir>.state`; `dataDir` is not used (the data
 * come as an argument).
 */
export type TextClassifierOptions = RecipeLocation & Partial<CustomRecipeHyperparameters> & CustomRecipeSource & TrainingStopOptions;

/** Options of {@link trainCausalLm}; see {@link TextClassifierOptions}. */
export type CausalLmOptions = RecipeLocation & Partial<CustomRecipeHyperparameters> & CustomRecipeSource & TrainingStopOptions;

/** Defaults of {@link trainTextClassifier} for a new model (the FFN is 4 × hidden). */
export const TEXT_CLASSIFIER_DEFAULTS: Readonly<Omit<CustomRecipeHyperparameters, 'ffn'>> = Object.freeze({
  vocabSize: 8000,
  hidden: 128,
  layers: 2,
  heads: 4,
  maxLength: 128,
  batchSize: 32,
  epochs: 3,
  maxSteps: 0,
  lr: 5e-4,
  warmupRatio: 0.06,
  weightDecay: 0.01,
  dropout: 0.1,
  seed: 0,
  evalEvery: 100,
  fresh: false,
});

/** Defaults of {@link trainCausalLm} for a new model: the GPT2 teacher's (the FFN is 4 × hidden). */
export const CAUSAL_LM_DEFAULTS: Readonly<Omit<CustomRecipeHyperparameters, 'ffn'>> = Object.freeze({
  vocabSize: GPT2_TEACHER_DEFAULTS.vocabSize,
  hidden: GPT2_TEACHER_DEFAULTS.hidden,
  layers: GPT2_TEACHER_DEFAULTS.layers,
  heads: GPT2_TEACHER_DEFAULTS.heads,
  maxLength: GPT2_TEACHER_DEFAULTS.seq,
  batchSize: GPT2_TEACHER_DEFAULTS.batchSize,
  epochs: GPT2_TEACHER_DEFAULTS.epochs,
  maxSteps: GPT2_TEACHER_DEFAULTS.maxSteps,
  lr: GPT2_TEACHER_DEFAULTS.lr,
  warmupRatio: GPT2_TEACHER_DEFAULTS.warmupRatio,
  weightDecay: GPT2_TEACHER_DEFAULTS.weightDecay,
  dropout: GPT2_TEACHER_DEFAULTS.dropout,
  seed: GPT2_TEACHER_DEFAULTS.seed,
  evalEvery: GPT2_TEACHER_DEFAULTS.evalEvery,
  fresh: false,
});

// ---- results -----------------------------------------------------------------------------------------

/** What both generic recipes report (and write to `<outDir>/results.json`). */
export interface CustomRecipeResultsCommon {
  /** The command that reproduces this model. */
  readonly recipe: string;
  /** The hyperparameters the model was trained with (the shape of `from` when fine-tuned). */
  readonly options: Readonly<Record<string, number | boolean>>;
  /** The model directory fine-tuned (absolute), when not trained from scratch. */
  readonly from?: string;
  /** Early stopping and the time budget, when given. */
  readonly stopping: { readonly patience?: number; readonly maxMinutes?: number };
  /** The caller's description of the data, verbatim. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly model: { readonly parameters: number; readonly vocabSize: number; readonly maxSequenceLength: number };
  /** The tfjs backend training ran on. */
  readonly backend: string;
  readonly steps: number;
  readonly totalSteps: number;
  readonly bestStep: number;
  readonly tokensSeen: number;
  /** Why training ended: every update done, early stopping, or the time budget. */
  readonly stopReason: Exclude<StopReason, 'aborted'>;
  readonly history: readonly EvaluationRecord[];
  /** Training wall time of all sessions (evaluation included). */
  readonly trainingWallSeconds: number;
  /** Wall time of this call, data preparation and the final evaluation included. */
  readonly thisSessionWallSeconds: number;
  readonly note: string;
}

/** Accuracy and mean cross-entropy on one split. */
export interface SplitAccuracy {
  readonly accuracy: number;
  readonly loss: number;
  readonly examples: number;
}

export interface TextClassifierResults extends CustomRecipeResultsCommon {
  readonly task: 'text-classification';
  readonly labels: readonly string[];
  readonly examples: {
    readonly train: number;
    readonly validation: number;
    readonly test: number;
    /** Whether the examples are text pairs. */
    readonly pairs: boolean;
    readonly meanTrainTokens: number;
    /** Training examples cut at `maxLength`. */
    readonly truncatedTrain: number;
  };
  /** The best model (selected on validation accuracy); `test` is absent when the test split is empty. */
  readonly metrics: { readonly validation: SplitAccuracy; readonly test?: SplitAccuracy };
}

/** Perplexity (exp of the mean token NLL) on one split. */
export interface SplitPerplexity {
  readonly perplexity: number;
  readonly loss: number;
  readonly predictedTokens: number;
}

export interface CausalLmResults extends CustomRecipeResultsCommon {
  readonly task: 'causal-lm';
  readonly examples: {
    readonly trainDocuments: number;
    readonly validationDocuments: number;
    readonly testDocuments: number;
    readonly trainChunks: number;
    readonly validationChunks: number;
    readonly testChunks: number;
  };
  /** The best model (selected on validation perplexity); `test` is absent when the test split is empty. */
  readonly metrics: { readonly validation: SplitPerplexity; readonly test?: SplitPerplexity };
}

// ---- shared steps ------------------------------------------------------------------------------------

/** The model to start from: a loaded checkpoint and its tokenizer, or nothing (a new model). */
interface StartingPoint {
  readonly dir: string;
  readonly checkpoint: Checkpoint;
  readonly tokenizer: Tokenizer;
}

/** Loads `from` and checks it is a model of the kind the recipe trains, with the tokenizer of that kind. */
async function loadStartingPoint(from: string | undefined, modelType: ModelConfig['modelType']): Promise<StartingPoint | undefined> {
  if (from === undefined) return undefined;
  const dir = resolve(from);
  const { checkpoint, tokenizer } = await loadModelDir(dir);
  if (checkpoint.config.modelType !== modelType) {
    throw new TrainingConfigError('from', `${dir} is a ${checkpoint.config.modelType} model: this recipe trains a ${modelType} model`);
  }
  return { dir, checkpoint, tokenizer };
}

/**
 * The hyperparameters: the options over the defaults; with `from`, the shape is the checkpoint's (a shape option
 * that disagrees is refused) and `maxLength` defaults to the length it was trained on, within its positions.
 */
function resolveHyperparameters(
  defaults: Readonly<Omit<CustomRecipeHyperparameters, 'ffn'>>,
  options: Partial<CustomRecipeHyperparameters>,
  start: StartingPoint | undefined,
): CustomRecipeHyperparameters {
  const given = <K extends keyof Omit<CustomRecipeHyperparameters, 'ffn'>>(key: K) => options[key] ?? defaults[key];
  let shape: Pick<CustomRecipeHyperparameters, 'layers' | 'hidden' | 'heads' | 'ffn' | 'vocabSize' | 'maxLength'>;
  if (start) {
    const c = start.checkpoint.config;
    const kept = { layers: c.numLayers, hidden: c.hiddenSize, heads: c.numHeads, ffn: c.intermediateSize, vocabSize: c.vocabSize };
    for (const [key, value] of Object.entries(kept)) {
      const option = options[key as keyof typeof kept];
      if (option !== undefined && option !== value) {
        throw new TrainingConfigError(key, `is ${option}, but ${start.dir} has ${value}: a fine-tuned model keeps its checkpoint's shape`);
      }
    }
    const maxLength = options.maxLength ?? Math.min(c.maxSequenceLength ?? 128, c.maxPositions);
    if (maxLength > c.maxPositions) {
      throw new TrainingConfigError('maxLength', `must be <= the positions of ${start.dir} (${c.maxPositions}), got ${maxLength}`);
    }
    shape = { ...kept, maxLength };
  } else {
    const hidden = given('hidden');
    shape = {
      layers: given('layers'),
      hidden,
      heads: given('heads'),
      ffn: options.ffn ?? 4 * hidden,
      vocabSize: given('vocabSize'),
      maxLength: given('maxLength'),
    };
  }
  const h: CustomRecipeHyperparameters = Object.freeze({
    ...shape,
    batchSize: given('batchSize'),
    epochs: given('epochs'),
    maxSteps: given('maxSteps'),
    lr: given('lr'),
    warmupRatio: given('warmupRatio'),
    weightDecay: given('weightDecay'),
    dropout: given('dropout'),
    seed: given('seed'),
    evalEvery: given('evalEvery'),
    fresh: given('fresh'),
  });
  checkHyperparameters(h);
  if (h.maxLength < 2) throw new TrainingConfigError('maxLength', `must be >= 2, got ${h.maxLength}`);
  return h;
}

/** Resolves and checks the directories, loads `from`, resolves the hyperparameters, then applies `fresh`. */
async function prepareCustom(
  defaults: Readonly<Omit<CustomRecipeHyperparameters, 'ffn'>>,
  options: TextClassifierOptions | CausalLmOptions,
  modelType: ModelConfig['modelType'],
  hooks: RecipeHooks,
) {
  checkStopOptions(options);
  if (!options.outDir) throw new TrainingConfigError('outDir', 'is required');
  const { outDir, workDir } = checkDirectories(options.outDir, options.workDir ?? `${resolve(options.outDir)}.state`);
  const start = await loadStartingPoint(options.from, modelType);
  const h = resolveHyperparameters(defaults, options, start);
  if (h.fresh) await deleteTrainingState(workDir);
  return { h, outDir, workDir, start, log: hooks.log ?? (() => {}) };
}

/** `from`'s weights where the new config has a weight of that name and shape, seeded random ones elsewhere. */
function carryOver(start: Checkpoint, config: ModelConfig, seed: number): Checkpoint {
  const fresh = randomCheckpoint(config, { seed });
  const weights: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(config)) {
    const kept = start.weights.get(name);
    const same = kept !== undefined && kept.shape.length === shape.length && kept.shape.every((d, i) => d === shape[i]);
    weights.set(name, same ? kept : fresh.weights.get(name)!);
  }
  return { config, weights };
}

function describeShape(config: ModelConfig): string {
  return `${config.numLayers} layers × ${config.numHeads} heads (size ${config.hiddenSize / config.numHeads}), hidden ${config.hiddenSize}, FFN ${config.intermediateSize}: ${parameterCount(config)} parameters`;
}

/** Throws TrainingConfigError naming `data.<split>` when a split that must have items has none. */
function checkNotEmpty(items: readonly unknown[], split: string): void {
  if (items.length === 0) throw new TrainingConfigError(`data.${split}`, 'is empty');
}

/** The parts of results.json both recipes fill the same way. */
function commonResults(
  h: CustomRecipeHyperparameters,
  options: TextClassifierOptions | CausalLmOptions,
  defaultCommand: string,
  start: StartingPoint | undefined,
  description: Readonly<Record<string, unknown>> | undefined,
  config: ModelConfig,
  tokenizer: Tokenizer,
  backend: string,
  result: Awaited<ReturnType<typeof trainWithTaskLoss>>,
  started: number,
): CustomRecipeResultsCommon {
  return {
    recipe: options.command ?? defaultCommand,
    options: hyperparameterRecord(h),
    ...(start ? { from: start.dir } : {}),
    stopping: {
      ...(options.patience !== undefined ? { patience: options.patience } : {}),
      ...(options.maxMinutes !== undefined ? { maxMinutes: options.maxMinutes } : {}),
    },
    data: { ...(description ?? {}) },
    model: { parameters: parameterCount(config), vocabSize: tokenizer.vocabSize, maxSequenceLength: h.maxLength },
    backend,
    steps: result.step,
    totalSteps: result.totalSteps,
    bestStep: result.best!.step,
    tokensSeen: result.tokensSeen,
    stopReason: result.stopReason,
    history: result.history,
    trainingWallSeconds: Math.round(result.elapsedMs / 1000),
    thisSessionWallSeconds: Math.round((performance.now() - started) / 1000),
    note: NOTE,
  };
}

// ---- text classifier ---------------------------------------------------------------------------------

function checkClassifierData(data: TextClassifierData): void {
  const { labels } = data;
  if (!Array.isArray(labels) || labels.length < 2) throw new TrainingConfigError('data.labels', 'must list at least two labels');
  const seen = new Set<string>();
  for (const label of labels) {
    if (typeof label !== 'string' || label === '')
      throw new TrainingConfigError('data.labels', `must be non-empty strings, got ${JSON.stringify(label)}`);
    if (seen.has(label)) throw new TrainingConfigError('data.labels', `lists ${JSON.stringify(label)} twice`);
    seen.add(label);
  }
  checkNotEmpty(data.train, 'train');
  checkNotEmpty(data.validation, 'validation');
  const pairs = data.train[0]!.textPair !== undefined;
  for (const split of ['train', 'validation', 'test'] as const) {
    data[split].forEach((e, i) => {
      const where = `data.${split}[${i}]`;
      if (typeof e.text !== 'string') throw new TrainingConfigError(`${where}.text`, `must be a string, got ${JSON.stringify(e.text)}`);
      if ((e.textPair !== undefined) !== pairs) {
        throw new TrainingConfigError(
          `${where}.textPair`,
          pairs ? 'is missing: the training examples are text pairs' : 'is given: the training examples are single texts',
        );
      }
      if (pairs && typeof e.textPair !== 'string')
        throw new TrainingConfigError(`${where}.textPair`, `must be a string, got ${JSON.stringify(e.textPair)}`);
      if (!Number.isInteger(e.label) || e.label < 0 || e.label >= labels.length) {
        throw new TrainingConfigError(`${where}.label`, `must be a label id in [0, ${labels.length - 1}], got ${JSON.stringify(e.label)}`);
      }
    });
  }
}

/** The model to train: `from` with a classification head for `labels` (a head with other labels is replaced), or a new BERT. */
function classifierCheckpoint(
  h: CustomRecipeHyperparameters,
  labels: readonly string[],
  tokenizer: Tokenizer,
  start: StartingPoint | undefined,
  log: (message: string) => void,
): Checkpoint<BertConfig> {
  const head = { type: 'classification' as const, labels: [...labels] };
  if (!start) {
    const config = bertConfig({
      vocabSize: tokenizer.vocabSize,
      hiddenSize: h.hidden,
      numLayers: h.layers,
      numHeads: h.heads,
      intermediateSize: h.ffn,
      // As the teacher recipes: 128 positions at least; `maxSequenceLength` says how many were trained.
      maxPositions: Math.max(128, h.maxLength),
      maxSequenceLength: h.maxLength,
      hiddenDropout: h.dropout,
      attentionDropout: h.dropout,
      padTokenId: tokenizer.padId,
      head,
    });
    return randomCheckpoint(config, { seed: h.seed });
  }
  const previous = start.checkpoint.config as BertConfig;
  const sameHead =
    previous.head.type === 'classification' &&
    previous.head.labels.length === labels.length &&
    previous.head.labels.every((l, i) => l === labels[i]);
  if (!sameHead) {
    const had =
      previous.head.type === 'classification'
        ? `its classification head (labels ${previous.head.labels.join(', ')})`
        : `its ${previous.head.type === 'none' ? 'bare encoder output' : 'span-QA head'}`;
    log(`${start.dir}: replacing ${had} with a new classification head for labels ${labels.join(', ')} (random init, seed ${h.seed})`);
  }
  const config: BertConfig = {
    ...previous,
    head,
    hiddenDropout: h.dropout,
    attentionDropout: h.dropout,
    maxSequenceLength: h.maxLength,
  };
  validateConfig(config);
  return carryOver(start.checkpoint, config, h.seed) as Checkpoint<BertConfig>;
}

/**
 * Trains a BERT text (or text-pair) classifier on `data` and writes it to `options.outDir` (config with the
 * labels and `maxSequenceLength`, weights, vocabulary, results.json); returns the results record written there.
 * Trains a new model of the given shape with a WordPiece vocabulary from the training text, or fine-tunes the
 * checkpoint `options.from`. Resumes from `workDir` when rerun with the same options and data. Rejects with
 * TrainingConfigError for bad options or data, and with TrainingStoppedError (no model written) when
 * `options.signal` aborts it.
 */
export async function trainTextClassifier(
  data: TextClassifierData,
  options: TextClassifierOptions,
  hooks: RecipeHooks = {},
): Promise<TextClassifierResults> {
  const started = performance.now();
  checkClassifierData(data);
  const { h, outDir, workDir, start, log } = await prepareCustom(TEXT_CLASSIFIER_DEFAULTS, options, 'bert', hooks);
  if (start && start.tokenizer.type !== 'wordpiece') throw new TrainingConfigError('from', `${start.dir} has no WordPiece vocabulary`);
  const backend = await startBackend(options.backend ?? 'wasm', log);
  const pairs = data.train[0]!.textPair !== undefined;
  log(
    `text ${pairs ? 'pair ' : ''}classification: ${data.labels.length} labels (${data.labels.join(', ')}), ` +
      `${data.train.length} train, ${data.validation.length} validation, ${data.test.length} test examples`,
  );
  throwIfAborted(options.signal, workDir);

  let t0 = performance.now();
  let tokenizer: Tokenizer;
  if (start) tokenizer = start.tokenizer;
  else {
    const texts = pairs ? data.train.flatMap((e) => [e.text, e.textPair!]) : data.train.map((e) => e.text);
    tokenizer = new WordPieceTokenizer({ vocab: trainWordPieceVocab(texts, { vocabSize: h.vocabSize, lowercase: true }), lowercase: true });
    log(`WordPiece vocabulary: ${tokenizer.vocabSize} tokens in ${seconds(performance.now() - t0)}`);
  }
  throwIfAborted(options.signal, workDir);

  t0 = performance.now();
  let truncatedTrain = 0;
  const encode = (examples: readonly TextExample[], countTruncated: boolean): TrainingExample[] =>
    examples.map((e) => {
      const first = tokenizer.tokenize(e.text);
      const second = e.textPair === undefined ? undefined : tokenizer.tokenize(e.textPair);
      const enc = tokenizer.postProcess(first, second, { maxLength: h.maxLength, truncation: 'longest_first' })[0]!;
      if (countTruncated && enc.sequenceIds.filter((s) => s !== null).length < first.ids.length + (second?.ids.length ?? 0))
        truncatedTrain += 1;
      return { inputIds: enc.ids, typeIds: enc.typeIds, label: e.label };
    });
  const train = encode(data.train, true);
  const validation = encode(data.validation, false);
  const test = encode(data.test, false);
  const meanTrainTokens = train.reduce((s, e) => s + e.inputIds.length, 0) / train.length;
  log(
    `tokenized in ${seconds(performance.now() - t0)}: mean train length ${meanTrainTokens.toFixed(1)} tokens, ` +
      `${truncatedTrain} of ${train.length} training examples cut at ${h.maxLength} tokens`,
  );

  const student = classifierCheckpoint(h, data.labels, tokenizer, start, log);
  log(`BERT ${start ? `from ${start.dir}, ` : ''}${describeShape(student.config)}`);

  const result = await trainWithTaskLoss({
    task: 'classification',
    student,
    train: train,
    h,
    selection: validation,
    workDir,
    tokenizer,
    stop: options,
    started,
    hooks,
    log,
  });

  // The best model on the validation set, scored once on the test set.
  const bestDir = await bestOf(workDir);
  const [validationMetrics, testMetrics] = await evaluateCheckpoint(
    await loadCheckpoint(bestDir),
    validation,
    ...(test.length > 0 ? [test] : []),
  );
  const split = (m: ClassificationMetrics): SplitAccuracy => ({ accuracy: m.accuracy, loss: m.loss, examples: m.count });
  log(
    `best model (step ${result.best!.step}): validation accuracy ${validationMetrics!.accuracy.toFixed(4)}` +
      (testMetrics ? `, test accuracy ${testMetrics.accuracy.toFixed(4)}` : ', no test examples'),
  );

  const results: TextClassifierResults = {
    ...commonResults(
      h,
      options,
      'ziplm train bert-classifier',
      start,
      data.description,
      student.config,
      tokenizer,
      backend,
      result,
      started,
    ),
    task: 'text-classification',
    labels: [...data.labels],
    examples: {
      train: train.length,
      validation: validation.length,
      test: test.length,
      pairs,
      meanTrainTokens: Number(meanTrainTokens.toFixed(2)),
      truncatedTrain,
    },
    metrics: { validation: split(validationMetrics!), ...(testMetrics ? { test: split(testMetrics) } : {}) },
  };
  await writeOutput(outDir, bestDir, tokenizer, results, log, h.maxLength);
  return results;
}

// ---- causal LM ---------------------------------------------------------------------------------------

function checkCorpus(data: CorpusData): void {
  for (const split of ['train', 'validation', 'test'] as const) {
    data[split].forEach((doc, i) => {
      if (typeof doc !== 'string') throw new TrainingConfigError(`data.${split}[${i}]`, `must be a string, got ${JSON.stringify(doc)}`);
    });
  }
  checkNotEmpty(data.train, 'train');
  checkNotEmpty(data.validation, 'validation');
}

/** The model to train: `from` as it is (with this training's dropout and length), or a new GPT2. */
function languageModelCheckpoint(
  h: CustomRecipeHyperparameters,
  tokenizer: Tokenizer,
  eos: number,
  start: StartingPoint | undefined,
): Checkpoint<Gpt2Config> {
  if (!start) {
    const config = gpt2Config({
      vocabSize: tokenizer.vocabSize,
      hiddenSize: h.hidden,
      numLayers: h.layers,
      numHeads: h.heads,
      intermediateSize: h.ffn,
      maxPositions: h.maxLength,
      maxSequenceLength: h.maxLength,
      hiddenDropout: h.dropout,
      attentionDropout: h.dropout,
      bosTokenId: eos,
      eosTokenId: eos,
    });
    return randomCheckpoint(config, { seed: h.seed });
  }
  const config: Gpt2Config = {
    ...(start.checkpoint.config as Gpt2Config),
    hiddenDropout: h.dropout,
    attentionDropout: h.dropout,
    maxSequenceLength: h.maxLength,
  };
  validateConfig(config);
  return { config, weights: start.checkpoint.weights };
}

/**
 * Trains a GPT2 causal language model on `data` (documents) and writes it to `options.outDir` (config with
 * `maxSequenceLength`, weights, vocabulary, results.json); returns the results record written there. A new model
 * gets a byte-level BPE vocabulary trained on the training documents; `options.from` fine-tunes a GPT2
 * checkpoint with its own tokenizer. Documents are joined by <|endoftext|> and cut into chunks of `maxLength`
 * tokens (the last, shorter chunk kept). Resumes, stops and fails like {@link trainTextClassifier}.
 */
export async function trainCausalLm(data: CorpusData, options: CausalLmOptions, hooks: RecipeHooks = {}): Promise<CausalLmResults> {
  const started = performance.now();
  checkCorpus(data);
  const { h, outDir, workDir, start, log } = await prepareCustom(CAUSAL_LM_DEFAULTS, options, 'gpt2', hooks);
  if (start && start.tokenizer.type !== 'bpe') throw new TrainingConfigError('from', `${start.dir} has no byte-level BPE vocabulary`);
  const backend = await startBackend(options.backend ?? 'wasm', log);
  log(`language modelling: ${data.train.length} train, ${data.validation.length} validation, ${data.test.length} test documents`);
  throwIfAborted(options.signal, workDir);

  let t0 = performance.now();
  let tokenizer: Tokenizer;
  if (start) tokenizer = start.tokenizer;
  else {
    const bpe = trainByteLevelBpe(data.train, { vocabSize: h.vocabSize });
    tokenizer = new ByteLevelBpeTokenizer({ vocab: bpe.vocab, merges: bpe.merges });
    log(`byte-level BPE: ${tokenizer.vocabSize} tokens in ${seconds(performance.now() - t0)}`);
  }
  // <|endoftext|> separates documents: the checkpoint's own end-of-text id, or the new vocabulary's.
  const eos = start ? (start.checkpoint.config as Gpt2Config).eosTokenId : tokenizer.padId;
  throwIfAborted(options.signal, workDir);

  /** The documents as one id stream, separated by <|endoftext|>, cut into chunks (the shorter last one kept). */
  const chunks = (documents: readonly string[]): TrainingExample[] => {
    const ids: number[] = [];
    for (const doc of documents) {
      for (const id of tokenizer.tokenize(doc).ids) ids.push(id);
      ids.push(eos);
    }
    return chunkTokenIds(ids, h.maxLength, { keepRemainder: true }).map((c) => ({ inputIds: Array.from(c) }));
  };
  t0 = performance.now();
  const trainSet = chunks(data.train);
  const validationSet = chunks(data.validation);
  const testSet = data.test.length > 0 ? chunks(data.test) : [];
  log(
    `tokenized in ${seconds(performance.now() - t0)}: ${trainSet.length} training, ${validationSet.length} validation and ` +
      `${testSet.length} test chunks of up to ${h.maxLength} tokens`,
  );

  const student = languageModelCheckpoint(h, tokenizer, eos, start);
  log(`GPT2 ${start ? `from ${start.dir}, ` : ''}${describeShape(student.config)}`);

  const result = await trainWithTaskLoss({
    task: 'causal-lm',
    student,
    train: trainSet,
    h,
    selection: validationSet,
    workDir,
    tokenizer,
    stop: options,
    started,
    hooks,
    log,
  });

  const bestDir = await bestOf(workDir);
  const model = createModel(await loadCheckpoint(bestDir));
  let validation: PerplexityMetrics;
  let test: PerplexityMetrics | undefined;
  try {
    validation = await evaluatePerplexity(model, validationSet, { batchSize: 16 });
    if (testSet.length > 0) test = await evaluatePerplexity(model, testSet, { batchSize: 16 });
  } finally {
    model.dispose();
  }
  const split = (m: PerplexityMetrics): SplitPerplexity => ({ perplexity: m.perplexity, loss: m.loss, predictedTokens: m.tokens });
  log(
    `best model (step ${result.best!.step}): validation perplexity ${validation.perplexity.toFixed(2)}` +
      (test ? `, test perplexity ${test.perplexity.toFixed(2)} over ${test.tokens} predicted tokens` : ', no test documents'),
  );

  const results: CausalLmResults = {
    ...commonResults(h, options, 'ziplm train gpt2-lm', start, data.description, student.config, tokenizer, backend, result, started),
    task: 'causal-lm',
    examples: {
      trainDocuments: data.train.length,
      validationDocuments: data.validation.length,
      testDocuments: data.test.length,
      trainChunks: trainSet.length,
      validationChunks: validationSet.length,
      testChunks: testSet.length,
    },
    metrics: { validation: split(validation), ...(test ? { test: split(test) } : {}) },
  };
  await writeOutput(outDir, bestDir, tokenizer, results, log, h.maxLength);
  return results;
}
