// Tasks: where calibration samples come from and how a model is scored, for each dataset ziplm
// knows. Scoring runs the exported model in onnxruntime (the engine the model ships on, and ~5x
// faster than the tfjs wasm backend here).

import type { InferenceSession } from 'onnxruntime-node';
import { xorshift32 } from '@ziplm/core';
import type { ModelConfig } from '@ziplm/models';
import {
  chunkTokenIds,
  dataPath,
  encodeGlueExamples,
  hasData,
  padBatch,
  perplexity,
  postprocessSquad,
  prepareSquadFeatures,
  qnliDevSplit,
  readGlue,
  readSquad,
  readWikiText,
  SAMPLE_SENTENCES,
  SAMPLE_TEXT,
  squadDevSplit,
  squadMetric,
  wikiTextArticleSplit,
  buildWordOrderCorpus,
  WORD_ORDER_DATA_FILES,
  WORD_ORDER_LABELS,
  WORD_ORDER_MAX_TOKENS,
  WORD_ORDER_SPLIT_RULE,
  type WordOrderExample,
  type BatchItem,
  type GlueExample,
  type GlueTaskName,
  type PaddedBatch,
} from '@ziplm/models/data';
import { ONNX_NAMES, onnxFeeds, type OrtTensorFactory } from '@ziplm/models/onnx';
import type { Tokenizer } from '@ziplm/models/tokenizers';
import { DEFAULT_EVAL_BATCH_SIZE, DEFAULT_SEED, DEFAULT_TASK_CALIBRATION_SAMPLES } from './defaults.js';
import { TaskDataError } from './errors.js';
import { checkInteger, optionError } from './internal/options.js';
import type { MetricInfo } from './results.js';

export type TaskName = 'sst2' | 'qnli' | 'wordorder' | 'squad' | 'wikitext' | 'samples';
export const TASK_NAMES: readonly TaskName[] = ['sst2', 'qnli', 'wordorder', 'squad', 'wikitext', 'samples'];

/** One tokenized sequence with what its metric needs. */
export interface TaskItem extends BatchItem {
  readonly ids: readonly number[];
  readonly typeIds: readonly number[];
  /** Classification label (GLUE) or dense prediction (agreement). */
  readonly label?: number;
  /** Answer span in tokens (SQuAD training features). */
  readonly startPosition?: number;
  readonly endPosition?: number;
}

/** What a scored model produced, kept so that 'agreement' can compare a member with the dense model. */
export interface Scores {
  readonly metric: number;
  /** Predicted class per evaluation item (classification tasks). */
  readonly predictions?: Int32Array;
}

export interface PreparedTask {
  readonly name: TaskName;
  readonly metric: MetricInfo;
  /** Data files read (their hashes go into the manifest). */
  readonly files: readonly string[];
  /** Shown in the report. */
  readonly notes: readonly string[];
  /** Calibration sequences, in a fixed order (deterministic for the options). */
  readonly calibration: readonly TaskItem[];
  /** Gold labels of the evaluation items (classification with labels), for paired comparisons. */
  readonly evaluationLabels?: Int32Array;
  /** What fine-tuning optimises: @ziplm/distill's task kind. */
  readonly kind: 'classification' | 'span-qa' | 'causal-lm';
  /**
   * Training sequences for fine-tuning (gradual mode): the task's training split, shuffled with `seed`,
   * the first `limit` of them (all when absent).
   */
  training(limit?: number, seed?: number): TaskItem[];
  /**
   * Scores a model's ONNX session; `dense` is the dense model's scores (for 'agreement').
   * `onProgress` is called after each batch with the evaluation sequences done so far and their total.
   */
  score(session: InferenceSession, ort: OrtTensorFactory, dense?: Scores, onProgress?: ScoreProgress): Promise<Scores>;
  /**
   * The task loss on (a subset of) the calibration sequences: what SPDY minimises (guide/search.md,
   * the reference scores candidates by the calibration task loss). Items without a label use
   * `pseudoLabels` (the dense model's predictions, from a first call on the dense model).
   */
  calibrationLoss(session: InferenceSession, ort: OrtTensorFactory, pseudoLabels?: Int32Array): Promise<CalibrationLoss>;
}

