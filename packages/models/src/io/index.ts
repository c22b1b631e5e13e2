// @ziplm/models/io: checkpoints on disk (Hugging Face directories, safetensors) and the built-in tiny
// models. Loads neither TensorFlow.js nor onnxruntime.

// Hugging Face checkpoint directories: config.json + model.safetensors (+ the tokenizer's files).
export { loadCheckpoint, loadModelDir, readConfigFile, saveCheckpoint } from './checkpoint.js';
export type { ModelDir, SavableTokenizer, SaveCheckpointOptions } from './checkpoint.js';
export { ConfigError, VocabularyError, WeightsError } from '../errors.js';

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
