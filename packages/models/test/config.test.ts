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
    const cls = fromHfConfig({ ...BERT_BASE_UNCASED, architectures: ['BertForSequenceClassification'], id2label: { 0: 'negative', 1: 'positive' } });
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
    ['unknown model type', { ...BERT_BASE_UNCASED, model_type: 'roberta' }, 'model_type', /must be "bert" or "gpt2"/],
    ['BERT with tanh GELU', { ...BERT_BASE_UNCASED, hidden_act: 'gelu_new' }, 'hidden_act', /exact erf GELU/],
    ['heads not dividing hidden', { ...BERT_BASE_UNCASED, num_attention_heads: 7 }, 'num_attention_heads', /must divide/],
    ['missing vocab size', { ...GPT2_SMALL, vocab_size: undefined }, 'vocab_size', /is missing/],
    ['negative dropout', { ...GPT2_SMALL, attn_pdrop: -0.1 }, 'attn_pdrop', /\[0, 1\]/],
    ['layer list too short', { ...GPT2_SMALL, ziplm: { format: 1, layer_heads: [1], layer_intermediate_sizes: new Array(12).fill(1) } }, 'ziplm.layer_heads', /one entry per layer \(12\), got 1/],
    ['more heads than the dense model', { ...BERT_BASE_UNCASED, ziplm: { format: 1, layer_heads: new Array(12).fill(13), layer_intermediate_sizes: new Array(12).fill(1) } }, 'ziplm.layer_heads[0]', /<= the dense head count \(12\)/],
    ['unknown ziplm format', { ...BERT_BASE_UNCASED, ziplm: { format: 2 } }, 'ziplm.format', /must be 1/],
    ['unsupported architecture', { ...BERT_BASE_UNCASED, architectures: ['BertForTokenClassification'] }, 'architectures[0]', /not supported/],
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
});
