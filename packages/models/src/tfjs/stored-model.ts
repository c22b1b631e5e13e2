// What every tfjs model of this package shares: its config, its parameters as tfjs variables created in
// `expectedShapes` order (VariableStore), reading them back in Hugging Face names and layouts, and their
// lifetime. BertModel, Gpt2Model and LlamaModel extend it and add their own forward pass.

import type * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config.js';
import { ModelsError } from '../errors.js';
import type { Checkpoint, WeightMap } from '../weights.js';
import { expectedShapes } from '../weights.js';
import { VariableStore } from './layers.js';

/** Orders a weight map like `expectedShapes` (the order checkpoints are written in). */
function orderLike(order: Map<string, number[]>, weights: WeightMap): WeightMap {
  const out: WeightMap = new Map();
  for (const name of order.keys()) {
    const t = weights.get(name);
    if (t) out.set(name, t);
  }
  return out;
}

/** A model whose parameters live in tfjs variables; `className` names it in errors. */
export abstract class StoredModel<C extends ModelConfig> {
  /** The model's config (per-layer shapes included). */
  readonly config: C;
  protected readonly store = new VariableStore();
  private disposed = false;

  protected constructor(
    config: C,
    private readonly className: string,
  ) {
    this.config = config;
  }

  /** Throws when the model was disposed: `what` (e.g. "forward") cannot run on freed variables. */
  protected checkNotDisposed(what: string): void {
    if (this.disposed) throw new ModelsError(`${this.className}: ${what} after dispose()`);
  }

  /**
   * The current parameters in Hugging Face names and layouts (weights.ts: nn.Linear [out, in], GPT2's Conv1D
   * [in, out]; `lm_head.weight` only when the config unties it).
   */
  toWeights(): WeightMap {
    this.checkNotDisposed('toWeights');
    return orderLike(expectedShapes(this.config), this.store.toWeights());
  }

  /** The same weights as a checkpoint with this model's config. */
  toCheckpoint(): Checkpoint<C> {
    return { config: this.config, weights: this.toWeights() };
  }

  /** Every parameter, in the order of `expectedShapes(config)`. */
  trainableVariables(): tf.Variable[] {
    return this.store.variables();
  }

  /** Frees every variable. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.store.dispose();
  }
}
