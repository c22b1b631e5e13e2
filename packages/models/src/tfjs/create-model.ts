// One constructor for either architecture, chosen by the checkpoint's config.

import type { BertConfig, Gpt2Config } from '../config.js';
import type { Checkpoint } from '../weights.js';
import { BertModel } from './bert.js';
import { Gpt2Model } from './gpt2.js';

/** A BERT or GPT2 tfjs model, chosen by `checkpoint.config.modelType`. Call `initBackend()` first. */
export function createModel(checkpoint: Checkpoint): BertModel | Gpt2Model {
  return checkpoint.config.modelType === 'bert'
    ? new BertModel(checkpoint as Checkpoint<BertConfig>)
    : new Gpt2Model(checkpoint as Checkpoint<Gpt2Config>);
}
