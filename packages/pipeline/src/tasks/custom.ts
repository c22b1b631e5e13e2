// Tasks from data files: text classification (CSV, TSV, JSON Lines with named columns) and language
// modelling (plain text files or a directory of them). The user's own data and the GLUE and WikiText
// presets go through the same code (docs site: guide/data-formats.md). A spec names the files and how
// the part every metric is measured on (test) is taken from them; `readTaskData` resolves it into the
// three parts, and `ziplm train`, `prune`, `gradual` and `eval` all call it, so whoever trains and whoever
// scores split the data by the same rule.

import { basename } from 'node:path';
import { familyName, isDecoder, type ModelConfig } from '@ziplm/models';
import {
  DEFAULT_SPLIT_FRACTIONS,
  describeSeededSplit,
  isWikiTextHeldOut,
  orderLabels,
  readTextClassification,
  readTextCorpus,
  seededSplit,
  stratifiedSplit,
  WIKITEXT_MIN_ARTICLES,
  type DocumentSeparator,
  type RowsReport,
  type TableFormat,
  type TextClassificationColumns,
  type TextClassificationExample,
  type TextDocument,
} from '@ziplm/models/data';
import type { Tokenizer } from '@ziplm/models/tokenizers';
import { DEFAULT_SEED, DEFAULT_TASK_CALIBRATION_SAMPLES } from '../defaults.js';
import { TaskDataError } from '../errors.js';
import { hashFile } from '../internal/files.js';
import { optionError } from '../internal/options.js';
import type { MetricInfo } from '../results.js';
import { documentChunks, lmTask, seededShuffle, splitClassificationTask } from './builders.js';
import type { PreparedTask, TaskItem, TaskOptions } from './types.js';

/**
 * How the test part (and, for training, the validation part) is taken from the data file when no file
 * gives it. `seeded`: a seeded split (stratified by label for classification); `alternate-rows`: odd
 * rows are the test part (the QNLI preset: only its dev set exists); `every-tenth-document`: document k
 * is the test part when k % 10 === 9 (the WikiText preset).
 */
export type TaskSplit =
  | { readonly kind: 'seeded'; readonly validation: number; readonly test: number; readonly seed: number }
  | { readonly kind: 'alternate-rows' }
  | { readonly kind: 'every-tenth-document' };

/** The split of a file that gives neither a validation nor a test file: 10% validation, 10% test, seed 42. */
export const DEFAULT_TASK_SPLIT: TaskSplit = { kind: 'seeded', ...DEFAULT_SPLIT_FRACTIONS, seed: DEFAULT_SEED };

interface TaskSpecBase {
  /** The task's name in every output (results.json, report, CLI table). */
  readonly name: string;
  /** The training data (calibration and fine-tuning), and the source of the parts no file gives. */
  readonly data: string;
  readonly validationData?: string;
  readonly testData?: string;
  /** Default {@link DEFAULT_TASK_SPLIT}. */
  readonly split?: TaskSplit;
  /** What the metric is measured on, in the metric's label (default `<name> test`), e.g. 'SST-2 dev'. */
  readonly datasetLabel?: string;
  /** Shown in the report (default: where each part came from). */
  readonly notes?: readonly string[];
}

/** Text or text-pair classification from a table file. */
export interface ClassificationTaskSpec extends TaskSpecBase {
  readonly kind: 'classification';
  /** Default: from the file's extension. */
  readonly format?: TableFormat;
  readonly columns: TextClassificationColumns;
  /**
   * The data's label values in id order. Default: a model's labels are matched by name (integer
   * labels map to ids when the model's labels are the generic LABEL_k), and `ziplm train` orders
   * the labels it finds with `orderLabels`.
   */
  readonly labels?: readonly string[];
  /** Skip bad rows (counted in the notes) instead of refusing the file. */
  readonly skipBadRows?: boolean;
}

/** Causal language modelling from a text file or a directory of them. */
export interface LanguageModelingTaskSpec extends TaskSpecBase {
  readonly kind: 'language-modeling';
  readonly documents: DocumentSeparator;
}

/** A task from data files (the user's own, or a preset's). */
export type TaskSpec = ClassificationTaskSpec | LanguageModelingTaskSpec;

