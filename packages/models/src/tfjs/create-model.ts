// One constructor for every architecture, chosen by the checkpoint's config.

import type { BertConfig, Gpt2Config, LlamaConfig } from '../config.js';
import type { Checkpoint } from '../weights.js';
import { BertModel } from './bert.js';
import { Gpt2Model } from './gpt2.js';
import { LlamaModel } from './llama.js';

/** A BERT, GPT2 or LLaMA tfjs model, chosen by `checkpoint.config.modelType`. Call `initBackend()` first. */
export function createModel(checkpoint: Checkpoint): BertModel | Gpt2Model | LlamaModel {
  switch (checkpoint.config.modelType) {
    case 'bert':
      return new BertModel(checkpoint as Checkpoint<BertConfig>);
    case 'gpt2':
      return new Gpt2Model(checkpoint as Checkpoint<Gpt2Config>);
    case 'llama':
      return new LlamaModel(checkpoint as Checkpoint<LlamaConfig>);
  }
}
