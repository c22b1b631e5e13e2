// The INT8 member runs where browser deployment will: onnxruntime-web's wasm backend, here in Node.
// The whole INT8 BERT (dynamic and static) gives onnxruntime-node's outputs within float tolerance:
// both run the same integer kernels' arithmetic, only summation order and vectorisation differ, and
// an activation rounded the other way at a grid midpoint costs at most one activation step.

import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { maxAbsDiff, releasedAfterAll } from '@ziplm/test-utils';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { exportModelToOnnx, ONNX_NAMES, type OnnxQuantizeOptions, quantizableLinears } from '../src/onnx/index.js';
import { randomCheckpoint } from '../src/random.js';
import { tinyBertConfig } from './helpers.js';

// One wasm thread: no worker threads in Node, and deterministic summation order.
ortWeb.env.wasm.numThreads = 1;
const ortNode = await loadOrt();
const nodeSession = releasedAfterAll((bytes: Uint8Array) => createSession(bytes, { threads: 1 }));
const webSession = releasedAfterAll((bytes: Uint8Array) => ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] }));

const checkpoint = randomCheckpoint(tinyBertConfig(), { seed: 4, std: 0.1, biasStd: 0.1 });
const [batch, seq] = [2, 6];
const ids = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt((i * 7 + 2) % checkpoint.config.vocabSize));
const mask = BigInt64Array.from({ length: batch * seq }, (_, i) => (i >= seq && i % seq >= 4 ? 0n : 1n));
const types = new BigInt64Array(batch * seq);

describe('INT8 BERT in onnxruntime-web (wasm backend, Node)', () => {
  for (const activations of ['dynamic', 'static'] as const) {
    it(`${activations}: loads, runs and matches onnxruntime-node`, async () => {
      const quantize: OnnxQuantizeOptions =
        activations === 'dynamic'
          ? { activations }
          : { activations, ranges: new Map(quantizableLinears(checkpoint.config).map((l) => [l.input, { min: -4, max: 4 }])) };
      const bytes = exportModelToOnnx(checkpoint, { quantize, hiddenStates: true });
      const web = await webSession(bytes);
      const webOut = await web.run({
        [ONNX_NAMES.inputIds]: new ortWeb.Tensor('int64', ids, [batch, seq]),
        [ONNX_NAMES.attentionMask]: new ortWeb.Tensor('int64', mask, [batch, seq]),
        [ONNX_NAMES.tokenTypeIds]: new ortWeb.Tensor('int64', types, [batch, seq]),
      });
      const node = await nodeSession(bytes);
      const nodeOut = await node.run({
        [ONNX_NAMES.inputIds]: new ortNode.Tensor('int64', ids, [batch, seq]),
        [ONNX_NAMES.attentionMask]: new ortNode.Tensor('int64', mask, [batch, seq]),
        [ONNX_NAMES.tokenTypeIds]: new ortNode.Tensor('int64', types, [batch, seq]),
      });
      expect(webOut.logits!.dims).toEqual([batch, 3]);
      const last = ONNX_NAMES.hiddenState(checkpoint.config.numLayers);
      // Static range ±4: step 8/255 ≈ 0.031; the states differ by far less than one step.
      expect(maxAbsDiff(webOut.logits!.data as Float32Array, nodeOut.logits!.data as Float32Array)).toBeLessThan(1e-3);
      expect(maxAbsDiff(webOut[last]!.data as Float32Array, nodeOut[last]!.data as Float32Array)).toBeLessThan(8 / 255);
    });
  }
});
