import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff } from '@ziplm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BertHead } from '../src/config.js';
import { bertConfig } from '../src/config.js';
import { WeightsError, ZiplmModelError } from '../src/errors.js';
import { BertModel, createModel, initBackend } from '../src/tfjs/index.js';
import { randomCheckpoint } from '../src/random.js';
import { disposeAll, ints, tinyBertConfig } from './helpers.js';
import { referenceBert } from './reference.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const ids = [
  [2, 7, 13, 39, 5, 0, 3],
  [2, 11, 1, 4, 8, 21, 3],
];
const mask = [
  [1, 1, 1, 1, 1, 0, 0],
  [1, 1, 1, 1, 1, 1, 1],
];
const types = [
  [0, 0, 0, 1, 1, 1, 1],
  [0, 0, 0, 0, 1, 1, 1],
];

describe.each<[string, BertHead]>([
  ['classification', { type: 'classification', labels: ['a', 'b', 'c'] }],
  ['span-qa', { type: 'span-qa' }],
  ['no head', { type: 'none' }],
])('BertModel (%s) vs the float64 reference', (_name, head) => {
  it('matches logits and every hidden state with heterogeneous and removed modules', () => {
    const config = tinyBertConfig(head);
    const ckpt = randomCheckpoint(config, { seed: 11, std: 0.4, biasStd: 0.2 });
    const model = new BertModel(ckpt);
    const out = model.forward({ inputIds: ints(ids), attentionMask: ints(mask), tokenTypeIds: ints(types) });
    expect(out.hiddenStates).toHaveLength(config.numLayers + 1);
    const logits = out.logits.arraySync() as unknown[];
    const states = out.hiddenStates.map((h) => h.arraySync());
    for (let b = 0; b < ids.length; b++) {
      const ref = referenceBert(config, ckpt.weights, ids[b]!, mask[b], types[b]);
      expect(maxAbsDiff(logits[b], ref.logits)).toBeLessThan(2e-5);
      for (let l = 0; l <= config.numLayers; l++) expect(maxAbsDiff(states[l]![b], ref.hiddenStates[l])).toBeLessThan(2e-5);
    }
    if (head.type === 'classification') expect(out.logits.shape).toEqual([2, 3]);
    if (head.type === 'span-qa') expect(out.logits.shape).toEqual([2, 7, 2]);
    if (head.type === 'none') expect(out.logits.shape).toEqual([2, 7, 16]);
    disposeAll(out);
    model.dispose();
  });
});

