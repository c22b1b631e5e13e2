// @ziplm/models: BERT and GPT2 with a shape per layer. Every public name, by area. The areas are also
// entries of their own (`@ziplm/models/tokenizers`, `/data`, `/io`, `/onnx`, `/tfjs`), so that a caller
// who needs a tokenizer or a dataset does not load TensorFlow.js; this entry loads all of them.

// Errors: one base class, a typed error per kind of bad input, each with a stable `code`.
export { ConfigError, DataError, ModelsError, VocabularyError, WeightsError, ZiplmModelError } from './errors.js';
export type { ModelsErrorCode } from './errors.js';

// Configs with a head count and FFN size per layer, and their Hugging Face config.json form.
export {
  bertConfig,
  CONFIG_LIMITS,
  distilBertConfig,
  familyName,
  fromHfConfig,
  gpt2Config,
  hasTokenTypes,
  headDim,
  headsPerGroup,
  isDecoder,
  isDistilBert,
  isPruned,
  llamaConfig,
  ropeInverseFrequencies,
  toHfConfig,
  validateConfig,
  withLayerShapes,
} from './config.js';
export type { BertConfig, BertHead, Gpt2Config, LlamaConfig, ModelConfig, RopeScaling } from './config.js';

// Checkpoints in memory: a config plus Hugging Face-named float32 tensors.
export { expectedShapes, parameterCount } from './weights.js';
export type { Checkpoint, Tensor32, WeightMap } from './weights.js';
export { randomCheckpoint } from './random.js';
export type { RandomCheckpointOptions } from './random.js';

// The prunable structures of a model: modules, their widths and output projections.
export {
  layerParameterCount,
  MODULE_KINDS,
  moduleSize,
  outputProjection,
  outputProjectionName,
  outputProjectionTensor,
  prunableModules,
  structureWidth,
  unitsPerStructure,
} from './structure.js';
export type { LayerShapes, ModuleKind, OutputProjection, PrunableModule } from './structure.js';

// Shrinking a checkpoint to the heads and neurons it keeps.
export { findKeptStructures, shrinkWeights, zeroStructures } from './shrink.js';
export type { KeptStructures } from './shrink.js';

// Checkpoints on disk (safetensors or a transformers.js / Optimum ONNX export) and the built-in tiny models
// (also `@ziplm/models/io`).
export {
  BUILTIN_MODELS,
  builtinModelDir,
  checkpointFromOnnx,
  detectModelLayout,
  loadCheckpoint,
  loadModelCheckpoint,
  loadModelDir,
  loadOnnxCheckpoint,
  readConfigFile,
  readSafetensors,
  saveCheckpoint,
  saveTransformersJsModel,
  TRANSFORMERS_JS_FILES,
  transformersJsConfig,
  transformersJsExportOptions,
  transformersJsTokenizerConfig,
  writeSafetensors,
} from './io/index.js';
export type {
  BuiltinModelName,
  LoadOnnxCheckpointOptions,
  ModelDir,
  ModelLayout,
  OnnxGraphSource,
  ReadSafetensorsOptions,
  SafetensorsContents,
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
  SafetensorsWriteDtype,
  SavableTokenizer,
  SaveCheckpointOptions,
  TransformersJsDtype,
  TransformersJsModelOptions,
  TransformersJsTokenizer,
  WriteSafetensorsOptions,
} from './io/index.js';

// TensorFlow.js models and backend selection (also `@ziplm/models/tfjs`).
export { BertModel, createModel, Gpt2Model, initBackend, LlamaModel } from './tfjs/index.js';
export type { BackendInfo, BackendPreference, ForwardOptions, LinearTransform, ModelInputs, ModelOutputs } from './tfjs/index.js';

// Tokenizers, their loader and vocabulary trainers (also `@ziplm/models/tokenizers`).
export {
  ByteLevelBpeTokenizer,
  loadTokenizer,
  SentencePieceBpeTokenizer,
  TokenizationError,
  trainByteLevelBpe,
  trainWordPieceVocab,
  WordPieceTokenizer,
} from './tokenizers/index.js';
export type {
  BertNormalizerOptions,
  ByteLevelBpeOptions,
  ByteLevelBpeTrainerOptions,
  DecodeOptions,
  EncodeOptions,
  Encoding,
  OverflowEncodeOptions,
  SentencePieceAddedToken,
  SentencePieceBpeOptions,
  TokenizerConfigJson,
  TokenSequence,
  Tokenizer,
  TrainedByteLevelBpe,
  TruncationStrategy,
  WordPieceTokenizerOptions,
  WordPieceTrainerOptions,
} from './tokenizers/index.js';

// Datasets, their held-out splits and batching (also `@ziplm/models/data`).
export {
  chunkTokenIds,
  DEFAULT_INPUT_LIMITS,
  dataDir,
  dataPath,
  encodeGlueExamples,
  findRepoRoot,
  gatherInt32,
  GLUE_TASKS,
  hasData,
  inputLimits,
  MAX_INPUT_BYTES_ENV,
  MAX_LINE_BYTES_ENV,
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
  setInputLimits,
  splitWikiTextArticles,
  squadDevSplit,
  squadMetric,
  WIKITEXT_MIN_ARTICLES,
  WIKITEXT_SPLIT_RULE,
  wikiTextArticleSplit,
  buildWordOrderCorpus,
  WORD_ORDER_DATA_FILES,
  WORD_ORDER_LABELS,
  WORD_ORDER_MAX_TOKENS,
  WORD_ORDER_SPLIT_RULE,
} from './data/index.js';
export type {
  BatchItem,
  ChunkOptions,
  GlueExample,
  GlueTaskName,
  GlueTaskSpec,
  InputLimits,
  PadOptions,
  PaddedBatch,
  ReadSquadOptions,
  SplitPart,
  SquadAnswer,
  SquadExample,
  SquadFeature,
  SquadFeatureOptions,
  SquadMetric,
  SquadPostprocessOptions,
  SquadPrediction,
  WikiTextArticleSplit,
  WordOrderCorpus,
  WordOrderExample,
} from './data/index.js';

// ONNX export of whole models and single blocks (also `@ziplm/models/onnx`).
export {
  dequantizedCheckpoint,
  exportAttentionBlock,
  exportFfnBlock,
  exportLayerBlock,
  exportModelToOnnx,
  ONNX_DIMS,
  ONNX_NAMES,
  onnxFeeds,
  OPTIMUM_DIMS,
  OPTIMUM_NAMES,
  OnnxExportError,
  quantizableLinears,
} from './onnx/index.js';
export type {
  ActivationQuantization,
  ActivationRange,
  BlockExportOptions,
  Int8Weight,
  LinearInputSlot,
  ModelExportOptions,
  OnnxExportOptions,
  OnnxQuantizeOptions,
  OrtTensorFactory,
  QuantizableLinear,
} from './onnx/index.js';

// How small a member's weights are: dense fp32, INT8, and a sparse bitmask format.
export { INT8_WEIGHT_MAX, int8WeightScale, roundToInt8 } from './int8-grid.js';
export { weightStorage } from './storage.js';
export type { StorageFigures, WeightStorage } from './storage.js';
