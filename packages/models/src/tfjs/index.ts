// TensorFlow.js models, backend selection and random checkpoints.
import type { BertConfig, Gpt2Config } from '../config.js';
import type { Checkpoint } from '../weights.js';
import { BertModel } from './bert.js';
import { Gpt2Model } from './gpt2.js';

export { initBackend, installWasmKernelFixes } from './backend.js';
export type { BackendInfo, BackendPreference } from './backend.js';
export { BertModel } from './bert.js';
export { Gpt2Model } from './gpt2.js';
export { ATTENTION_MASK_NEGATIVE, geluErf, geluTanh, layerNorm } from './layers.js';
export type { ForwardOptions, ModelInputs, ModelOutputs } from './layers.js';
export { createRng, randomCheckpoint } from './random.js';
export type { RandomCheckpointOptions, Rng } from './random.js';

/** A BERT or GPT2 tfjs model, chosen by `checkpoint.config.modelType`. Call `initBackend()` first. */
export function createModel(checkpoint: Checkpoint): BertModel | Gpt2Model {
  return checkpoint.config.modelType === 'bert'
    ? new BertModel(checkpoint as Checkpoint<BertConfig>)
    : new Gpt2Model(checkpoint as Checkpoint<Gpt2Config>);
}