describe('BertModel', () => {
  const config = tinyBertConfig();
  const ckpt = randomCheckpoint(config, { seed: 3, std: 0.3, biasStd: 0.1 });

  it('a layer with both modules removed passes its input through unchanged (no LayerNorm either)', () => {
    const skipped = bertConfig({ ...config, layerHeads: [4, 0, 2, 3], layerIntermediate: [24, 0, 0, 5] });
    const model = new BertModel(randomCheckpoint(skipped, { seed: 4, std: 0.3, biasStd: 0.1 }));
    const out = model.forward({ inputIds: ints(ids) });
    // Layer 1 has neither module: its output must be bit-identical to its input.
    expect(out.hiddenStates[2]!.arraySync()).toEqual(out.hiddenStates[1]!.arraySync());
    expect(maxAbsDiff(out.hiddenStates[3]!.arraySync(), out.hiddenStates[2]!.arraySync())).toBeGreaterThan(1e-3);
    disposeAll(out);
    model.dispose();
  });

  it('masking a padded key equals dropping the padding (the mask really hides keys)', () => {
    const model = new BertModel(ckpt);
    const padded = model.forward({ inputIds: ints([[2, 7, 13, 3, 0, 0]]), attentionMask: ints([[1, 1, 1, 1, 0, 0]]) });
    const short = model.forward({ inputIds: ints([[2, 7, 13, 3]]) });
    const a = (padded.hiddenStates[4]!.arraySync() as number[][][])[0]!.slice(0, 4);
    const b = (short.hiddenStates[4]!.arraySync() as number[][][])[0]!;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    disposeAll(padded, short);
    model.dispose();
  });

  it('does not leak tensors (forward, dispose of outputs, dispose of the model)', () => {
    const before = tf.memory().numTensors;
    const model = new BertModel(ckpt);
    const withModel = tf.memory().numTensors;
    expect(withModel - before).toBe(model.trainableVariables().length);
    for (let i = 0; i < 3; i++) {
      const inputs = { inputIds: ints(ids), attentionMask: ints(mask), tokenTypeIds: ints(types) };
      const out = model.forward(inputs, { training: i === 1, seed: i });
      disposeAll(out, inputs);
      expect(tf.memory().numTensors).toBe(withModel);
    }
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('dropout is active only in training and is seedable', () => {
    const model = new BertModel(ckpt);
    const inputIds = ints(ids);
    const run = (training: boolean, seed?: number) => {
      const out = model.forward({ inputIds }, { training, seed });
      const v = out.logits.arraySync();
      disposeAll(out);
      return v;
    };
    expect(run(false)).toEqual(run(false));
    expect(run(false, 1)).toEqual(run(false, 2));
    expect(run(true, 5)).toEqual(run(true, 5));
    expect(maxAbsDiff(run(true, 5), run(true, 6))).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(run(true, 5), run(false))).toBeGreaterThan(1e-4);
    disposeAll(inputIds);
    model.dispose();
  });

  it('toWeights returns the checkpoint bit-exactly in Hugging Face layout and order', () => {
    const model = createModel(ckpt);
    expect(model).toBeInstanceOf(BertModel);
    const w = model.toWeights();
    expect([...w.keys()]).toEqual([...ckpt.weights.keys()]);
    for (const [name, t] of ckpt.weights) {
      expect(w.get(name)!.shape, name).toEqual(t.shape);
      expect(Buffer.from(w.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), name).toBe(
        true,
      );
    }
    model.dispose();
  });

  it('every parameter gets a finite, non-zero gradient on wasm (embeddings included)', () => {
    const model = new BertModel(ckpt);
    const vars = model.trainableVariables();
    const inputs = { inputIds: ints(ids), attentionMask: ints(mask), tokenTypeIds: ints(types) };
    const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(inputs, { training: true, seed: 1 });
      const loss = tf.losses.softmaxCrossEntropy(labels, out.logits as tf.Tensor2D);
      // The hidden states feed the distillation loss; make them part of the graph too.
      return tf.add(loss, tf.mul(tf.mean(tf.square(out.hiddenStates[2]!)), 1e-3)) as tf.Scalar;
    }, vars);
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    for (const v of vars) {
      const g = grads[v.name];
      expect(g, v.name).toBeDefined();
      const data = g!.dataSync();
      expect(data.every(Number.isFinite), v.name).toBe(true);
      expect(
        data.some((x) => x !== 0),
        v.name,
      ).toBe(true);
    }
    disposeAll(value, grads, inputs, labels);
    model.dispose();
  });

  it('rejects bad inputs with a clear error instead of failing inside tfjs', () => {
    const model = new BertModel(ckpt);
    const float = tf.tensor2d([[1, 2]], [1, 2], 'float32');
    const good = ints([[1, 2]]);
    const badMask = ints([[1, 1, 1]]);
    const outOfRange = ints([[1, 40]]);
    const tooLong = ints([Array.from({ length: 13 }, () => 1)]);
    const badType = ints([[0, 2]]);
    expect(() => model.forward({ inputIds: float as tf.Tensor2D })).toThrow(/int32/);
    expect(() => model.forward({ inputIds: good, attentionMask: badMask })).toThrow(/attentionMask/);
    expect(() => model.forward({ inputIds: outOfRange })).toThrow(/outside \[0, 40\)/);
    expect(() => model.forward({ inputIds: tooLong })).toThrow(/exceeds the model's 12 positions/);
    expect(() => model.forward({ inputIds: good, tokenTypeIds: badType })).toThrow(ZiplmModelError);
    disposeAll(float, good, badMask, outOfRange, tooLong, badType);
    model.dispose();
    expect(() => model.forward({ inputIds: good })).toThrow(/dispose/);
  });

  it('rejects a checkpoint whose weights do not match its config', () => {
    const other = randomCheckpoint(bertConfig({ ...config, layerIntermediate: [24, 12, 0, 5] }));
    expect(() => new BertModel({ config, weights: other.weights })).toThrow(WeightsError);
    expect(() => new BertModel({ config, weights: other.weights })).toThrow(
      /intermediate\.dense\.weight" has shape \[12, 16\] but the config implies \[11, 16\]/,
    );
  });
});

describe('randomCheckpoint', () => {
  it('is deterministic in the seed, N(0, std²) for weights, HF init for biases and LayerNorms', () => {
    const config = tinyBertConfig();
    const a = randomCheckpoint(config, { seed: 7, std: 0.5 });
    const b = randomCheckpoint(config, { seed: 7, std: 0.5 });
    const c = randomCheckpoint(config, { seed: 8, std: 0.5 });
    const word = 'bert.embeddings.word_embeddings.weight';
    for (const [name, t] of a.weights) expect(b.weights.get(name)!.data, name).toEqual(t.data);
    expect(c.weights.get(word)!.data).not.toEqual(a.weights.get(word)!.data);
    const w = a.weights.get(word)!.data;
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.03);
    expect(Array.from(a.weights.get('bert.embeddings.LayerNorm.weight')!.data).every((v) => v === 1)).toBe(true);
    expect(Array.from(a.weights.get('classifier.bias')!.data).every((v) => v === 0)).toBe(true);
    // Pinned values: a change of the generator would silently change the built-in tiny models.
    const first = randomCheckpoint(config, { seed: 0, std: 1 }).weights.get(word)!.data.slice(0, 3);
    expect(Array.from(first).map((v) => v.toFixed(6))).toEqual(['0.093289', '-0.182887', '-0.398874']);
  });
});
