// Parity of the ONNX export (onnxruntime-node) with the TensorFlow.js models on the same checkpoint:
// max abs difference <= 1e-4 on random inputs, for BERT with both heads and GPT2 (full and decode),
// with heterogeneous layers, a removed attention module and a removed FFN module (issue 2 item 7).

import * as tf from '@tensorflow/tfjs-core';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { int64Tensor, maxAbsDiff, releasedAfterAll } from '@ziplm/test-utils';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { bertConfig, gpt2Config } from '../src/config.js';
import { exportModelToOnnx } from '../src/onnx/index.js';
import { createRng, randomCheckpoint } from '../src/random.js';
import { BertModel, createModel, Gpt2Model, initBackend } from '../src/tfjs/index.js';
import type { Checkpoint } from '../src/weights.js';

const TOLERANCE = 1e-4;
const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array) => createSession(bytes));

beforeAll(async () => {
  await initBackend();
});

/** Random ids [batch, seq] and a right-padded mask (row b keeps seq − b tokens). */
function randomInputs(seed: number, batch: number, seq: number, vocab: number, typeVocab = 0) {
  const rng = createRng(seed);
  const ids = Array.from({ length: batch }, () => Array.from({ length: seq }, () => Math.floor(rng.uniform() * vocab)));
  const mask = Array.from({ length: batch }, (_, b) => Array.from({ length: seq }, (_, s) => (s < seq - b ? 1 : 0)));
  const types = Array.from({ length: batch }, () => Array.from({ length: seq }, (_, s) => (typeVocab > 1 && s >= seq / 2 ? 1 : 0)));
  return { ids, mask, types };
}

const int64 = (rows: number[][]): OrtTensor => int64Tensor<OrtTensor>(ort, rows);
const int32 = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');

/**
 * Runs one onnxruntime session at each [batch, seq] in turn (dynamic batch and sequence: no re-export,
 * no new session) and checks logits and every hidden state against the tfjs forward at that shape.
 */
async function expectParityAtShapes(
  s: InferenceSession,
  checkpoint: Checkpoint,
  shapes: ReadonlyArray<readonly [number, number]>,
): Promise<void> {
  const { config } = checkpoint;
  const model = createModel(checkpoint);
  const before = tf.memory().numTensors;
  try {
    for (const [i, [batch, seq]] of shapes.entries()) {
      const { ids, mask, types } = randomInputs(
        100 + i,
        batch,
        seq,
        config.vocabSize,
        config.modelType === 'bert' ? config.typeVocabSize : 0,
      );
      const inputs = {
        inputIds: int32(ids),
        attentionMask: int32(mask),
        ...(config.modelType === 'bert' ? { tokenTypeIds: int32(types) } : {}),
      };
      const out = model.forward(inputs);
      const feeds: Record<string, OrtTensor> = { input_ids: int64(ids), attention_mask: int64(mask) };
      if (config.modelType === 'bert') feeds.token_type_ids = int64(types);
      const onnx = await s.run(feeds);
      const where = `at [${batch}, ${seq}]`;
      expect(onnx.logits!.dims, where).toEqual(out.logits.shape);
      expect(out.logits.shape[0], where).toBe(batch);
      expect(maxAbsDiff(onnx.logits!.data as Float32Array, out.logits.dataSync()), where).toBeLessThanOrEqual(TOLERANCE);
      expect(out.hiddenStates.length, where).toBe(config.numLayers + 1);
      out.hiddenStates.forEach((h, l) => {
        const state = onnx[`hidden_state_${l}`]!;
        expect(state.dims, `${where}, hidden_state_${l}`).toEqual([batch, seq, config.hiddenSize]);
        expect(maxAbsDiff(state.data as Float32Array, h.dataSync()), `${where}, hidden_state_${l}`).toBeLessThanOrEqual(TOLERANCE);
      });
      tf.dispose([out.logits, ...out.hiddenStates, ...Object.values(inputs)]);
    }
    expect(tf.memory().numTensors).toBe(before);
  } finally {
    model.dispose();
  }
}

const bertBase = {
  vocabSize: 50,
  hiddenSize: 32,
  numHeads: 4,
  numLayers: 4,
  intermediateSize: 48,
  // Heterogeneous: layer 1 has its attention removed, layer 2 its FFN.
  layerHeads: [4, 0, 3, 1],
  layerIntermediate: [48, 20, 0, 7],
  maxPositions: 24,
};

