// Sizes in config.json are bounded before anything is allocated (issue 12, item 4): a 600-byte
// config with `num_hidden_layers: 1e9` used to fill the heap building per-layer lists, and 2^53 or
// 1e300 crashed with a RangeError stack trace.

import { describe, expect, it } from 'vitest';
import { bertConfig, CONFIG_LIMITS, fromHfConfig, gpt2Config } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const BERT = {
  architectures: ['BertForSequenceClassification'],
  model_type: 'bert',
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 128,
  vocab_size: 100,
  max_position_embeddings: 64,
  type_vocab_size: 2,
  num_labels: 2,
};

const GPT2 = {
  model_type: 'gpt2',
  n_embd: 64,
  n_layer: 2,
  n_head: 4,
  n_inner: 128,
  vocab_size: 100,
  n_positions: 64,
  bos_token_id: 0,
  eos_token_id: 0,
};

function refusal(json: Record<string, unknown>): ConfigError {
  try {
    fromHfConfig(json, 'config.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('accepted');
}

const HUGE = [1e9, 2 ** 53, 1e300];
const BAD = [-1, 0.5, 2.5e-3, '12', Number.NaN];

describe('config.json sizes are bounded before allocating', () => {
  it.each([
    ['num_hidden_layers', CONFIG_LIMITS.numLayers],
    ['hidden_size', CONFIG_LIMITS.hiddenSize],
    ['num_attention_heads', CONFIG_LIMITS.numHeads],
    ['intermediate_size', CONFIG_LIMITS.intermediateSize],
    ['vocab_size', CONFIG_LIMITS.vocabSize],
    ['max_position_embeddings', CONFIG_LIMITS.maxPositions],
    ['type_vocab_size', CONFIG_LIMITS.typeVocabSize],
    ['num_labels', CONFIG_LIMITS.numLabels],
  ])('BERT %s: 1e9, 2^53 and 1e300 name the field and the bound, in well under a second', (key, bound) => {
    for (const value of HUGE) {
      const started = performance.now();
      const error = refusal({ ...BERT, [key]: value });
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error.field).toBe(key);
      expect(error.message).toContain(`must be <= ${bound}`);
      expect(error.message).toContain('config.json');
    }
  });

  it.each([['n_layer'], ['n_embd'], ['n_head'], ['n_inner'], ['vocab_size'], ['n_positions']])(
    'GPT2 %s: huge, negative and non-integer values are ConfigErrors naming the field',
    (key) => {
      for (const value of [...HUGE, ...BAD]) expect(refusal({ ...GPT2, [key]: value }).field).toBe(key);
    },
  );

  it.each([['num_hidden_layers'], ['hidden_size'], ['num_attention_heads'], ['intermediate_size'], ['vocab_size']])(
    'BERT %s: negative and non-integer values name the field',
    (key) => {
      for (const value of BAD) expect(refusal({ ...BERT, [key]: value }).field).toBe(key);
    },
  );

  it('per-layer head counts and FFN sizes: huge, negative and non-integer entries name the entry', () => {
    const ziplm = (heads: unknown[], ffn: unknown[]) => ({
      ...BERT,
      ziplm: { format: 1, layer_heads: heads, layer_intermediate_sizes: ffn },
    });
    for (const value of [...HUGE, ...BAD]) {
      expect(refusal(ziplm([4, value], [128, 128])).field).toBe('ziplm.layer_heads[1]');
      expect(refusal(ziplm([4, 4], [value, 128])).field).toBe('ziplm.layer_intermediate_sizes[0]');
    }
  });

  it('the in-memory factories refuse a huge layer count before filling the per-layer lists', () => {
    expect(() => bertConfig({ numLayers: 1e9 })).toThrow(ConfigError);
    expect(() => gpt2Config({ numLayers: 2 ** 53 })).toThrow(/numLayers.*<= 1024/);
  });

  it('sizes at the bounds are accepted', () => {
    expect(fromHfConfig({ ...BERT, num_hidden_layers: CONFIG_LIMITS.numLayers, vocab_size: CONFIG_LIMITS.vocabSize }).numLayers).toBe(1024);
  });
});
