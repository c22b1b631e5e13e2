// Parity of the encoders with the real Hugging Face fixtures (issue 16, "Parity"): BERT and DistilBERT
// sequence classifiers made by transformers (../shared/fixtures/hf, its README says how), loaded from their
// model.safetensors, reproduce the fixture's torch logits and every hidden state ≤ 1e-4 in TensorFlow.js and in
// ziplm's ONNX export run by onnxruntime-node; the tokenizer read from tokenizer.json gives the reference ids;
// the exported graph has Optimum's inputs (DistilBERT: no token_type_ids) like the fixture's own onnx/model.onnx.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { maxAbsDiff, releasedAfterAll } from '@ziplm/test-utils';
import type { InferenceSession } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasTokenTypes, isDistilBert } from '../src/config.js';
import { padBatch } from '../src/data/index.js';
import { loadModelDir } from '../src/io/index.js';
import { exportModelToOnnx, ONNX_NAMES, onnxFeeds } from '../src/onnx/index.js';
import { createModel, initBackend } from '../src/tfjs/index.js';
import type { ModelDir } from '../src/io/checkpoint.js';
import { decodeTensor, type EncodedTensor, hfFixture, type ReferenceTensor } from './hf-fixtures.js';

const TOLERANCE = 1e-4;
const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array) => createSession(bytes));

beforeAll(async () => {
  await initBackend('wasm');
});

/** What the encoder fixtures' reference.json holds that these tests use. */
interface EncoderReference {
  readonly sentences: string[];
  readonly inputIds: number[][];
  readonly attentionMask: number[][];
  /** BERT only (all zeros); DistilBERT's tokenizer makes none. */
  readonly tokenTypeIds: number[][] | undefined;
  /** `torch.logits` [batch, labels]. */
  readonly logits: ReferenceTensor;
  /** `torch.hidden_states`: numLayers + 1 tensors [batch, seq, hidden] (embedding output first). */
  readonly hiddenStates: ReferenceTensor[];
}

function readEncoderReference(dir: string): EncoderReference {
  const json = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
    sentences: string[];
    input_ids: number[][];
    attention_mask: number[][];
    token_type_ids?: number[][];
    torch: { logits: EncodedTensor; hidden_states: EncodedTensor[] };
  };
  return {
    sentences: json.sentences,
    inputIds: json.input_ids,
    attentionMask: json.attention_mask,
    tokenTypeIds: json.token_type_ids,
    logits: decodeTensor(json.torch.logits),
    hiddenStates: json.torch.hidden_states.map(decodeTensor),
  };
}

/** The graph's input names, in order, read with onnxruntime. */
async function inputNames(bytes: Uint8Array): Promise<readonly string[]> {
  const s = await session(bytes);
  return s.inputNames;
}

const ENCODERS = [
  { name: 'bert-tiny-seqcls', distilBert: false, inputs: ['input_ids', 'attention_mask', 'token_type_ids'] },
  { name: 'distilbert-tiny-seqcls', distilBert: true, inputs: ['input_ids', 'attention_mask'] },
] as const;