describe('ONNX export vs tfjs', () => {
  for (const head of [{ type: 'classification', labels: ['neg', 'neu', 'pos'] }, { type: 'span-qa' }] as const) {
    it(`BERT ${head.type}: logits and every hidden state`, async () => {
      const checkpoint = randomCheckpoint(bertConfig({ ...bertBase, head }), { seed: 31, std: 0.2, biasStd: 0.1 });
      const { ids, mask, types } = randomInputs(1, 3, 9, bertBase.vocabSize, 2);
      const model = createModel(checkpoint);
      expect(model).toBeInstanceOf(BertModel);
      const before = tf.memory().numTensors;
      const inputs = { inputIds: int32(ids), attentionMask: int32(mask), tokenTypeIds: int32(types) };
      const out = model.forward(inputs);
      const s = await session(exportModelToOnnx(checkpoint, { hiddenStates: true }));
      const onnx = await s.run({ input_ids: int64(ids), attention_mask: int64(mask), token_type_ids: int64(types) });
      expect(onnx.logits!.dims).toEqual(out.logits.shape);
      expect(maxAbsDiff(onnx.logits!.data as Float32Array, out.logits.dataSync())).toBeLessThanOrEqual(TOLERANCE);
      out.hiddenStates.forEach((h, i) => {
        expect(maxAbsDiff(onnx[`hidden_state_${i}`]!.data as Float32Array, h.dataSync())).toBeLessThanOrEqual(TOLERANCE);
      });
      tf.dispose([out.logits, ...out.hiddenStates, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  it('BERT: one session at two shapes ([1, 5] then [3, 9], then [1, 5] again) matches tfjs at each', async () => {
    for (const head of [{ type: 'classification', labels: ['neg', 'neu', 'pos'] }, { type: 'span-qa' }] as const) {
      const checkpoint = randomCheckpoint(bertConfig({ ...bertBase, head }), { seed: 33, std: 0.2, biasStd: 0.1 });
      const s = await session(exportModelToOnnx(checkpoint, { hiddenStates: true }));
      await expectParityAtShapes(s, checkpoint, [
        [1, 5],
        [3, 9],
        [1, 5],
      ]);
    }
  });

  const gpt2 = gpt2Config({
    vocabSize: 40,
    hiddenSize: 32,
    numHeads: 4,
    numLayers: 4,
    intermediateSize: 64,
    layerHeads: [4, 2, 0, 3],
    layerIntermediate: [64, 0, 30, 9],
    maxPositions: 24,
    bosTokenId: 0,
    eosTokenId: 0,
  });
  const checkpoint = randomCheckpoint(gpt2, { seed: 32, std: 0.2, biasStd: 0.1 });
  const { ids, mask } = randomInputs(2, 3, 10, gpt2.vocabSize);

  it('GPT2 full: logits and every hidden state', async () => {
    const model = createModel(checkpoint);
    expect(model).toBeInstanceOf(Gpt2Model);
    const inputs = { inputIds: int32(ids), attentionMask: int32(mask) };
    const out = model.forward(inputs);
    const s = await session(exportModelToOnnx(checkpoint, { hiddenStates: true }));
    const onnx = await s.run({ input_ids: int64(ids), attention_mask: int64(mask) });
    expect(onnx.logits!.dims).toEqual(out.logits.shape);
    expect(maxAbsDiff(onnx.logits!.data as Float32Array, out.logits.dataSync())).toBeLessThanOrEqual(TOLERANCE);
    out.hiddenStates.forEach((h, i) => {
      expect(maxAbsDiff(onnx[`hidden_state_${i}`]!.data as Float32Array, h.dataSync())).toBeLessThanOrEqual(TOLERANCE);
    });
    tf.dispose([out.logits, ...out.hiddenStates, inputs.inputIds, inputs.attentionMask]);
    model.dispose();
  });

  it('GPT2 full: one session at two shapes ([1, 5] then [3, 9], then [1, 5] again) matches tfjs at each', async () => {
    const s = await session(exportModelToOnnx(checkpoint, { hiddenStates: true }));
    await expectParityAtShapes(s, checkpoint, [
      [1, 5],
      [3, 9],
      [1, 5],
    ]);
  });

  it('GPT2 decode: token-by-token generation with the KV cache matches the tfjs full forward', async () => {
    const model = createModel(checkpoint);
    const inputs = { inputIds: int32(ids), attentionMask: int32(mask) };
    const out = model.forward(inputs);
    const want = out.logits.dataSync() as Float32Array;
    tf.dispose([out.logits, ...out.hiddenStates, inputs.inputIds, inputs.attentionMask]);
    model.dispose();

    const s = await session(exportModelToOnnx(checkpoint, { mode: 'decode' }));
    const [batch, seq, vocab, hd] = [ids.length, ids[0]!.length, gpt2.vocabSize, gpt2.hiddenSize / gpt2.numHeads];
    const layers = gpt2.layerHeads.flatMap((h, l) => (h > 0 ? [l] : []));
    let cache: Record<string, OrtTensor> = {};
    for (const l of layers) {
      const empty = new ort.Tensor('float32', new Float32Array(0), [batch, gpt2.layerHeads[l]!, 0, hd]);
      cache[`past_key_${l}`] = empty;
      cache[`past_value_${l}`] = empty;
    }
    let worst = 0;
    // One token per step from an empty cache: every position is produced in decode mode.
    for (let pos = 0; pos < seq; pos++) {
      const r = await s.run({
        input_ids: int64(ids.map((row) => [row[pos]!])),
        attention_mask: int64(mask.map((row) => row.slice(0, pos + 1))),
        ...cache,
      });
      const got = r.logits!.data as Float32Array;
      for (let b = 0; b < batch; b++) {
        // Padded positions of the full forward are not generation steps; compare real tokens.
        if (mask[b]![pos] === 0) continue;
        const row = got.subarray(b * vocab, (b + 1) * vocab);
        worst = Math.max(worst, maxAbsDiff(row, want.subarray((b * seq + pos) * vocab, (b * seq + pos + 1) * vocab)));
      }
      cache = {};
      for (const l of layers) {
        cache[`past_key_${l}`] = r[`present_key_${l}`]!;
        cache[`past_value_${l}`] = r[`present_value_${l}`]!;
      }
    }
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
  });
});
