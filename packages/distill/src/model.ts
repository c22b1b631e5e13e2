// What the trainer needs from a model: the structural shape of @ziplm/models' BertModel / Gpt2Model. Kept
// structural so that any model with the same forward contract (e.g. a test double, a future architecture)
// can be fine-tuned or used as a teacher.

import type * as tf from '@tensorflow/tfjs-core';
import type { LinearTransform, ModelConfig, WeightMap } from '@ziplm/models';
import type { BatchInputs } from './batching.js';
import type { ForwardOutputs } from './losses.js';

/**
 * What the trainer passes to {@link ForwardModel.forward}: dropout only when `training`, seeded for
 * reproducibility. Structurally the same as @ziplm/models' `ForwardOptions`, so its models fit as they are.
 */
export interface TrainerForwardOptions {
  readonly training?: boolean;
  readonly seed?: number;
  /**
   * Rewrites the linear layers' kernels and inputs (fake quantization and sparsity masks of `fineTune`'s `qat`
   * and `masks`). A model that ignores it trains and evaluates unquantized and unmasked.
   */
  readonly linear?: LinearTransform;
}

/** A model that can run a forward pass (a teacher needs no more). */
export interface ForwardModel {
  readonly config: ModelConfig;
  forward(inputs: BatchInputs, options?: TrainerForwardOptions): ForwardOutputs;
}

/** A model the trainer can update. */
export interface TrainableModel extends ForwardModel {
  /** Parameters in a stable order (the optimizer state is stored in this order). */
  trainableVariables(): tf.Variable[];
  /** Current parameters under their canonical names. */
  toWeights(): WeightMap;
  dispose(): void;
}

/** The id written into padded positions: BERT's pad token, GPT2's end-of-text token (GPT2 has no pad token), LLaMA's pad token or else its end-of-sequence token. */
export function padIdOf(config: ModelConfig): number {
  if (config.modelType === 'llama') return config.padTokenId ?? config.eosTokenId;
  return config.modelType === 'bert' ? config.padTokenId : config.eosTokenId;
}