/** A spec's data, in its three parts. */
export interface TaskData<T> {
  readonly train: T[];
  readonly validation: T[];
  readonly test: T[];
  /**
   * Everything of the data file that is not the test part, in file order: what calibration and
   * fine-tuning use (with a test file, the whole data file).
   */
  readonly calibrationPool: T[];
  /** Every file read, in order. */
  readonly files: string[];
  /** Where each part came from, in words (recorded by runs and by `ziplm train`). */
  readonly splitRule: string;
}

export interface ClassificationTaskData extends TaskData<TextClassificationExample> {
  readonly kind: 'classification';
  /** The label values found in all parts, in `orderLabels` order (or the spec's `labels`). */
  readonly labels: string[];
  /** Rows read and skipped, per file. */
  readonly rows: readonly { readonly file: string; readonly report: RowsReport }[];
}

export interface LanguageModelingTaskData extends TaskData<TextDocument> {
  readonly kind: 'language-modeling';
}

function fractionOf(split: TaskSplit, part: 'validation' | 'test'): number {
  return split.kind === 'seeded' ? split[part] : 0;
}

/**
 * Splits `items` of the data file by the spec's rule, leaving out the parts a file gives. Returns
 * the parts and the rule in words.
 */
function splitData<T>(
  items: readonly T[],
  split: TaskSplit,
  has: { validation: boolean; test: boolean },
  file: string,
  labelOf?: (item: T) => string,
): { train: T[]; validation: T[]; test: T[]; rule: string } {
  if (split.kind === 'alternate-rows') {
    return {
      train: items.filter((_, i) => i % 2 === 0),
      validation: [],
      test: has.test ? [] : items.filter((_, i) => i % 2 === 1),
      rule: `${file}: even rows for calibration and training, odd rows for scoring`,
    };
  }
  if (split.kind === 'every-tenth-document') {
    if (items.length < WIKITEXT_MIN_ARTICLES) {
      throw new TaskDataError(
        file,
        `has ${items.length} document(s): at least ${WIKITEXT_MIN_ARTICLES} are needed to hold out every tenth for scoring`,
      );
    }
    return {
      train: items.filter((_, k) => !isWikiTextHeldOut(k)),
      validation: [],
      test: has.test ? [] : items.filter((_, k) => isWikiTextHeldOut(k)),
      rule: `${file}: document k held out for scoring when k % 10 = 9`,
    };
  }
  const fractions = { validation: has.validation ? 0 : split.validation, test: has.test ? 0 : split.test };
  const parts = labelOf ? stratifiedSplit(items, labelOf, fractions, split.seed) : seededSplit(items, fractions, split.seed);
  return { ...parts, rule: `${file}: ${describeSeededSplit(fractions, split.seed, labelOf !== undefined)}` };
}

/** The three parts from the data file and the optional validation and test files. */
function assemble<T>(
  spec: TaskSpec,
  data: T[],
  validationFile: T[] | undefined,
  testFile: T[] | undefined,
  labelOf?: (item: T) => string,
): Omit<TaskData<T>, 'files'> {
  const split = spec.split ?? DEFAULT_TASK_SPLIT;
  const parts = splitData(
    data,
    split,
    { validation: validationFile !== undefined, test: testFile !== undefined },
    basename(spec.data),
    labelOf,
  );
  const test = testFile ?? parts.test;
  const testSet = new Set(parts.test);
  const rules = [parts.rule];
  if (validationFile) rules.push(`validation: ${basename(spec.validationData!)}`);
  if (testFile) rules.push(`test: ${basename(spec.testData!)}`);
  return {
    train: parts.train,
    validation: validationFile ?? parts.validation,
    test,
    calibrationPool: testFile ? data : data.filter((item) => !testSet.has(item)),
    splitRule: rules.join('; '),
  };
}

/**
 * Reads a spec's files and splits them. Throws the readers' DataError (file, line, column) for a bad
 * file, and TaskDataError when a part is empty.
 */
