import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff } from '@ziplm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { gpt2Config } from '../src/config.js';
import { WeightsError } from '../src/errors.js';
import { GPT2_NAMES } from '../src/weights.js';
import { Gpt2Model, createModel, initBackend } from '../src/tfjs/index.js';
import { randomCheckpoint } from '../src/random.js';
import { disposeAll, ints, tinyGpt2Config } from './helpers.js';
import { referenceGpt2 } from './reference.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const config = tinyGpt2Config();
const ckpt = randomCheckpoint(config, { seed: 21, std: 0.4, biasStd: 0.2 });
const ids = [
  [36, 4, 9, 17, 30, 2, 11],
  [5, 8, 13, 1, 0, 0, 0],
];
// Right padding: every query still sees at least one real key (position 0).
const mask = [
  [1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 0, 0],
];

describe('Gpt2Model', () => {
  it('matches the float64 reference (causal + padding mask, tied LM head, removed modules)', () => {
    const model = new Gpt2Model(ckpt);
    const out = model.forward({ inputIds: ints(ids), attentionMask: ints(mask) });
    expect(out.logits.shape).toEqual([2, 7, config.vocabSize]);
    expect(out.hiddenStates).toHaveLength(config.numLayers + 1);
    const logits = out.logits.arraySync() as number[][][];
    const states = out.hiddenStates.map((h) => h.arraySync() as number[][][]);
    for (let b = 0; b < ids.length; b++) {
      const ref = referenceGpt2(config, ckpt.weights, ids[b]!, mask[b]);
      expect(maxAbsDiff(logits[b], ref.logits)).toBeLessThan(2e-5);
      for (let l = 0; l <= config.numLayers; l++) expect(maxAbsDiff(states[l]![b], ref.hiddenStates[l])).toBeLessThan(2e-5);
    }
    disposeAll(out);
    model.dispose();
  });

  it('is causal: changing a later token leaves earlier positions unchanged', () => {
    const model = new Gpt2Model(ckpt);
    const a = model.forward({ inputIds: ints([[3, 4, 5, 6, 7]]) });
    const b = model.forward({ inputIds: ints([[3, 4, 5, 6, 20]]) });
    const la = a.logits.arraySync() as number[][][];
    const lb = b.logits.arraySync() as number[][][];
    expect(la[0]!.slice(0, 4)).toEqual(lb[0]!.slice(0, 4));
    expect(maxAbsDiff(la[0]![4], lb[0]![4])).toBeGreaterThan(1e-3);
    disposeAll(a, b);
    model.dispose();
  });

  it('a removed module is an exact identity', () => {
    const both = gpt2Config({ ...config, layerHeads: [4, 0, 0, 3], layerIntermediate: [0, 0, 13, 7] });
    const model = new Gpt2Model(randomCheckpoint(both, { seed: 5, std: 0.3, biasStd: 0.1 }));
    const out = model.forward({ inputIds: ints(ids) });
    expect(out.hiddenStates[2]!.arraySync()).toEqual(out.hiddenStates[1]!.arraySync());
    disposeAll(out);
    model.dispose();
  });

  it('does not leak tensors', () => {
    const before = tf.memory().numTensors;
    const model = createModel(ckpt);
    expect(model).toBeInstanceOf(Gpt2Model);
    const withModel = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const inputs = { inputIds: ints(ids), attentionMask: ints(mask) };
      disposeAll(model.forward(inputs, { training: i === 1, seed: i }), inputs);
      expect(tf.memory().numTensors).toBe(withModel);
    }
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('toWeights gives back the checkpoint bit-exactly (no lm_head: it is tied)', () => {
    const model = new Gpt2Model(ckpt);
    const w = model.toWeights();
    expect([...w.keys()]).toEqual([...ckpt.weights.keys()]);
    expect(w.has(GPT2_NAMES.lmHead)).toBe(false);
    for (const [name, t] of ckpt.weights) expect(Array.from(w.get(name)!.data), name).toEqual(Array.from(t.data));
    model.dispose();
  });

  it('dropout is seedable and off in eval mode', () => {
    const model = new Gpt2Model(ckpt);
    const inputIds = ints(ids);
    const run = (training: boolean, seed?: number) => {
      const out = model.forward({ inputIds }, { training, seed });
      const v = out.logits.arraySync();
      disposeAll(out);
      return v;
    };
    expect(run(true, 9)).toEqual(run(true, 9));
    expect(maxAbsDiff(run(true, 9), run(true, 10))).toBeGreaterThan(1e-4);
    expect(run(false, 9)).toEqual(run(false, 10));
    disposeAll(inputIds);
    model.dispose();
  });

  it('language-model loss has a finite, non-zero gradient for every parameter on wasm', () => {
    const model = new Gpt2Model(ckpt);
    const vars = model.trainableVariables();
    const inputIds = ints(ids);
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward({ inputIds }, { training: true, seed: 3 });
      // Next-token cross-entropy via oneHot + logSoftmax (gatherND has no gradient).
      const logits = tf.slice(out.logits, [0, 0, 0], [2, 6, config.vocabSize]);
      const targets = tf.oneHot(tf.slice(inputIds, [0, 1], [2, 6]), config.vocabSize);
      return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1))) as tf.Scalar;
    }, vars);
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    for (const v of vars) {
      const data = grads[v.name]!.dataSync();
      expect(data.every(Number.isFinite), v.name).toBe(true);
      expect(
        data.some((x) => x !== 0),
        v.name,
      ).toBe(true);
    }
    disposeAll(value, grads, inputIds);
    model.dispose();
  });

  it('rejects weights that do not match the config', () => {
    const other = randomCheckpoint(gpt2Config({ ...config, layerHeads: [4, 2, 0, 3] }));
    expect(() => new Gpt2Model({ config, weights: other.weights })).toThrow(WeightsError);
    expect(() => new Gpt2Model({ config, weights: other.weights })).toThrow(
      /transformer\.h\.1\.attn\.c_attn\.weight" has shape \[16, 24\] but the config implies \[16, 12\]/,
    );
  });
});
