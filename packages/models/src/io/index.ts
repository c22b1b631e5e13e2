// @ziplm/models/io: checkpoints on disk (Hugging Face directories, safetensors) and the built-in tiny
// models. Loads neither TensorFlow.js nor onnxruntime.

// Hugging Face checkpoint directories: config.json + model.safetensors (+ the tokenizer's files), or the
// transformers.js / Optimum layout (config.json + onnx/model.onnx), told apart by detectModelLayout.
export {
  detectModelLayout,
  loadCheckpoint,
  loadModelCheckpoint,
  loadModelDir,
  loadOnnxCheckpoint,
  ONNX_MODEL_FILE,
  readConfigFile,
  saveCheckpoint,
} from './checkpoint.js';
export type { LoadOnnxCheckpointOptions, ModelDir, ModelLayout, SavableTokenizer, SaveCheckpointOptions } from './checkpoint.js';
// Weights from the bytes of an ONNX export, initializers mapped back to Hugging Face names by reading the graph.
export { checkpointFromOnnx } from './onnx-checkpoint.js';
export { ConfigError, VocabularyError, WeightsError } from '../errors.js';

// The transformers.js layout (config.json, tokenizer.json, onnx/model.onnx, ...), which a user's
// transformers.js code loads as is.
export {
  saveTransformersJsModel,
  TRANSFORMERS_JS_FILES,
  transformersJsConfig,
  transformersJsExportOptions,
  transformersJsTokenizerConfig,
} from './transformers-js.js';
export type { OnnxGraphSource, TransformersJsDtype, TransformersJsModelOptions, TransformersJsTokenizer } from './transformers-js.js';

// safetensors files, validated before any data is read.
export { readSafetensors, writeSafetensors } from './safetensors.js';
export type {
  ReadSafetensorsOptions,
  SafetensorsContents,
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
  SafetensorsWriteDtype,
  WriteSafetensorsOptions,
} from './safetensors.js';

// The built-in tiny models (assets/), for tests, examples and the CLI default.
export { BUILTIN_MODELS, builtinModelDir } from './builtin.js';
export type { BuiltinModelName } from './builtin.js';