export function readTaskData(spec: ClassificationTaskSpec): ClassificationTaskData;
export function readTaskData(spec: LanguageModelingTaskSpec): LanguageModelingTaskData;
export function readTaskData(spec: TaskSpec): ClassificationTaskData | LanguageModelingTaskData;
export function readTaskData(spec: TaskSpec): ClassificationTaskData | LanguageModelingTaskData {
  const split = spec.split ?? DEFAULT_TASK_SPLIT;
  if (split.kind === 'seeded') {
    for (const part of ['validation', 'test'] as const) {
      const f = fractionOf(split, part);
      if (!(f >= 0 && f < 1)) throw optionError(`split.${part}`, `must be in [0, 1), got ${f}`);
    }
    if (!(split.validation + split.test < 1))
      throw optionError('split', `validation + test must be < 1, got ${split.validation + split.test}`);
  }
  const files = [spec.data, spec.validationData, spec.testData].filter((f): f is string => f !== undefined);
  if (spec.kind === 'classification') {
    const rows: { file: string; report: RowsReport }[] = [];
    const read = (file: string) => {
      const { examples, report } = readTextClassification(file, spec.columns, {
        ...(spec.format ? { format: spec.format } : {}),
        ...(spec.skipBadRows ? { skipBadRows: true } : {}),
        ...(spec.labels ? { labels: spec.labels } : {}),
      });
      rows.push({ file, report });
      return examples;
    };
    const data = read(spec.data);
    const validationFile = spec.validationData !== undefined ? read(spec.validationData) : undefined;
    const testFile = spec.testData !== undefined ? read(spec.testData) : undefined;
    const parts = assemble(spec, data, validationFile, testFile, (e) => e.label);
    if (parts.test.length === 0) throw new TaskDataError(spec.testData ?? spec.data, 'the test part is empty: nothing to score on');
    const labels = spec.labels
      ? [...spec.labels]
      : orderLabels([...data, ...(validationFile ?? []), ...(testFile ?? [])].map((e) => e.label));
    return { kind: 'classification', ...parts, labels, rows, files };
  }
  const corpusFiles: string[] = [];
  const read = (path: string) => {
    const corpus = readTextCorpus(path, spec.documents);
    corpusFiles.push(...corpus.files);
    return corpus.documents;
  };
  const data = read(spec.data);
  const validationFile = spec.validationData !== undefined ? read(spec.validationData) : undefined;
  const testFile = spec.testData !== undefined ? read(spec.testData) : undefined;
  const parts = assemble(spec, data, validationFile, testFile);
  if (parts.test.length === 0) {
    throw new TaskDataError(
      spec.testData ?? spec.data,
      `the test part holds no document (${data.length} documents; ${parts.splitRule}): nothing to score on; ` +
        'split the text into more documents (--documents blank-line or line), give a larger test fraction, or --test-data',
    );
  }
  return { kind: 'language-modeling', ...parts, files: corpusFiles };
}

/**
 * What a model trained on a spec's data records about them (`ziplm train` writes it into results.json):
 * the task, every file read with its sha256, and the split rule.
 */
export async function describeTaskData(
  spec: TaskSpec,
  data: TaskData<unknown>,
): Promise<{ task: string; kind: TaskSpec['kind']; files: { file: string; sha256: string }[]; split: string }> {
  const files = await Promise.all(data.files.map(async (file) => ({ file, sha256: await hashFile(file) })));
  return { task: spec.name, kind: spec.kind, files, split: data.splitRule };
}

/** Whether a model's class names are the generic LABEL_0, LABEL_1, … of a checkpoint saved without names. */
function genericLabels(labels: readonly string[]): boolean {
  return labels.every((l, i) => l === `LABEL_${i}`);
}

/**
 * Maps the data's label values to the model's class ids: by the spec's `labels` order, else by name,
 * else (a model with generic LABEL_k names) an integer label k is class k.
 */
export function labelIdsFor(spec: ClassificationTaskSpec, modelLabels: readonly string[], file: string): (label: string) => number {
  const byName = new Map((spec.labels ?? modelLabels).map((l, i) => [l, i]));
  if (spec.labels && spec.labels.length !== modelLabels.length) {
    throw optionError(
      'labels',
      `lists ${spec.labels.length} labels (${spec.labels.join(', ')}) for a model with ${modelLabels.length} (${modelLabels.join(', ')})`,
    );
  }
  const generic = genericLabels(modelLabels);
  return (label) => {
    const id = byName.get(label);
    if (id !== undefined) return id;
    if (generic && /^\d+$/.test(label) && Number(label) < modelLabels.length) return Number(label);
    throw new TaskDataError(
      file,
      `label "${label}" is not one of the model's labels (${modelLabels.join(', ')}); give the data's labels in the model's id order with --labels`,
    );
  };
}

