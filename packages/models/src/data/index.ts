// @ziplm/models/data: the datasets ziplm uses, read in place, and batching. Loads neither TensorFlow.js
// nor onnxruntime.

// The data directory ($ZIPLM_DATA_DIR), resolved in one place.
export { dataDir, dataPath, findRepoRoot, hasData } from './paths.js';
// How much of a file is read (ZIPLM_MAX_INPUT_BYTES / ZIPLM_MAX_LINE_BYTES), decided in one place.
export {
  DEFAULT_INPUT_LIMITS,
  inputLimits,
  MAX_INPUT_BYTES_ENV,
  MAX_LINE_BYTES_ENV,
  setInputLimits,
} from './limits.js';
export type { InputLimits } from './limits.js';
export { DataError } from '../errors.js';

// GLUE TSV (SST-2, QNLI).
export { encodeGlueExamples, GLUE_TASKS, readGlue } from './glue.js';
export type { GlueExample, GlueTaskName, GlueTaskSpec } from './glue.js';

// A user's own data: CSV / TSV / JSON Lines tables, text classification rows, text corpora
// (guide: data formats, apps/docs/guide/data-formats.md).
export { parseTable, readTable, TABLE_FORMATS, tableFormatOf } from './tables.js';
export type { Table, TableFormat } from './tables.js';
export { DOCUMENT_SEPARATORS, orderLabels, readTextClassification, readTextCorpus } from './custom.js';
export type {
  DocumentSeparator,
  ReadTextClassificationOptions,
  ReadTextCorpusOptions,
  RowsReport,
  TextClassificationColumns,
  TextClassificationExample,
  TextDocument,
} from './custom.js';

// SQuAD v1.1: reading, run_qa's preprocessing and post-processing, the official metric.
export { postprocessSquad, prepareSquadFeatures, readSquad, squadMetric } from './squad.js';
export type {
  ReadSquadOptions,
  SquadAnswer,
  SquadExample,
  SquadFeature,
  SquadFeatureOptions,
  SquadMetric,
  SquadPostprocessOptions,
  SquadPrediction,
} from './squad.js';

// WikiText: articles, perplexity chunks.
export { chunkTokenIds, perplexity, readWikiText, splitWikiTextArticles } from './wikitext.js';
export type { ChunkOptions } from './wikitext.js';

// The held-out splits of the dev sets, and the seeded splits of a user's own data (one owner for every split rule).
export {
  DEFAULT_SPLIT_FRACTIONS,
  describeSeededSplit,
  isWikiTextHeldOut,
  qnliDevSplit,
  seededSplit,
  squadDevSplit,
  stratifiedSplit,
  WIKITEXT_MIN_ARTICLES,
  WIKITEXT_SPLIT_RULE,
  wikiTextArticleSplit,
  WORD_ORDER_SPLIT_RULE,
  wordOrderValidationSplit,
} from './splits.js';
export type { SplitFractions, SplitPart, ThreeWaySplit, WikiTextArticleSplit } from './splits.js';

// Word order (original vs shuffled sentences): the BERT testbed whose layers matter, built from the text above.
export {
  buildWordOrderCorpus,
  labelWordOrder,
  shuffleWords,
  splitSentences,
  WORD_ORDER_DATA_FILES,
  WORD_ORDER_LABELS,
  WORD_ORDER_MAX_TOKENS,
  WORD_ORDER_MAX_WORDS,
  WORD_ORDER_MIN_WORDS,
} from './wordorder.js';
export type { WordOrderCorpus, WordOrderExample, WordOrderFiles, WordOrderSource } from './wordorder.js';

// Padded batches.
export { gatherInt32, padBatch } from './batching.js';
export type { BatchItem, PadOptions, PaddedBatch } from './batching.js';

// Built-in text, for when no dataset is at hand.
export { SAMPLE_SENTENCES, SAMPLE_TEXT } from './samples.js';
