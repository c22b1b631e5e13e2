// DistilBERT end to end (issue 16): a BERT config with `variant: 'distilbert'` (no token types, ReLU after
// pre_classifier). Saved under DistilBERT's own names and config.json fields and loaded back bit for bit (the
// real fixture and a pruned model); random and pruned DistilBERTs (a removed module included) give the same
// logits and hidden states in TensorFlow.js and in their ONNX export; the graph has no token_type_ids input;
// the classification head is ReLU (checked by hand in float64); the latency table's blocks export.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { maxAbsDiff, releasedAfterAll } from '@ziplm/test-utils';
import type { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BertConfig, BertHead } from '../src/config.js';
import { distilBertConfig, hasTokenTypes, isDistilBert } from '../src/config.js';
import { padBatch } from '../src/data/index.js';
import { CONFIG_FILE, WEIGHTS_FILE, loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { readSafetensorsHeader } from '../src/io/safetensors.js';
import { exportAttentionBlock, exportFfnBlock, exportLayerBlock, exportModelToOnnx, ONNX_NAMES, onnxFeeds } from '../src/onnx/index.js';
import { createRng, randomCheckpoint } from '../src/random.js';
import { shrinkWeights } from '../src/shrink.js';
import { createModel, initBackend } from '../src/tfjs/index.js';
import type { Checkpoint } from '../src/weights.js';
import { BERT_NAMES, distilBertFileName, expectedShapes } from '../src/weights.js';
import { hfFixture } from './hf-fixtures.js';

const TOLERANCE = 1e-4;
const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array) => createSession(bytes));