/** Progress of scoring: evaluation sequences (SQuAD: features) done and in all. */
export type ScoreProgress = (done: number, total: number) => void;

export interface CalibrationLoss {
  /** Mean cross-entropy (nats). */
  readonly loss: number;
  /** Predicted label per loss item (start and end positions interleaved for span QA): pseudo-labels for members. */
  readonly predictions: Int32Array;
}

/** Calibration sequences the SPDY loss uses (the first ones of the calibration sample). */
export const LOSS_ITEMS = 1024;

export interface TaskOptions {
  /** Number of calibration sequences (default 512). */
  calibrationSamples?: number;
  /** Seed of the calibration sample (default 42, as the reference's `_dataloader_builder`). */
  seed?: number;
  /** Longest sequence (default min(128, maxPositions); SQuAD 384; WikiText chunks 128). */
  maxLength?: number;
  /** Evaluate on at most this many items (default: all). */
  evalLimit?: number;
  /** Sequences per onnxruntime run when scoring (default 32). */
  evalBatchSize?: number;
}

function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  // xorshift32 (@ziplm/core): the stream the calibration and evaluation samples have always been drawn from.
  const next = xorshift32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Batches of at most `batchSize` items sorted by length (less padding), with the items' original positions. */
function lengthSortedBatches(items: readonly TaskItem[], padId: number, batchSize: number): PaddedBatch[] {
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.ids.length - items[b]!.ids.length || a - b);
  const batches: PaddedBatch[] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const idx = order.slice(i, i + batchSize);
    batches.push(
      padBatch(
        idx.map((k) => items[k]!),
        { padId },
        idx,
      ),
    );
  }
  return batches;
}

async function runLogits(session: InferenceSession, ort: OrtTensorFactory, config: ModelConfig, batch: PaddedBatch): Promise<Float32Array> {
  const out = await session.run(onnxFeeds(ort, config, batch) as Parameters<InferenceSession['run']>[0]);
  return out[ONNX_NAMES.logits]!.data as Float32Array;
}

