// The built-in tasks. SST-2, QNLI and WikiText-2 are specs of the same mechanism as the user's own
// data (custom.ts): a table or text file, named columns, a split rule. Word order (generated from
// other datasets' text), SQuAD (span QA) and the built-in samples have builders of their own.

import type { ModelConfig } from '@ziplm/models';
import {
  buildWordOrderCorpus,
  chunkTokenIds,
  GLUE_TASKS,
  postprocessSquad,
  prepareSquadFeatures,
  readSquad,
  SAMPLE_SENTENCES,
  SAMPLE_TEXT,
  squadDevSplit,
  squadMetric,
  WORD_ORDER_DATA_FILES,
  WORD_ORDER_MAX_TOKENS,
  WORD_ORDER_SPLIT_RULE,
  type GlueTaskName,
  type WordOrderExample,
} from '@ziplm/models/data';
import type { Tokenizer } from '@ziplm/models/tokenizers';
import { DEFAULT_EVAL_BATCH_SIZE, DEFAULT_SEED, DEFAULT_TASK_CALIBRATION_SAMPLES } from '../defaults.js';
import { optionError } from '../internal/options.js';
import type { MetricInfo } from '../results.js';
import {
  argmaxOf,
  classificationTask,
  crossEntropy,
  lengthSortedBatches,
  lmTask,
  requireFile,
  runLogits,
  seededShuffle,
  splitClassificationTask,
} from './builders.js';
import { taskFromSpec, type ClassificationTaskSpec, type LanguageModelingTaskSpec } from './custom.js';
import { LOSS_ITEMS, type PreparedTask, type TaskItem, type TaskOptions } from './types.js';

/** The GLUE presets: SST-2 (train.tsv for calibration, the official dev.tsv scored) and QNLI (dev.tsv only: even rows / odd rows). */
export function glueSpec(name: GlueTaskName): ClassificationTaskSpec {
  const glue = GLUE_TASKS[name];
  const columns = {
    text: glue.textColumns[0],
    ...(glue.textColumns.length === 2 ? { textPair: glue.textColumns[1] } : {}),
    label: glue.labelColumn,
  };
  if (name === 'sst2') {
    return {
      kind: 'classification',
      name,
      data: requireFile('glue', 'sst2', 'train.tsv'),
      testData: requireFile('glue', 'sst2', 'dev.tsv'),
      format: 'tsv',
      columns,
      labels: glue.labels,
      datasetLabel: 'SST-2 dev',
      notes: [],
    };
  }
  return {
    kind: 'classification',
    name,
    data: requireFile('glue', 'qnli', 'dev.tsv'),
    format: 'tsv',
    columns,
    labels: glue.labels,
    split: { kind: 'alternate-rows' },
    datasetLabel: 'QNLI dev (odd rows)',
    notes: ['QNLI: only the dev set is available; calibration uses its even rows and the accuracy is measured on its odd rows.'],
  };
}

/** The WikiText-2 preset: wiki.test.raw split by article (the GPT2 teacher trained on the same training side). */
export function wikitextSpec(): LanguageModelingTaskSpec {
  return {
    kind: 'language-modeling',
    name: 'wikitext',
    data: requireFile('wikitext-2-raw', 'wiki.test.raw'),
    documents: 'wikitext',
    split: { kind: 'every-tenth-document' },
    datasetLabel: 'WikiText-2 held-out',
    notes: [
      'WikiText-2: only wiki.test.raw is available; it is split by article (article k held out when k % 10 = 9); calibration uses the training articles, perplexity the held-out ones.',
    ],
  };
}

export function glueTask(name: GlueTaskName, config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
  return taskFromSpec(glueSpec(name), config, tokenizer, options);
}

export function wikitextTask(config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
  return taskFromSpec(wikitextSpec(), config, tokenizer, options);
}

/**
 * Word order (original vs shuffled sentences, the BERT testbed whose layers matter; docs site:
 * guide/data.md): calibrate and fine-tune on the corpus's training sentences, score on its held-out
 * sentences (WikiText-2 held-out articles and SQuAD odd articles, the same split rules the SQuAD and
 * WikiText tasks score by).
 */
export function wordOrderTask(config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
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

export function samplesTask(config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
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

export function squadTask(config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
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
