import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../src/config.js';
import { bertConfig, fromHfConfig, gpt2Config, headDim, isPruned, toHfConfig, validateConfig, withLayerShapes } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { expectedShapes, parameterCount } from '../src/weights.js';

/** bert-base-uncased's config.json, as published on the Hugging Face hub (typed in by hand). */
const BERT_BASE_UNCASED = {
  architectures: ['BertForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  gradient_checkpointing: false,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  transformers_version: '4.6.0.dev0',
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 30522,
};

/** gpt2's config.json (n_inner null = 4·n_embd). */
const GPT2_SMALL = {
  activation_function: 'gelu_new',
  architectures: ['GPT2LMHeadModel'],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-5,
  model_type: 'gpt2',
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_inner: null,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  vocab_size: 50257,
};

describe('Hugging Face config.json', () => {
  it('parses bert-base-uncased: dense, no head, 110M parameters', () => {
    const c = fromHfConfig(BERT_BASE_UNCASED, 'config.json');
    expect(c.modelType).toBe('bert');
    expect(c).toMatchObject({ hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, vocabSize: 30522, maxPositions: 512 });
    expect(isPruned(c)).toBe(false);
    expect(headDim(c)).toBe(64);
    if (c.modelType === 'bert') expect(c.head).toEqual({ type: 'none' });
    // BertModel without pooler: 108.9M (the well-known 110M includes the pooler).
    expect(parameterCount(c)).toBe(108_891_648);
  });

  it('parses gpt2 small: 124M parameters with the tied head', () => {
    const c = fromHfConfig(GPT2_SMALL);
    expect(c).toMatchObject({ modelType: 'gpt2', intermediateSize: 3072, maxPositions: 1024, eosTokenId: 50256 });
    expect(parameterCount(c)).toBe(124_439_808);
  });

  it('reads classification labels from id2label and QA from the architecture', () => {
    const cls = fromHfConfig({
      ...BERT_BASE_UNCASED,
      architectures: ['BertForSequenceClassification'],
      id2label: { 0: 'negative', 1: 'positive' },
    });
    expect(cls.modelType === 'bert' && cls.head).toEqual({ type: 'classification', labels: ['negative', 'positive'] });
    const byCount = fromHfConfig({ ...BERT_BASE_UNCASED, architectures: ['BertForSequenceClassification'], num_labels: 3 });
    expect(byCount.modelType === 'bert' && byCount.head).toEqual({ type: 'classification', labels: ['LABEL_0', 'LABEL_1', 'LABEL_2'] });
    const qa = fromHfConfig({ ...BERT_BASE_UNCASED, architectures: ['BertForQuestionAnswering'] });
    expect(qa.modelType === 'bert' && qa.head).toEqual({ type: 'span-qa' });
  });

  it.each<[string, ModelConfig]>([
    ['dense BERT classifier', bertConfig({ head: { type: 'classification', labels: ['a', 'b'] } })],
    ['pruned BERT QA', bertConfig({ numLayers: 3, layerHeads: [12, 0, 5], layerIntermediate: [3072, 17, 0], head: { type: 'span-qa' } })],
    ['dense GPT2', gpt2Config()],
    ['pruned GPT2', gpt2Config({ numLayers: 2, layerHeads: [0, 7], layerIntermediate: [100, 0] })],
  ])('toHfConfig → fromHfConfig round-trips a %s', (_name, config) => {
    const json = JSON.parse(JSON.stringify(toHfConfig(config)));
    expect(fromHfConfig(json)).toEqual(config);
    expect(json.ziplm === undefined).toBe(!isPruned(config));
  });

  it('a pruned config keeps the dense head count and FFN size (they fix the head size and level keys)', () => {
    const c = withLayerShapes(bertConfig({ numLayers: 2 }), [3, 0], [100, 0]);
    const json = toHfConfig(c);
    expect(json.num_attention_heads).toBe(12);
    expect(json.intermediate_size).toBe(3072);
    expect(json.ziplm).toEqual({ format: 1, layer_heads: [3, 0], layer_intermediate_sizes: [100, 0] });
    // Removed modules have no parameters at all.
    const shapes = expectedShapes(c);
    expect(shapes.has('bert.encoder.layer.1.attention.self.query.weight')).toBe(false);
    expect(shapes.has('bert.encoder.layer.1.output.LayerNorm.weight')).toBe(false);
    expect(shapes.get('bert.encoder.layer.0.attention.self.query.weight')).toEqual([192, 768]);
  });
});

describe('config errors name the field and the file', () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    [
      'unknown model type',
      { ...BERT_BASE_UNCASED, model_type: 'roberta' },
      'model_type',
      /must be "bert", "distilbert", "gpt2" or "llama"/,
    ],
    ['BERT with tanh GELU', { ...BERT_BASE_UNCASED, hidden_act: 'gelu_new' }, 'hidden_act', /exact erf GELU/],
    ['heads not dividing hidden', { ...BERT_BASE_UNCASED, num_attention_heads: 7 }, 'num_attention_heads', /must divide/],
    ['missing vocab size', { ...GPT2_SMALL, vocab_size: undefined }, 'vocab_size', /is missing/],
    ['negative dropout', { ...GPT2_SMALL, attn_pdrop: -0.1 }, 'attn_pdrop', /\[0, 1\]/],
    [
      'layer list too short',
      { ...GPT2_SMALL, ziplm: { format: 1, layer_heads: [1], layer_intermediate_sizes: new Array(12).fill(1) } },
      'ziplm.layer_heads',
      /one entry per layer \(12\), got 1/,
    ],
    [
      'more heads than the dense model',
      { ...BERT_BASE_UNCASED, ziplm: { format: 1, layer_heads: new Array(12).fill(13), layer_intermediate_sizes: new Array(12).fill(1) } },
      'ziplm.layer_heads[0]',
      /must be <= the dense head count \(num_attention_heads = 12\), got 13$/,
    ],
    [
      'more GPT2 heads than the dense model',
      {
        ...GPT2_SMALL,
        ziplm: { format: 1, layer_heads: [...new Array(11).fill(12), 13], layer_intermediate_sizes: new Array(12).fill(1) },
      },
      'ziplm.layer_heads[11]',
      /must be <= the dense head count \(n_head = 12\), got 13$/,
    ],
    [
      'a BERT FFN larger than the dense one',
      {
        ...BERT_BASE_UNCASED,
        ziplm: { format: 1, layer_heads: new Array(12).fill(12), layer_intermediate_sizes: [3072, 3073, ...new Array(10).fill(0)] },
      },
      'ziplm.layer_intermediate_sizes[1]',
      /must be <= the dense FFN size \(intermediate_size = 3072\), got 3073$/,
    ],
    [
      'a GPT2 FFN larger than the dense one (n_inner null)',
      {
        ...GPT2_SMALL,
        ziplm: { format: 1, layer_heads: new Array(12).fill(12), layer_intermediate_sizes: [...new Array(11).fill(3072), 4000] },
      },
      'ziplm.layer_intermediate_sizes[11]',
      /must be <= the dense FFN size \(n_inner, null: 4·n_embd = 3072\), got 4000$/,
    ],
    [
      'a GPT2 FFN larger than n_inner',
      {
        ...GPT2_SMALL,
        n_inner: 1000,
        ziplm: { format: 1, layer_heads: new Array(12).fill(12), layer_intermediate_sizes: new Array(12).fill(1001) },
      },
      'ziplm.layer_intermediate_sizes[0]',
      /must be <= the dense FFN size \(n_inner = 1000\), got 1001$/,
    ],
    [
      'a pad token outside the vocabulary',
      { ...BERT_BASE_UNCASED, pad_token_id: 30522 },
      'pad_token_id',
      /must be < vocab_size \(30522\), got 30522$/,
    ],
    ['a negative pad token', { ...BERT_BASE_UNCASED, pad_token_id: -1 }, 'pad_token_id', /must be >= 0, got -1$/],
    [
      'a bos token outside the vocabulary',
      { ...GPT2_SMALL, bos_token_id: 50257 },
      'bos_token_id',
      /must be < vocab_size \(50257\), got 50257$/,
    ],
    [
      'an eos token outside the vocabulary',
      { ...GPT2_SMALL, eos_token_id: 60000 },
      'eos_token_id',
      /must be < vocab_size \(50257\), got 60000$/,
    ],
    [
      'default bos/eos (50256) with a smaller vocabulary',
      { ...GPT2_SMALL, bos_token_id: undefined, eos_token_id: undefined, vocab_size: 1000 },
      'bos_token_id',
      /must be < vocab_size \(1000\), got 50256$/,
    ],
    ['unknown ziplm format', { ...BERT_BASE_UNCASED, ziplm: { format: 2 } }, 'ziplm.format', /must be 1/],
    [
      'unsupported architecture',
      { ...BERT_BASE_UNCASED, architectures: ['BertForTokenClassification'] },
      'architectures[0]',
      /not supported/,
    ],
  ];
  it.each(cases)('%s', (_name, json, field, problem) => {
    const error = (() => {
      try {
        fromHfConfig(json, '/models/x/config.json');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as ConfigError).file).toBe('/models/x/config.json');
    expect((error as Error).message).toMatch(/^\/models\/x\/config\.json: config field/);
    expect((error as Error).message).toMatch(problem);
  });

  it('validateConfig rejects in-memory configs with camelCase field names', () => {
    expect(() => bertConfig({ numLayers: 2, layerHeads: [12] })).toThrow(/"layerHeads" must have numLayers \(2\) entries, got 1/);
    expect(() => validateConfig({ ...gpt2Config(), eosTokenId: 60000 })).toThrow(/"eosTokenId" must be < vocabSize/);
    expect(() => withLayerShapes(gpt2Config({ numLayers: 1 }), [1.5], [3])).toThrow(/"layerHeads\[0\]" must be an integer/);
  });

  const inMemory: Array<[string, () => unknown, string, RegExp]> = [
    [
      'more heads than numHeads',
      () => bertConfig({ numLayers: 2, numHeads: 4, hiddenSize: 16, layerHeads: [4, 5] }),
      'layerHeads[1]',
      /"layerHeads\[1\]" must be <= numHeads \(4\), got 5$/,
    ],
    [
      'a GPT2 layer with more heads than numHeads',
      () => withLayerShapes(gpt2Config({ numLayers: 2 }), [13, 0], [0, 0]),
      'layerHeads[0]',
      /"layerHeads\[0\]" must be <= numHeads \(12\), got 13$/,
    ],
    [
      'an FFN larger than intermediateSize',
      () => bertConfig({ numLayers: 2, intermediateSize: 24, layerIntermediate: [24, 25] }),
      'layerIntermediate[1]',
      /"layerIntermediate\[1\]" must be <= intermediateSize \(24\), got 25$/,
    ],
    [
      'a GPT2 FFN larger than intermediateSize',
      () => withLayerShapes(gpt2Config({ numLayers: 1, hiddenSize: 16, numHeads: 4 }), [4], [65]),
      'layerIntermediate[0]',
      /"layerIntermediate\[0\]" must be <= intermediateSize \(64\), got 65$/,
    ],
    [
      'a pad token outside the vocabulary',
      () => bertConfig({ vocabSize: 30, padTokenId: 30 }),
      'padTokenId',
      /"padTokenId" must be < vocabSize \(30\), got 30$/,
    ],
    [
      'a bos token outside the vocabulary',
      () => gpt2Config({ vocabSize: 30, bosTokenId: 30, eosTokenId: 0 }),
      'bosTokenId',
      /"bosTokenId" must be < vocabSize \(30\), got 30$/,
    ],
    [
      'an eos token outside the vocabulary',
      () => validateConfig({ ...gpt2Config(), eosTokenId: 50257 }),
      'eosTokenId',
      /"eosTokenId" must be < vocabSize \(50257\), got 50257$/,
    ],
    ['a negative bos token', () => gpt2Config({ bosTokenId: -1 }), 'bosTokenId', /"bosTokenId" must be >= 0, got -1$/],
  ];
  it.each(inMemory)('in memory: %s', (_name, make, field, problem) => {
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as ConfigError).file).toBeUndefined();
    expect((error as Error).message).toMatch(problem);
  });

  it('validateConfig names the file it is given', () => {
    expect(() => validateConfig({ ...bertConfig({ numLayers: 1 }), layerIntermediate: [3073] }, '/m/config.json')).toThrow(
      /^\/m\/config\.json: config field "layerIntermediate\[0\]" must be <= intermediateSize \(3072\), got 3073$/,
    );
  });

  it('accepts the bounds themselves: dense sizes, removed modules, the last token id', () => {
    expect(() =>
      bertConfig({ numLayers: 2, vocabSize: 30, padTokenId: 29, layerHeads: [12, 0], layerIntermediate: [0, 3072] }),
    ).not.toThrow();
    expect(() => gpt2Config({ vocabSize: 30, bosTokenId: 29, eosTokenId: 29 })).not.toThrow();
    const json = {
      ...GPT2_SMALL,
      n_inner: 1000,
      ziplm: { format: 1, layer_heads: new Array(12).fill(12), layer_intermediate_sizes: new Array(12).fill(1000) },
    };
    expect(fromHfConfig(json, 'config.json').layerIntermediate).toEqual(new Array(12).fill(1000));
  });
});