function argmaxRows(logits: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[r * cols + c]! > logits[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** −log softmax(row)[target], computed stably. */
function crossEntropy(logits: Float32Array, offset: number, size: number, target: number): number {
  let max = -Infinity;
  for (let v = 0; v < size; v++) max = Math.max(max, logits[offset + v]!);
  let sum = 0;
  for (let v = 0; v < size; v++) sum += Math.exp(logits[offset + v]! - max);
  return max + Math.log(sum) - logits[offset + target]!;
}

function argmaxOf(values: Float32Array, offset: number, size: number): number {
  let best = 0;
  for (let v = 1; v < size; v++) if (values[offset + v]! > values[offset + best]!) best = v;
  return best;
}

function requireFile(...parts: string[]): string {
  const file = dataPath(...parts);
  if (!hasData(parts.join('/')))
    throw new TaskDataError(file, `not found (set ZIPLM_DATA_DIR to the directory holding ${parts.join('/')})`);
  return file;
}

/** The share of the most frequent label, in %: the accuracy of always predicting it. */
function majorityClassRate(labels: readonly number[]): number {
  const counts = new Map<number, number>();
  let most = 0;
  for (const label of labels) {
    const count = (counts.get(label) ?? 0) + 1;
    counts.set(label, count);
    most = Math.max(most, count);
  }
  return labels.length === 0 ? 0 : (100 * most) / labels.length;
}

function classificationTask(
  name: TaskName,
  metric: MetricInfo,
  config: ModelConfig,
  tokenizer: Tokenizer,
  calibration: TaskItem[],
  evaluation: TaskItem[],
  files: string[],
  notes: string[],
  options: TaskOptions,
  training: () => TaskItem[],
): PreparedTask {
  if (config.modelType !== 'bert' || config.head.type !== 'classification') {
    throw optionError(
      'task',
      `"${name}" needs a BERT sequence classifier, the model is ${config.modelType}${config.modelType === 'bert' ? ` with a "${config.head.type}" head` : ''}`,
    );
  }
  const numLabels = config.head.labels.length;
  const batches = lengthSortedBatches(evaluation, tokenizer.padId, options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE.classification);
  const lossItems = calibration.slice(0, LOSS_ITEMS);
  const lossBatches = lengthSortedBatches(lossItems, tokenizer.padId, options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE.classification);
  const labelled = metric.name === 'accuracy' && evaluation.every((e) => e.label !== undefined);
  // The report's 95% interval (Wilson) needs the item count; its degenerate-member flag needs the
  // accuracy of a constant predictor, known here only when the metric is accuracy on gold labels
  // (agreement's labels are the dense model's predictions, known after scoring it).
  const metricInfo: MetricInfo = {
    ...metric,
    items: evaluation.length,
    ...(labelled ? { chance: majorityClassRate(evaluation.map((e) => e.label!)) } : {}),
  };
  return {
    name,
    metric: metricInfo,
    files,
    notes,
    calibration,
    kind: 'classification',
    training: (limit, seed) => seededShuffle(training(), seed ?? DEFAULT_SEED).slice(0, limit),
    ...(labelled ? { evaluationLabels: Int32Array.from(evaluation, (e) => e.label!) } : {}),
    async calibrationLoss(session, ort, pseudoLabels) {
      const predictions = new Int32Array(lossItems.length);
      let total = 0;
      for (const batch of lossBatches) {
        const logits = await runLogits(session, ort, config, batch);
        batch.indices.forEach((item, row) => {
          predictions[item] = argmaxOf(logits, row * numLabels, numLabels);
          const target = lossItems[item]!.label ?? pseudoLabels?.[item] ?? predictions[item]!;
          total += crossEntropy(logits, row * numLabels, numLabels, target);
        });
      }
      return { loss: total / lossItems.length, predictions };
    },
    async score(session, ort, dense, onProgress) {
      const predictions = new Int32Array(evaluation.length);
      let done = 0;
      for (const batch of batches) {
        const pred = argmaxRows(await runLogits(session, ort, config, batch), batch.batchSize, numLabels);
        batch.indices.forEach((item, row) => {
          predictions[item] = pred[row]!;
        });
        done += batch.batchSize;
        onProgress?.(done, evaluation.length);
      }
      let correct = 0;
      const agreement = metric.name === 'agreement';
      if (agreement && !dense?.predictions) {
        // The dense model agrees with itself.
        return { metric: 100, predictions };
      }
      for (let i = 0; i < evaluation.length; i++) {
        const truth = agreement ? dense!.predictions![i]! : evaluation[i]!.label!;
        if (predictions[i] === truth) correct++;
      }
      return { metric: (100 * correct) / evaluation.length, predictions };
    },
  };
}

/**
 * A classification task from a training split and a held-out split: calibration uses the first
 * `calibrationSamples` of the training split shuffled with `seed`, scoring the held-out split (its first
 * `evalLimit` items), and fine-tuning the whole training split, encoded on first use.
 */
function splitClassificationTask<T>(
  name: TaskName,
  metric: MetricInfo,
  config: ModelConfig,
  tokenizer: Tokenizer,
  options: TaskOptions,
  data: { readonly train: readonly T[]; readonly heldout: readonly T[]; readonly files: string[]; readonly notes: string[] },
  encode: (examples: readonly T[]) => TaskItem[],
): PreparedTask {
  const samples = options.calibrationSamples ?? DEFAULT_TASK_CALIBRATION_SAMPLES;
  const seed = options.seed ?? DEFAULT_SEED;
  const evaluation = options.evalLimit !== undefined ? data.heldout.slice(0, options.evalLimit) : data.heldout;
  let encodedTraining: TaskItem[] | undefined;
  const training = () => (encodedTraining ??= encode(data.train));
  return classificationTask(
    name,
    metric,
    config,
    tokenizer,
    encode(seededShuffle(data.train, seed).slice(0, samples)),
    encode(evaluation),
    data.files,
    data.notes,
    options,
    training,
  );
}

function glueTask(name: GlueTaskName, config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
  const maxLength = options.maxLength ?? Math.min(128, config.maxPositions);
  const encode = (examples: readonly GlueExample[]): TaskItem[] =>
    encodeGlueExamples(examples, tokenizer, maxLength).map((e, i) => ({ ids: e.ids, typeIds: e.typeIds, label: examples[i]!.label }));
  const metric: MetricInfo = {
    name: 'accuracy',
    label: `${name === 'sst2' ? 'SST-2 dev' : 'QNLI dev (odd rows)'} accuracy (%)`,
    higherIsBetter: true,
  };
  if (name === 'sst2') {
    const train = requireFile('glue', 'sst2', 'train.tsv');
    const dev = requireFile('glue', 'sst2', 'dev.tsv');
    return splitClassificationTask(
      name,
      metric,
      config,
      tokenizer,
      options,
      { train: readGlue(train, 'sst2'), heldout: readGlue(dev, 'sst2'), files: [train, dev], notes: [] },
      encode,
    );
  }
  // Only the QNLI dev set is available: calibrate and fine-tune on its even rows, score on its odd rows.
  const dev = requireFile('glue', 'qnli', 'dev.tsv');
  const all = readGlue(dev, 'qnli');
  return splitClassificationTask(
    name,
    metric,
    config,
    tokenizer,
    options,
    {
      train: qnliDevSplit(all, 'train'),
      heldout: qnliDevSplit(all, 'heldout'),
      files: [dev],
      notes: ['QNLI: only the dev set is available; calibration uses its even rows and the accuracy is measured on its odd rows.'],
    },
    encode,
  );
}

/**
 * Word order (original vs shuffled sentences, the BERT testbed whose layers matter; docs site:
 * guide/data.md): calibrate and fine-tune on the corpus's training sentences, score on its held-out
 * sentences (WikiText-2 held-out articles and SQuAD odd articles, the same split rules the SQuAD and
 * WikiText tasks score by).
 */
function wordOrderTask(config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
  // Scored at the length the word-order teacher was trained at (positions beyond it never were).
  const maxLength = options.maxLength ?? Math.min(WORD_ORDER_MAX_TOKENS, config.maxPositions);
  const files = WORD_ORDER_DATA_FILES.map((f) => requireFile(...f.split('/')));
  const [sst2Train, wikitext, squad] = files as [string, string, string];
  const corpus = buildWordOrderCorpus({ sst2Train, wikitext, squad });
  const encode = (examples: readonly WordOrderExample[]): TaskItem[] =>
    examples.map((e) => {
      const enc = tokenizer.encode(e.text, undefined, { maxLength });
      return { ids: enc.ids, typeIds: enc.typeIds, label: e.label };
    });
  return splitClassificationTask(
    'wordorder',
    { name: 'accuracy', label: 'word-order held-out accuracy (%)', higherIsBetter: true },
    config,
    tokenizer,
    options,
    {
      train: corpus.train,
      heldout: corpus.heldout,
      files,
      notes: [`Word order (original vs shuffled sentences): ${WORD_ORDER_SPLIT_RULE}.`],
    },
    encode,
  );
}

function samplesTask(config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
  const maxLength = options.maxLength ?? Math.min(128, config.maxPositions);
  const notes = [
    'No dataset was used: calibration and scoring use the built-in sample text, and the metric is agreement with the dense model, not accuracy.',
  ];
  if (config.modelType === 'bert') {
    // The sample sentences carry sentiment labels (for fine-tuning and the SPDY loss); the metric
    // stays agreement with the dense model, since a model need not be a sentiment classifier.
    const items = SAMPLE_SENTENCES.map((s) => {
      const e = tokenizer.encode(s.text, undefined, { maxLength });
      return {
        ids: e.ids,
        typeIds: e.typeIds,
        label: config.head.type === 'classification' && config.head.labels.length === 2 ? s.label : 0,
      };
    });
    const metric: MetricInfo = {
      name: 'agreement',
      label: 'agreement with the dense model on built-in sentences (%)',
      higherIsBetter: true,
    };
    return classificationTask('samples', metric, config, tokenizer, items, items, [], notes, options, () => items);
  }
  const ids = tokenizer.encode(SAMPLE_TEXT).ids;
  const chunks = chunkTokenIds(ids, Math.min(maxLength, Math.max(2, ids.length >> 1)), { keepRemainder: true });
  const items = chunks.map((c) => ({ ids: [...c], typeIds: new Array<number>(c.length).fill(0) }));
  return lmTask(
    'samples',
    { name: 'perplexity', label: 'perplexity on built-in sample text (lower is better)', higherIsBetter: false },
    config,
    tokenizer,
    items,
    items,
    [],
    notes,
    options,
    () => items,
  );
}

function lmTask(
  name: TaskName,
  metric: MetricInfo,
  config: ModelConfig,
  tokenizer: Tokenizer,
  calibration: TaskItem[],
  evaluation: TaskItem[],
  files: string[],
  notes: string[],
  options: TaskOptions,
  training: () => TaskItem[],
): PreparedTask {
  if (config.modelType !== 'gpt2') throw optionError('task', `"${name}" needs a GPT2 language model, the model is ${config.modelType}`);
  const batches = lengthSortedBatches(evaluation, tokenizer.padId, options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE['causal-lm']);
  const lossBatches = lengthSortedBatches(
    calibration.slice(0, LOSS_ITEMS),
    tokenizer.padId,
    options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE['causal-lm'],
  );
  const vocab = config.vocabSize;
  /** Σ next-token NLL and the number of predicted tokens. */
  const nll = async (session: InferenceSession, ort: OrtTensorFactory, list: PaddedBatch[], onProgress?: ScoreProgress) => {
    let total = 0;
    let count = 0;
    let done = 0;
    const sequences = list.reduce((n, b) => n + b.batchSize, 0);
    for (const batch of list) {
      const logits = await runLogits(session, ort, config, batch);
      const { batchSize: b, seqLength: s, inputIds, attentionMask } = batch;
      for (let r = 0; r < b; r++) {
        for (let t = 0; t + 1 < s; t++) {
          if (!attentionMask[r * s + t + 1]) continue;
          total += crossEntropy(logits, (r * s + t) * vocab, vocab, inputIds[r * s + t + 1]!);
          count++;
        }
      }
      done += b;
      onProgress?.(done, sequences);
    }
    return { total, count };
  };
  return {
    name,
    metric,
    files,
    notes,
    calibration,
    kind: 'causal-lm',
    training: (limit, seed) => seededShuffle(training(), seed ?? DEFAULT_SEED).slice(0, limit),
    async score(session, ort, _dense, onProgress) {
      const { total, count } = await nll(session, ort, batches, onProgress);
      return { metric: perplexity(total, count) };
    },
    async calibrationLoss(session, ort) {
      const { total, count } = await nll(session, ort, lossBatches);
      return { loss: total / Math.max(1, count), predictions: new Int32Array(0) };
    },
  };
}

function wikitextTask(config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
  const file = requireFile('wikitext-2-raw', 'wiki.test.raw');
  const text = readWikiText(file);
  const length = Math.min(options.maxLength ?? 128, config.maxPositions);
  const stream = (articles: string[]) => {
    const eos = config.modelType === 'gpt2' ? config.eosTokenId : tokenizer.padId;
    const ids: number[] = [];
    // A loop, not push(...ids): spreading a long article's ids overflows the call stack.
    for (const a of articles) {
      for (const id of tokenizer.encode(a).ids) ids.push(id);
      ids.push(eos);
    }
    return chunkTokenIds(ids, length).map((c) => ({ ids: [...c], typeIds: new Array<number>(c.length).fill(0) }));
  };
  // The GPT2 teacher was trained on the training side of the same split (@ziplm/models' one rule).
  const articles = wikiTextArticleSplit(text, file);
  const trainChunks = stream(articles.train);
  const calibration = seededShuffle(trainChunks, options.seed ?? DEFAULT_SEED).slice(
    0,
    options.calibrationSamples ?? DEFAULT_TASK_CALIBRATION_SAMPLES,
  );
  let evaluation = stream(articles.heldout);
  if (evaluation.length === 0) {
    throw new TaskDataError(
      file,
      `the held-out articles (k % 10 = 9) hold fewer than ${length} tokens: too little text to score perplexity`,
    );
  }
  if (options.evalLimit !== undefined) evaluation = evaluation.slice(0, options.evalLimit);
  const metric: MetricInfo = {
    name: 'perplexity',
    label: `WikiText-2 held-out perplexity, ${length}-token chunks (lower is better)`,
    higherIsBetter: false,
  };
  const notes = [
    'WikiText-2: only wiki.test.raw is available; it is split by article (article k held out when k % 10 = 9); calibration uses the training articles, perplexity the held-out ones.',
  ];
  return lmTask('wikitext', metric, config, tokenizer, calibration, evaluation, [file], notes, options, () => trainChunks);
}

function squadTask(config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
  if (config.modelType !== 'bert' || config.head.type !== 'span-qa')
    throw optionError('task', '"squad" needs a BERT span-QA model (BertForQuestionAnswering)');
  const file = requireFile('squad', 'dev-v1.1.json');
  const examples = readSquad(file);
  // Only the dev set is available: calibrate on the questions of even articles, score on odd ones.
  const calibrationExamples = squadDevSplit(examples, 'train');
  const maxLength = options.maxLength ?? Math.min(384, config.maxPositions);
  const docStride = Math.min(128, maxLength >> 2);
  const toItems = (features: ReturnType<typeof prepareSquadFeatures>): TaskItem[] =>
    features.map((f) => ({ ids: f.inputIds, typeIds: f.typeIds, startPosition: f.startPosition, endPosition: f.endPosition }));
  const calibrationFeatures = prepareSquadFeatures(calibrationExamples, tokenizer, { maxLength, docStride });
  const calibration = seededShuffle(toItems(calibrationFeatures), options.seed ?? DEFAULT_SEED).slice(
    0,
    options.calibrationSamples ?? DEFAULT_TASK_CALIBRATION_SAMPLES,
  );
  let evalExamples = squadDevSplit(examples, 'heldout');
  if (options.evalLimit !== undefined) evalExamples = evalExamples.slice(0, options.evalLimit);
  const evalFeatures = prepareSquadFeatures(evalExamples, tokenizer, { maxLength, docStride });
  const evalItems = toItems(evalFeatures);
  const batches = lengthSortedBatches(evalItems, tokenizer.padId, options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE['span-qa']);
  const lossItems = calibration.slice(0, LOSS_ITEMS);
  const lossBatches = lengthSortedBatches(lossItems, tokenizer.padId, options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE['span-qa']);
  const trainItems = toItems(calibrationFeatures);
  return {
    kind: 'span-qa',
    training: (limit, seed) => seededShuffle(trainItems, seed ?? DEFAULT_SEED).slice(0, limit),
    async calibrationLoss(session, ort, pseudoLabels) {
      // The task loss with the gold answer positions (the dense model's predictions for items without them).
      const predictions = new Int32Array(2 * lossItems.length);
      let total = 0;
      for (const batch of lossBatches) {
        const logits = await runLogits(session, ort, config, batch);
        const s = batch.seqLength;
        batch.indices.forEach((item, row) => {
          const starts = new Float32Array(s);
          const ends = new Float32Array(s);
          for (let t = 0; t < s; t++) {
            starts[t] = batch.attentionMask[row * s + t] ? logits[(row * s + t) * 2]! : -1e9;
            ends[t] = batch.attentionMask[row * s + t] ? logits[(row * s + t) * 2 + 1]! : -1e9;
          }
          predictions[2 * item] = argmaxOf(starts, 0, s);
          predictions[2 * item + 1] = argmaxOf(ends, 0, s);
          const gold = lossItems[item]!;
          total += crossEntropy(starts, 0, s, gold.startPosition ?? pseudoLabels?.[2 * item] ?? predictions[2 * item]!);
          total += crossEntropy(ends, 0, s, gold.endPosition ?? pseudoLabels?.[2 * item + 1] ?? predictions[2 * item + 1]!);
        });
      }
      return { loss: total / (2 * lossItems.length), predictions };
    },
    name: 'squad',
    metric: { name: 'f1', label: 'SQuAD v1.1 dev F1 (odd articles)', higherIsBetter: true },
    files: [file],
    notes: [
      'SQuAD: only the dev set is available; calibration and fine-tuning use the questions of even-numbered articles and F1 is measured on odd-numbered ones.',
    ],
    calibration,
    async score(session, ort, _dense, onProgress) {
      const starts: Float32Array[] = new Array(evalFeatures.length);
      const ends: Float32Array[] = new Array(evalFeatures.length);
      let done = 0;
      for (const batch of batches) {
        const logits = await runLogits(session, ort, config, batch);
        const s = batch.seqLength;
        batch.indices.forEach((f, row) => {
          const start = new Float32Array(s);
          const end = new Float32Array(s);
          for (let t = 0; t < s; t++) {
            start[t] = logits[(row * s + t) * 2]!;
            end[t] = logits[(row * s + t) * 2 + 1]!;
          }
          starts[f] = start;
          ends[f] = end;
        });
        done += batch.batchSize;
        onProgress?.(done, evalFeatures.length);
      }
      const predictions = postprocessSquad(evalExamples, evalFeatures, starts, ends);
      return { metric: squadMetric(evalExamples, new Map(predictions.map((p) => [p.id, p.text]))).f1 };
    },
  };
}

/** Prepares a task for a model: reads and tokenizes its calibration and evaluation data. */
export function prepareTask(name: TaskName, config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions = {}): PreparedTask {
  checkInteger(options.calibrationSamples, 'calibrationSamples', 1);
  checkInteger(options.evalLimit, 'evalLimit', 1);
  checkInteger(options.evalBatchSize, 'evalBatchSize', 1);
  checkInteger(options.maxLength, 'maxLength', 2);
  switch (name) {
    case 'sst2':
    case 'qnli':
      return glueTask(name, config, tokenizer, options);
    case 'wordorder':
      return wordOrderTask(config, tokenizer, options);
    case 'squad':
      return squadTask(config, tokenizer, options);
    case 'wikitext':
      return wikitextTask(config, tokenizer, options);
    case 'samples':
      return samplesTask(config, tokenizer, options);
    default:
      throw optionError('task', `must be one of ${TASK_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  }
}

/** A classifier whose labels are the word-order task's (the wordorder-bert teacher and what is pruned from it). */
function isWordOrderModel(config: ModelConfig): boolean {
  const labels = config.modelType === 'bert' && config.head.type === 'classification' ? config.head.labels : [];
  return labels.length === WORD_ORDER_LABELS.length && labels.every((l, i) => l === WORD_ORDER_LABELS[i]);
}

/** The task to use when none is given: the model's natural dataset if it is present, else the built-in samples. */
export function defaultTask(config: ModelConfig): TaskName {
  if (config.modelType === 'gpt2') return hasData('wikitext-2-raw/wiki.test.raw') ? 'wikitext' : 'samples';
  if (config.head.type === 'span-qa') return 'squad';
  if (isWordOrderModel(config)) return hasData(...WORD_ORDER_DATA_FILES) ? 'wordorder' : 'samples';
  return hasData('glue/sst2/train.tsv', 'glue/sst2/dev.tsv') ? 'sst2' : 'samples';
}
