import { maxAbsDiff } from '@ziplm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { headDim } from '../src/config.js';
import { ZiplmModelError } from '../src/errors.js';
import type { KeptStructures } from '../src/shrink.js';
import { findKeptStructures, shrinkWeights, zeroStructures } from '../src/shrink.js';
import { createModel, initBackend } from '../src/tfjs/index.js';
import { randomCheckpoint } from '../src/random.js';
import type { Checkpoint } from '../src/weights.js';
import { bertLayerNames, expectedShapes, gpt2LayerNames } from '../src/weights.js';
import { disposeAll, ints, tinyBertConfig, tinyGpt2Config } from './helpers.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const ids = [
  [2, 7, 13, 30, 5, 0, 3],
  [1, 11, 1, 4, 8, 21, 3],
];

/** Logits and every hidden state of a checkpoint on a fixed batch. */
function run(ckpt: Checkpoint): { logits: unknown; states: unknown[] } {
  const model = createModel(ckpt);
  const inputIds = ints(ids);
  const out = model.forward({
    inputIds,
    attentionMask: ints([
      [1, 1, 1, 1, 1, 1, 0],
      [1, 1, 1, 1, 1, 1, 1],
    ]),
  });
  const result = { logits: out.logits.arraySync(), states: out.hiddenStates.map((h) => h.arraySync()) };
  disposeAll(out, inputIds);
  model.dispose();
  return result;
}

function maxOutputDiff(a: Checkpoint, b: Checkpoint): number {
  const ra = run(a);
  const rb = run(b);
  return Math.max(maxAbsDiff(ra.logits, rb.logits), ...ra.states.map((s, i) => maxAbsDiff(s, rb.states[i])));
}

const bert = randomCheckpoint(tinyBertConfig(), { seed: 31, std: 0.4, biasStd: 0.2 });
const gpt2 = randomCheckpoint(tinyGpt2Config(), { seed: 32, std: 0.4, biasStd: 0.2 });

// BERT layers: heads [4, 0, 2, 3], neurons [24, 11, 0, 5]. Partial removals only.
const bertPartial: KeptStructures = {
  heads: [[0, 3], [], [1], [2, 0]],
  neurons: [[1, 5, 6, 7, 20, 23], [0, 10], [], [4, 1, 2]],
};
// GPT2 layers: heads [4, 1, 0, 3], neurons [0, 64, 13, 7].
const gpt2Keep: KeptStructures = {
  heads: [[1, 2], [], [], [0, 2]], // layer 1 attention fully removed
  neurons: [[], Array.from({ length: 30 }, (_, i) => 2 * i), [], [6, 0, 3]], // layer 2 MLP fully removed
};

