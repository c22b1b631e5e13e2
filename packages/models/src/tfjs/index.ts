// @ziplm/models/tfjs: the TensorFlow.js models (fine-tuning, distillation) and backend selection.
// Importing it loads @tensorflow/tfjs-core.

// Backend selection (tfjs-node, wasm or cpu) and gradient registration.
export { initBackend } from './backend.js';
export type { BackendInfo, BackendPreference } from './backend.js';

// The models: any head count and FFN size per layer.
export { BertModel } from './bert.js';
export { Gpt2Model } from './gpt2.js';
export { LlamaModel } from './llama.js';
export { createModel } from './create-model.js';
export type { ForwardOptions, LinearTransform, ModelInputs, ModelOutputs } from './layers.js';
