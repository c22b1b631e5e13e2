// Test helper: the tiny trainable BERT (2-label classifier) and GPT2 configs the gradient and QAT tests
// share, with an optional per-layer shape (pruned heads and neurons).
import type { ModelConfig } from '@ziplm/models';
import { bertConfig, gpt2Config } from '@ziplm/models';
import { trainableModelOptions } from '@ziplm/test-utils';

const shape = (layerHeads?: number[], layerIntermediate?: number[]) => ({
  ...(layerHeads ? { layerHeads } : {}),
  ...(layerIntermediate ? { layerIntermediate } : {}),
});

/** A 30-token BERT classifier ('no', 'yes'). */
export const tinyBert = (layerHeads?: number[], layerIntermediate?: number[]): ModelConfig =>
  bertConfig({
    ...trainableModelOptions(),
    vocabSize: 30,
    head: { type: 'classification', labels: ['no', 'yes'] },
    ...shape(layerHeads, layerIntermediate),
  });

/** A 30-token GPT2 (token 29 is BOS and EOS). */
export const tinyGpt2 = (layerHeads?: number[], layerIntermediate?: number[]): ModelConfig =>
  gpt2Config({ ...trainableModelOptions(), vocabSize: 30, bosTokenId: 29, eosTokenId: 29, ...shape(layerHeads, layerIntermediate) });