for (const encoder of ENCODERS) {
  const fixture = hfFixture(encoder.name);
  describe.skipIf(fixture.skip !== undefined)(`${encoder.name}${fixture.skip ? ` (${fixture.skip})` : ''}`, () => {
    let model: ModelDir;
    let reference: EncoderReference;
    beforeAll(async () => {
      model = await loadModelDir(fixture.dir);
      reference = readEncoderReference(fixture.dir);
    });

    /** The reference sentences through ziplm's tokenizer, padded like the reference batch. */
    const encodedBatch = () =>
      padBatch(
        reference.sentences.map((s) => model.tokenizer.encode(s)),
        { padId: model.tokenizer.padId },
      );

    it('reads the config as the right variant of BERT', () => {
      const { config } = model.checkpoint;
      expect(config.modelType).toBe('bert');
      expect(isDistilBert(config)).toBe(encoder.distilBert);
      expect(hasTokenTypes(config)).toBe(!encoder.distilBert);
      expect(config.modelType === 'bert' ? config.head : undefined).toEqual({ type: 'classification', labels: ['negative', 'positive'] });
    });

    it('tokenizes the reference sentences to the reference ids and mask (tokenizer.json)', () => {
      const batch = encodedBatch();
      expect(batch.batchSize).toBe(reference.inputIds.length);
      expect(batch.seqLength).toBe(reference.inputIds[0]!.length);
      expect(Array.from(batch.inputIds)).toEqual(reference.inputIds.flat());
      expect(Array.from(batch.attentionMask)).toEqual(reference.attentionMask.flat());
      if (reference.tokenTypeIds) expect(Array.from(batch.tokenTypeIds)).toEqual(reference.tokenTypeIds.flat());
      else expect(encoder.distilBert).toBe(true);
    });

    it('TensorFlow.js reproduces the torch logits and every hidden state ≤ 1e-4', () => {
      const tfjsModel = createModel(model.checkpoint);
      const inputIds = tf.tensor2d(reference.inputIds, undefined, 'int32');
      const attentionMask = tf.tensor2d(reference.attentionMask, undefined, 'int32');
      // DistilBERT is given no token types (its tokenizer makes none); BERT gets the reference's zeros.
      const tokenTypeIds = reference.tokenTypeIds ? tf.tensor2d(reference.tokenTypeIds, undefined, 'int32') : undefined;
      const before = tf.memory().numTensors;
      try {
        const out = tfjsModel.forward({ inputIds, attentionMask, ...(tokenTypeIds ? { tokenTypeIds } : {}) });
        expect(out.logits.shape).toEqual(reference.logits.shape);
        expect(maxAbsDiff(out.logits.dataSync(), reference.logits.data)).toBeLessThanOrEqual(TOLERANCE);
        expect(out.hiddenStates.length).toBe(reference.hiddenStates.length);
        out.hiddenStates.forEach((h, i) => {
          expect(h.shape, `hidden state ${i}`).toEqual(reference.hiddenStates[i]!.shape);
          expect(maxAbsDiff(h.dataSync(), reference.hiddenStates[i]!.data), `hidden state ${i}`).toBeLessThanOrEqual(TOLERANCE);
        });
        tf.dispose(out);
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        tf.dispose([inputIds, attentionMask, ...(tokenTypeIds ? [tokenTypeIds] : [])]);
        tfjsModel.dispose();
      }
    });

    it("the ONNX export has Optimum's inputs, as the fixture's own model.onnx", async () => {
      const bytes = exportModelToOnnx(model.checkpoint);
      expect(await inputNames(bytes)).toEqual(encoder.inputs);
      const theirs = new Uint8Array(readFileSync(join(fixture.dir, 'onnx', 'model.onnx')));
      expect([...(await inputNames(theirs))].sort()).toEqual([...encoder.inputs].sort());
    });

    it('the ONNX export reproduces the torch logits and every hidden state ≤ 1e-4 (onnxruntime-node)', async () => {
      const s: InferenceSession = await session(exportModelToOnnx(model.checkpoint, { hiddenStates: true }));
      const feeds = onnxFeeds(ort, model.checkpoint.config, encodedBatch()) as InferenceSession.FeedsType;
      expect(Object.keys(feeds)).toEqual(encoder.inputs);
      const out = await s.run(feeds);
      const logits = out[ONNX_NAMES.logits]!;
      expect(logits.dims).toEqual(reference.logits.shape);
      expect(maxAbsDiff(logits.data as Float32Array, reference.logits.data)).toBeLessThanOrEqual(TOLERANCE);
      reference.hiddenStates.forEach((expected, i) => {
        const state = out[ONNX_NAMES.hiddenState(i)]!;
        expect(state.dims, `hidden state ${i}`).toEqual(expected.shape);
        expect(maxAbsDiff(state.data as Float32Array, expected.data), `hidden state ${i}`).toBeLessThanOrEqual(TOLERANCE);
      });
    });
  });
}