let root: string;
let dirs = 0;
const freshDir = () => join(root, `ckpt-${++dirs}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ziplm-distilbert-'));
  await initBackend('wasm');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A small dense DistilBERT with the given head. */
function tinyDistilBert(head: BertHead = { type: 'classification', labels: ['a', 'b', 'c'] }): BertConfig {
  return distilBertConfig({ vocabSize: 50, hiddenSize: 16, numLayers: 3, numHeads: 4, intermediateSize: 24, maxPositions: 16, head });
}

/** Random ids [batch, seq] and a right-padded mask (row b keeps seq − b tokens) as a padded batch. */
function randomBatch(seed: number, batch: number, seq: number, vocab: number) {
  const rng = createRng(seed);
  const items = Array.from({ length: batch }, (_, b) => ({
    ids: Array.from({ length: seq - b }, () => Math.floor(rng.uniform() * vocab)),
  }));
  return padBatch(items, { padId: 0, seqLength: seq });
}

interface Outputs {
  readonly logits: Float32Array;
  readonly logitsShape: readonly number[];
  readonly hiddenStates: Float32Array[];
}

/** TensorFlow.js forward on a padded batch, without token types (DistilBERT has none). */
function tfjsOutputs(checkpoint: Checkpoint, batch: ReturnType<typeof randomBatch>, tokenTypeIds?: Int32Array): Outputs {
  const model = createModel(checkpoint);
  const shape: [number, number] = [batch.batchSize, batch.seqLength];
  const inputs = {
    inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'),
    attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'),
    ...(tokenTypeIds ? { tokenTypeIds: tf.tensor2d(tokenTypeIds, shape, 'int32') } : {}),
  };
  const before = tf.memory().numTensors;
  try {
    const out = model.forward(inputs);
    const result = {
      logits: out.logits.dataSync() as Float32Array,
      logitsShape: out.logits.shape,
      hiddenStates: out.hiddenStates.map((h) => h.dataSync() as Float32Array),
    };
    tf.dispose(out);
    expect(tf.memory().numTensors).toBe(before);
    return result;
  } finally {
    tf.dispose(inputs);
    model.dispose();
  }
}

/** The ONNX export (with hidden states) run by onnxruntime-node on the same batch, fed by `onnxFeeds`. */
async function onnxOutputs(checkpoint: Checkpoint, batch: ReturnType<typeof randomBatch>): Promise<Outputs> {
  const s: InferenceSession = await session(exportModelToOnnx(checkpoint, { hiddenStates: true }));
  expect(s.inputNames).toEqual([ONNX_NAMES.inputIds, ONNX_NAMES.attentionMask]);
  const out = await s.run(onnxFeeds(ort, checkpoint.config, batch) as InferenceSession.FeedsType);
  const logits = out[ONNX_NAMES.logits]!;
  return {
    logits: logits.data as Float32Array,
    logitsShape: logits.dims,
    hiddenStates: Array.from({ length: checkpoint.config.numLayers + 1 }, (_, i) => out[ONNX_NAMES.hiddenState(i)]!.data as Float32Array),
  };
}

async function expectEnginesAgree(checkpoint: Checkpoint, seed = 1): Promise<void> {
  const batch = randomBatch(seed, 3, 9, checkpoint.config.vocabSize);
  const tfjs = tfjsOutputs(checkpoint, batch);
  const onnx = await onnxOutputs(checkpoint, batch);
  expect(onnx.logitsShape).toEqual(tfjs.logitsShape);
  expect(maxAbsDiff(onnx.logits, tfjs.logits)).toBeLessThanOrEqual(TOLERANCE);
  tfjs.hiddenStates.forEach((h, i) => {
    expect(maxAbsDiff(onnx.hiddenStates[i]!, h), `hidden state ${i}`).toBeLessThanOrEqual(TOLERANCE);
  });
}

/** Every tensor of `actual` equals `expected`'s bit for bit, under the same names and in the same order. */
function expectSameWeights(actual: Checkpoint, expected: Checkpoint): void {
  expect([...actual.weights.keys()]).toEqual([...expected.weights.keys()]);
  for (const [name, t] of expected.weights) {
    const other = actual.weights.get(name)!;
    expect(other.shape, name).toEqual(t.shape);
    expect(
      Buffer.from(other.data.buffer, other.data.byteOffset, other.data.byteLength).equals(
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      ),
      name,
    ).toBe(true);
  }
}

describe('random DistilBERT checkpoints', () => {
  it('have no token type table and are DistilBERT configs', () => {
    const config = tinyDistilBert();
    expect(isDistilBert(config)).toBe(true);
    expect(hasTokenTypes(config)).toBe(false);
    const checkpoint = randomCheckpoint(config, { seed: 3, biasStd: 0.1 });
    expect(checkpoint.weights.has(BERT_NAMES.tokenTypeEmbeddings)).toBe(false);
    expect([...checkpoint.weights.keys()]).toEqual([...expectedShapes(config).keys()]);
  });

  for (const head of [
    { type: 'classification', labels: ['a', 'b', 'c'] },
    { type: 'span-qa' },
    { type: 'none' },
  ] as const satisfies readonly BertHead[]) {
    it(`TensorFlow.js and ONNX agree ≤ 1e-4 (${head.type} head), the graph taking input_ids and attention_mask only`, async () => {
      const checkpoint = randomCheckpoint(tinyDistilBert(head), { seed: 4, std: 0.2, biasStd: 0.1 });
      await expectEnginesAgree(checkpoint);
    });
  }

  it('the classification head is classifier(ReLU(pre_classifier(h[:, 0]))), in both engines (float64 by hand)', async () => {
    const checkpoint = randomCheckpoint(tinyDistilBert(), { seed: 5, std: 0.3, biasStd: 0.3 });
    const { config } = checkpoint;
    const batch = randomBatch(2, 3, 7, config.vocabSize);
    const tfjs = tfjsOutputs(checkpoint, batch);
    const onnx = await onnxOutputs(checkpoint, batch);
    const d = config.hiddenSize;
    const labels = 3;
    const last = tfjs.hiddenStates[config.numLayers]!;
    const pre = checkpoint.weights.get(`${BERT_NAMES.pooler}.weight`)!.data;
    const preBias = checkpoint.weights.get(`${BERT_NAMES.pooler}.bias`)!.data;
    const cls = checkpoint.weights.get(`${BERT_NAMES.classifier}.weight`)!.data;
    const clsBias = checkpoint.weights.get(`${BERT_NAMES.classifier}.bias`)!.data;
    const expected = new Float64Array(batch.batchSize * labels);
    let negatives = 0;
    for (let b = 0; b < batch.batchSize; b++) {
      const first = b * batch.seqLength * d; // h[b, 0, :]
      const pooled = new Float64Array(d);
      for (let o = 0; o < d; o++) {
        let z = preBias[o]!;
        for (let i = 0; i < d; i++) z += pre[o * d + i]! * last[first + i]!;
        if (z < 0) negatives++;
        pooled[o] = Math.max(z, 0);
      }
      for (let c = 0; c < labels; c++) {
        let z = clsBias[c]!;
        for (let i = 0; i < d; i++) z += cls[c * d + i]! * pooled[i]!;
        expected[b * labels + c] = z;
      }
    }
    expect(negatives).toBeGreaterThan(0); // ReLU and tanh (or identity) would differ on this input
    expect(maxAbsDiff(tfjs.logits, expected)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDiff(onnx.logits, expected)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('TensorFlow.js ignores token type ids (DistilBERT has none, like Hugging Face)', () => {
    const checkpoint = randomCheckpoint(tinyDistilBert(), { seed: 6, std: 0.2, biasStd: 0.1 });
    const batch = randomBatch(3, 2, 6, checkpoint.config.vocabSize);
    const types = batch.tokenTypeIds.map((_, i) => (i % 6 >= 3 ? 1 : 0));
    const without = tfjsOutputs(checkpoint, batch);
    const withTypes = tfjsOutputs(checkpoint, batch, types);
    expect(Array.from(withTypes.logits)).toEqual(Array.from(without.logits));
  });

  it('saves under DistilBERT names and loads back bit for bit', async () => {
    const checkpoint = randomCheckpoint(tinyDistilBert(), { seed: 7, biasStd: 0.1 });
    const dir = freshDir();
    await saveCheckpoint(dir, checkpoint);
    const header = await readSafetensorsHeader(join(dir, WEIGHTS_FILE));
    expect(header.entries.map((e) => e.name)).toEqual([...checkpoint.weights.keys()].map(distilBertFileName));
    const loaded = await loadCheckpoint(dir);
    expect(loaded.config).toEqual(checkpoint.config);
    expectSameWeights(loaded, checkpoint);
  });

  it('exports the latency-table blocks (attention, FFN, one layer) without token types', async () => {
    const config = tinyDistilBert();
    for (const bytes of [exportAttentionBlock(config, 2), exportFfnBlock(config, 7)]) {
      const s = await session(bytes);
      expect(s.outputNames).toEqual([ONNX_NAMES.blockOutput]);
    }
    const checkpoint = randomCheckpoint(config, { seed: 8 });
    const s = await session(exportLayerBlock(checkpoint, 1, 'attention'));
    expect(s.inputNames).toEqual([ONNX_NAMES.blockInput, ONNX_NAMES.attentionMask]);
  });
});

describe('a pruned DistilBERT', () => {
  // Layer 0 keeps heads 1 and 3 and 10 of 24 neurons; layer 1 loses its attention module; layer 2 keeps 3 heads.
  const keep = {
    heads: [[1, 3], [], [0, 2, 3]],
    neurons: [[0, 2, 3, 5, 8, 13, 17, 19, 22, 23], [1, 4, 6, 9, 11, 12], Array.from({ length: 24 }, (_, i) => i)],
  };

  it('exports, runs, and its TensorFlow.js and ONNX outputs agree ≤ 1e-4', async () => {
    const pruned = shrinkWeights(randomCheckpoint(tinyDistilBert(), { seed: 9, std: 0.2, biasStd: 0.1 }), keep);
    expect(pruned.config.layerHeads).toEqual([2, 0, 3]);
    expect(isDistilBert(pruned.config)).toBe(true);
    await expectEnginesAgree(pruned, 2);
  });

  it('saves and loads back bit for bit, without the removed module in the file', async () => {
    const pruned = shrinkWeights(randomCheckpoint(tinyDistilBert(), { seed: 10, biasStd: 0.1 }), keep);
    const dir = freshDir();
    await saveCheckpoint(dir, pruned);
    const names = (await readSafetensorsHeader(join(dir, WEIGHTS_FILE))).entries.map((e) => e.name);
    expect(names).toContain('distilbert.transformer.layer.0.attention.q_lin.weight');
    expect(names.some((n) => n.startsWith('distilbert.transformer.layer.1.attention.'))).toBe(false);
    expect(names.some((n) => n.startsWith('distilbert.transformer.layer.1.sa_layer_norm.'))).toBe(false);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.config).toEqual(pruned.config);
    expectSameWeights(loaded, pruned);
  });
});

const fixture = hfFixture('distilbert-tiny-seqcls');
describe.skipIf(fixture.skip !== undefined)(`the distilbert-tiny-seqcls fixture${fixture.skip ? ` (${fixture.skip})` : ''}`, () => {
  it("saves with DistilBERT's own tensor names and config.json fields, and loads back bit for bit", async () => {
    const original = await loadCheckpoint(fixture.dir);
    const dir = freshDir();
    await saveCheckpoint(dir, original);
    const ours = (await readSafetensorsHeader(join(dir, WEIGHTS_FILE))).entries.map((e) => e.name);
    const theirs = (await readSafetensorsHeader(join(fixture.dir, WEIGHTS_FILE))).entries.map((e) => e.name);
    expect([...ours].sort()).toEqual([...theirs].sort());
    const json = JSON.parse(await readFile(join(dir, CONFIG_FILE), 'utf8')) as Record<string, unknown>;
    const source = JSON.parse(await readFile(join(fixture.dir, CONFIG_FILE), 'utf8')) as Record<string, unknown>;
    expect(json.model_type).toBe('distilbert');
    expect(json.architectures).toEqual(['DistilBertForSequenceClassification']);
    for (const field of ['vocab_size', 'dim', 'n_layers', 'n_heads', 'hidden_dim', 'max_position_embeddings', 'activation', 'id2label']) {
      expect(json[field], field).toEqual(source[field]);
    }
    // BERT's field names would make transformers build a DistilBertConfig with its defaults.
    for (const field of ['hidden_size', 'num_hidden_layers', 'intermediate_size', 'type_vocab_size'])
      expect(json, field).not.toHaveProperty(field);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.config).toEqual(original.config);
    expectSameWeights(loaded, original);
  });

  it('pruned, with a module removed, still exports and agrees with TensorFlow.js', async () => {
    const original = await loadCheckpoint(fixture.dir);
    const pruned = shrinkWeights(original, {
      heads: [
        [0, 3],
        [0, 1, 2, 3],
      ],
      neurons: [Array.from({ length: 40 }, (_, i) => 3 * i), []],
    });
    expect(pruned.config.layerIntermediate).toEqual([40, 0]);
    await expectEnginesAgree(pruned, 3);
  });
});