describe('shrinkWeights', () => {
  it('BERT: slices Q/K/V rows, out-proj columns, FC1 rows and FC2 columns per kept structure', () => {
    const small = shrinkWeights(bert, bertPartial);
    expect(small.config.layerHeads).toEqual([2, 0, 1, 2]);
    expect(small.config.layerIntermediate).toEqual([6, 2, 0, 3]);
    const hd = headDim(bert.config);
    const n = bertLayerNames(3);
    // Layer 3 keeps heads 0 and 2 (sorted): Q rows [0..hd) then [2hd..3hd).
    const q = bert.weights.get(`${n.query}.weight`)!;
    const qs = small.weights.get(`${n.query}.weight`)!;
    const d = bert.config.hiddenSize;
    expect(qs.shape).toEqual([2 * hd, d]);
    expect(Array.from(qs.data.subarray(hd * d, 2 * hd * d))).toEqual(Array.from(q.data.subarray(2 * hd * d, 3 * hd * d)));
    const o = bert.weights.get(`${n.attnOut}.weight`)!;
    const os = small.weights.get(`${n.attnOut}.weight`)!;
    expect(os.shape).toEqual([d, 2 * hd]);
    expect(os.data[5 * 2 * hd + hd + 1]).toBe(o.data[5 * 3 * hd + 2 * hd + 1]);
    // The output-projection bias is kept whole.
    expect(small.weights.get(`${n.attnOut}.bias`)!.data).toEqual(bert.weights.get(`${n.attnOut}.bias`)!.data);
    // FC1 row / bias entry 4 and FC2 column 4 of layer 3 become index 2 (kept [1, 2, 4]).
    const f1 = bert.weights.get(`${n.ffnIn}.weight`)!;
    expect(Array.from(small.weights.get(`${n.ffnIn}.weight`)!.data.subarray(2 * d, 3 * d))).toEqual(
      Array.from(f1.data.subarray(4 * d, 5 * d)),
    );
    expect(small.weights.get(`${n.ffnIn}.bias`)!.data[2]).toBe(bert.weights.get(`${n.ffnIn}.bias`)!.data[4]);
    expect(small.weights.get(`${n.ffnOut}.weight`)!.data[7 * 3 + 2]).toBe(bert.weights.get(`${n.ffnOut}.weight`)!.data[7 * 5 + 4]);
    // Exactly the tensors the new config expects, with their shapes.
    const expected = expectedShapes(small.config);
    expect([...small.weights.keys()]).toEqual([...expected.keys()]);
    for (const [name, shape] of expected) expect(small.weights.get(name)!.shape, name).toEqual(shape);
  });

  it('GPT2: c_attn columns at i, i+split, i+2·split; c_proj rows; c_fc columns; mlp.c_proj rows', () => {
    const small = shrinkWeights(gpt2, gpt2Keep);
    expect(small.config.layerHeads).toEqual([2, 0, 0, 2]);
    expect(small.config.layerIntermediate).toEqual([0, 30, 0, 3]);
    const hd = headDim(gpt2.config);
    const d = gpt2.config.hiddenSize;
    const n = gpt2LayerNames(3);
    const split = 3 * hd; // layer 3 has 3 heads
    const w = gpt2.weights.get(`${n.qkv}.weight`)!; // [d, 9·hd]
    const ws = small.weights.get(`${n.qkv}.weight`)!; // [d, 6·hd]
    expect(ws.shape).toEqual([d, 6 * hd]);
    const row = 3;
    // Kept heads [0, 2]: new column j of the K part (offset 2·hd) for head 2 comes from split + 2·hd + j.
    for (let j = 0; j < hd; j++) {
      expect(ws.data[row * 6 * hd + 2 * hd + hd + j]).toBe(w.data[row * 3 * split + split + 2 * hd + j]);
      expect(ws.data[row * 6 * hd + 4 * hd + j]).toBe(w.data[row * 3 * split + 2 * split + j]);
    }
    const b = gpt2.weights.get(`${n.qkv}.bias`)!;
    expect(small.weights.get(`${n.qkv}.bias`)!.data[5 * hd]).toBe(b.data[2 * split + 2 * hd]);
    const p = gpt2.weights.get(`${n.attnOut}.weight`)!;
    expect(Array.from(small.weights.get(`${n.attnOut}.weight`)!.data.subarray(hd * d, 2 * hd * d))).toEqual(
      Array.from(p.data.subarray(2 * hd * d, 3 * hd * d)),
    );
    const fc = gpt2.weights.get(`${n.ffnIn}.weight`)!; // [d, 7]
    expect(small.weights.get(`${n.ffnIn}.weight`)!.data[4 * 3 + 2]).toBe(fc.data[4 * 7 + 6]);
    const proj = gpt2.weights.get(`${n.ffnOut}.weight`)!; // [7, d]
    expect(Array.from(small.weights.get(`${n.ffnOut}.weight`)!.data.subarray(d, 2 * d))).toEqual(
      Array.from(proj.data.subarray(3 * d, 4 * d)),
    );
    // Removed modules take their LayerNorm with them.
    expect(small.weights.has('transformer.h.1.ln_1.weight')).toBe(false);
    expect(small.weights.has('transformer.h.2.ln_2.weight')).toBe(false);
  });

  it('BERT: shrunk = zeroed up to float rounding when no module is fully removed', () => {
    // Layer 1's attention and layer 2's FFN were already removed in the config: not a new removal.
    const diff = maxOutputDiff(shrinkWeights(bert, bertPartial), zeroStructures(bert, bertPartial));
    expect(diff).toBeLessThan(1e-5);
  });

  it('BERT (post-LN): a fully removed module differs from zeroing it (the LayerNorm is skipped)', () => {
    const keep: KeptStructures = { ...bertPartial, heads: [[0, 3], [], [], [2, 0]] }; // layer 2 attention removed
    const shrunk = shrinkWeights(bert, keep);
    const zeroed = zeroStructures(bert, keep);
    expect(shrunk.config.layerHeads[2]).toBe(0);
    expect(maxOutputDiff(shrunk, zeroed)).toBeGreaterThan(1e-2);
    // ...and the difference is exactly that LayerNorm: the zeroed model computes LN(0 + h), with the
    // output bias zeroed too (ZipLM's level "1.0000"). Check it on layer 2's output directly.
    const rz = run(zeroed);
    const rs = run(shrunk);
    // Layers 0 and 1 are identical in both (up to rounding)...
    expect(maxAbsDiff(rz.states[2], rs.states[2])).toBeLessThan(1e-5);
    // ...and layer 2 has neither FFN nor (in the shrunk model) attention: shrunk passes h through.
    expect(rs.states[3]).toEqual(rs.states[2]);
    expect(maxAbsDiff(rz.states[3], rz.states[2])).toBeGreaterThan(1e-2);
  });

  it('GPT2 (pre-LN): shrunk = zeroed, including fully removed modules (an exact identity)', () => {
    const diff = maxOutputDiff(shrinkWeights(gpt2, gpt2Keep), zeroStructures(gpt2, gpt2Keep));
    expect(diff).toBeLessThan(1e-5);
  });

  it('keeping everything is a bit-exact copy; the input is never modified', () => {
    const before = new Map([...bert.weights].map(([k, t]) => [k, Float32Array.from(t.data)]));
    const all = (sizes: readonly number[]) => sizes.map((s) => Array.from({ length: s }, (_, i) => i));
    const same = shrinkWeights(bert, { heads: all(bert.config.layerHeads), neurons: all(bert.config.layerIntermediate) });
    expect(same.config).toEqual(bert.config);
    for (const [name, t] of bert.weights) expect(same.weights.get(name)!.data, name).toEqual(t.data);
    zeroStructures(bert, bertPartial);
    shrinkWeights(bert, bertPartial);
    for (const [name, t] of bert.weights) expect(t.data, name).toEqual(before.get(name));
  });

  it('indices are relative to the current shape: shrinking twice composes', () => {
    const once = shrinkWeights(gpt2, gpt2Keep);
    // Of GPT2 layer 3's kept heads [0, 2], keep the second (original head 2); of layer 1's 30 neurons keep 3.
    const twice = shrinkWeights(once, { heads: [[0, 1], [], [], [1]], neurons: [[], [0, 7, 29], [], [0, 1, 2]] });
    const direct = shrinkWeights(gpt2, { heads: [[1, 2], [], [], [2]], neurons: [[], [0, 14, 58], [], [0, 3, 6]] });
    expect(twice.config).toEqual(direct.config);
    for (const [name, t] of direct.weights) expect(twice.weights.get(name)!.data, name).toEqual(t.data);
  });

  it('findKeptStructures recovers what zeroStructures removed, so zero → shrink works', () => {
    const zeroed = zeroStructures(bert, bertPartial);
    const found = findKeptStructures(zeroed);
    const sorted = (k: KeptStructures) => ({
      heads: k.heads.map((h) => [...h].sort((a, b) => a - b)),
      neurons: k.neurons.map((h) => [...h].sort((a, b) => a - b)),
    });
    expect(found).toEqual(sorted(bertPartial));
    expect(findKeptStructures(zeroStructures(gpt2, gpt2Keep))).toEqual(sorted(gpt2Keep));
    expect(maxOutputDiff(shrinkWeights(zeroed, found), shrinkWeights(bert, bertPartial))).toBe(0);
  });

  it('rejects malformed keep lists', () => {
    const ok = bertPartial;
    expect(() => shrinkWeights(bert, { ...ok, heads: ok.heads.slice(1) })).toThrow(/keep\.heads must have one list per layer \(4\), got 3/);
    expect(() => shrinkWeights(bert, { ...ok, heads: [[0, 4], [], [1], [0]] })).toThrow(
      /keep\.heads\[0\] contains 4, but layer 0 currently has 4 heads/,
    );
    expect(() => shrinkWeights(bert, { ...ok, heads: [[0], [0], [1], [0]] })).toThrow(
      /keep\.heads\[1\] contains 0, but layer 1 currently has 0 heads/,
    );
    expect(() => shrinkWeights(bert, { ...ok, neurons: [[1, 1], [], [], []] })).toThrow(/keep\.neurons\[0\] contains 1 twice/);
    expect(() => zeroStructures(bert, { ...ok, neurons: [[0.5], [], [], []] })).toThrow(ZiplmModelError);
  });
});