/** A classification task from a spec (the model must be a BERT classifier). */
function classificationFromSpec(
  spec: ClassificationTaskSpec,
  config: ModelConfig,
  tokenizer: Tokenizer,
  options: TaskOptions,
): PreparedTask {
  if (config.modelType !== 'bert' || config.head.type !== 'classification') {
    throw optionError(
      'task',
      `"${spec.name}" is a classification task and needs a BERT sequence classifier, the model is ${config.modelType}`,
    );
  }
  const data = readTaskData(spec);
  const idOf = labelIdsFor(spec, config.head.labels, spec.data);
  const maxLength = options.maxLength ?? Math.min(config.maxSequenceLength ?? 128, config.maxPositions);
  const encode = (examples: readonly TextClassificationExample[]): TaskItem[] =>
    examples.map((e) => {
      const enc = tokenizer.encode(e.text, e.textPair, { maxLength, truncation: 'longest_first' });
      return { ids: enc.ids, typeIds: enc.typeIds, label: idOf(e.label) };
    });
  const skipped = data.rows.filter((r) => r.report.skipped > 0);
  const notes = spec.notes
    ? [...spec.notes]
    : [
        `${spec.name}: ${data.calibrationPool.length} rows for calibration and fine-tuning, ${data.test.length} scored (${data.splitRule}); labels ${config.head.labels.join(', ')}.`,
        ...skipped.map(
          (r) =>
            `${basename(r.file)}: ${r.report.skipped} of ${r.report.rowsRead} rows skipped (${r.report.skippedReasons.slice(0, 3).join('; ')}).`,
        ),
      ];
  const metric: MetricInfo = { name: 'accuracy', label: `${spec.datasetLabel ?? `${spec.name} test`} accuracy (%)`, higherIsBetter: true };
  return splitClassificationTask(
    spec.name,
    metric,
    config,
    tokenizer,
    options,
    { train: data.calibrationPool, heldout: data.test, files: data.files, notes },
    encode,
  );
}

/** A causal LM task from a spec (the model must be GPT2): documents joined by EOS, cut into fixed-length chunks. */
function languageModelingFromSpec(
  spec: LanguageModelingTaskSpec,
  config: ModelConfig,
  tokenizer: Tokenizer,
  options: TaskOptions,
): PreparedTask {
  if (!isDecoder(config)) {
    throw optionError(
      'task',
      `"${spec.name}" is a language-modelling task and needs a language model (GPT2 or LLaMA), the model is ${familyName(config)}`,
    );
  }
  const data = readTaskData(spec);
  const length = Math.min(options.maxLength ?? config.maxSequenceLength ?? 128, config.maxPositions);
  const eos = config.eosTokenId;
  const texts = (documents: readonly TextDocument[]) => documents.map((d) => d.text);
  const trainChunks = documentChunks(texts(data.calibrationPool), tokenizer, eos, length);
  let evaluation = documentChunks(texts(data.test), tokenizer, eos, length);
  if (evaluation.length === 0) {
    throw new TaskDataError(
      spec.testData ?? spec.data,
      `the test part (${data.splitRule}) holds fewer than ${length} tokens: too little text to score perplexity on ${length}-token chunks (use a larger test part or --max-length)`,
    );
  }
  if (trainChunks.length === 0) {
    throw new TaskDataError(spec.data, `the calibration part holds fewer than ${length} tokens: too little text to calibrate on`);
  }
  if (options.evalLimit !== undefined) evaluation = evaluation.slice(0, options.evalLimit);
  const calibration = seededShuffle(trainChunks, options.seed ?? DEFAULT_SEED).slice(
    0,
    options.calibrationSamples ?? DEFAULT_TASK_CALIBRATION_SAMPLES,
  );
  const metric: MetricInfo = {
    name: 'perplexity',
    label: `${spec.datasetLabel ?? `${spec.name} test`} perplexity, ${length}-token chunks (lower is better)`,
    higherIsBetter: false,
  };
  const notes = spec.notes
    ? [...spec.notes]
    : [
        `${spec.name}: ${data.calibrationPool.length} documents for calibration and fine-tuning (${trainChunks.length} chunks), ${data.test.length} scored (${evaluation.length} chunks; ${data.splitRule}).`,
      ];
  return lmTask(spec.name, metric, config, tokenizer, calibration, evaluation, data.files, notes, options, () => trainChunks);
}

/** Prepares a task from a spec for a model. */
export function taskFromSpec(spec: TaskSpec, config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions): PreparedTask {
  return spec.kind === 'classification'
    ? classificationFromSpec(spec, config, tokenizer, options)
    : languageModelingFromSpec(spec, config, tokenizer, options);
}
