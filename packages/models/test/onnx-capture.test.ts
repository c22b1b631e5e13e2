// The calibration outputs of `exportModelToOnnx(…, { moduleInputs: true })` are the real inputs of
// the output projections: every layer's output is rebuilt from them with the layer's equations.

import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { maxAbsDiff } from '@ziplm/test-utils';
import { describe, expect, it } from 'vitest';
import { headDim } from '../src/config.js';
import { exportModelToOnnx, ONNX_NAMES } from '../src/onnx/index.js';
import { randomCheckpoint } from '../src/random.js';
import { bertLayerNames, gpt2LayerNames, type Checkpoint } from '../src/weights.js';
import { tinyBertConfig, tinyGpt2Config } from './helpers.js';

const ort = await loadOrt();
const BATCH = 2;
const SEQ = 5;

async function run(checkpoint: Checkpoint) {
  const session = await createSession(exportModelToOnnx(checkpoint, { hiddenStates: true, moduleInputs: true }));
  const ids = BigInt64Array.from({ length: BATCH * SEQ }, (_, i) => BigInt((i * 7) % checkpoint.config.vocabSize));
  const mask = BigInt64Array.from({ length: BATCH * SEQ }, (_, i) => (i % SEQ < SEQ - (i >= SEQ ? 1 : 0) ? 1n : 0n));
  const feeds: Record<string, unknown> = {
    [ONNX_NAMES.inputIds]: new ort.Tensor('int64', ids, [BATCH, SEQ]),
    [ONNX_NAMES.attentionMask]: new ort.Tensor('int64', mask, [BATCH, SEQ]),
  };
  if (checkpoint.config.modelType === 'bert')
    feeds[ONNX_NAMES.tokenTypeIds] = new ort.Tensor('int64', new BigInt64Array(BATCH * SEQ), [BATCH, SEQ]);
  const out = await session.run(feeds as never);
  await session.release();
  const get = (name: string) => out[name]!.data as Float32Array;
  return { get, names: Object.keys(out) };
}

/** y[t, :] = x[t, :] · Wᵀ + b with W stored [out, in] (transposed: W stored [in, out]). */
function linear(x: Float32Array, w: Float32Array, b: Float32Array, inDim: number, outDim: number, transposed: boolean): Float64Array {
  const tokens = x.length / inDim;
  const y = new Float64Array(tokens * outDim);
  for (let t = 0; t < tokens; t++) {
    for (let o = 0; o < outDim; o++) {
      let s = b[o]!;
      for (let i = 0; i < inDim; i++) s += x[t * inDim + i]! * (transposed ? w[i * outDim + o]! : w[o * inDim + i]!);
      y[t * outDim + o] = s;
    }
  }
  return y;
}

function layerNorm(x: Float64Array, g: Float32Array, b: Float32Array, d: number, eps: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let t = 0; t < x.length / d; t++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[t * d + i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[t * d + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[t * d + i] = (x[t * d + i]! - mean) * inv * g[i]! + b[i]!;
  }
  return y;
}

describe('moduleInputs: calibration outputs of the whole-model export', () => {
  it('BERT: LayerNorm(input · W_outᵀ + b + residual) rebuilds every layer output', async () => {
    const checkpoint = randomCheckpoint(tinyBertConfig(), { seed: 3, biasStd: 0.1 });
    const { config, weights } = checkpoint;
    const w = (name: string) => weights.get(name)!.data;
    const { get, names } = await run(checkpoint);
    const d = config.hiddenSize;
    for (let l = 0; l < config.numLayers; l++) {
      const n = bertLayerNames(l);
      let h: Float32Array = get(ONNX_NAMES.hiddenState(l));
      const heads = config.layerHeads[l]!;
      expect(names.includes(ONNX_NAMES.attentionInput(l))).toBe(heads > 0);
      if (heads > 0) {
        const a = heads * headDim(config);
        const proj = linear(get(ONNX_NAMES.attentionInput(l)), w(`${n.attnOut}.weight`), w(`${n.attnOut}.bias`), a, d, false);
        for (let i = 0; i < proj.length; i++) proj[i]! += h[i]!;
        h = layerNorm(proj, w(`${n.attnNorm}.weight`), w(`${n.attnNorm}.bias`), d, config.layerNormEps);
      }
      const f = config.layerIntermediate[l]!;
      expect(names.includes(ONNX_NAMES.ffnInput(l))).toBe(f > 0);
      if (f > 0) {
        const proj = linear(get(ONNX_NAMES.ffnInput(l)), w(`${n.ffnOut}.weight`), w(`${n.ffnOut}.bias`), f, d, false);
        for (let i = 0; i < proj.length; i++) proj[i]! += h[i]!;
        h = layerNorm(proj, w(`${n.ffnNorm}.weight`), w(`${n.ffnNorm}.bias`), d, config.layerNormEps);
      }
      expect(maxAbsDiff(h, get(ONNX_NAMES.hiddenState(l + 1)))).toBeLessThan(1e-4);
    }
  });

  it('GPT2: input + attention_input · c_proj + ffn_input · c_proj rebuilds every layer output', async () => {
    const checkpoint = randomCheckpoint(tinyGpt2Config(), { seed: 4, biasStd: 0.1 });
    const { config, weights } = checkpoint;
    const w = (name: string) => weights.get(name)!.data;
    const { get, names } = await run(checkpoint);
    const d = config.hiddenSize;
    for (let l = 0; l < config.numLayers; l++) {
      const n = gpt2LayerNames(l);
      const h = Float64Array.from(get(ONNX_NAMES.hiddenState(l)));
      const heads = config.layerHeads[l]!;
      expect(names.includes(ONNX_NAMES.attentionInput(l))).toBe(heads > 0);
      if (heads > 0) {
        const a = heads * headDim(config);
        const proj = linear(get(ONNX_NAMES.attentionInput(l)), w(`${n.attnOut}.weight`), w(`${n.attnOut}.bias`), a, d, true);
        for (let i = 0; i < h.length; i++) h[i]! += proj[i]!;
      }
      const f = config.layerIntermediate[l]!;
      expect(names.includes(ONNX_NAMES.ffnInput(l))).toBe(f > 0);
      if (f > 0) {
        const proj = linear(get(ONNX_NAMES.ffnInput(l)), w(`${n.ffnOut}.weight`), w(`${n.ffnOut}.bias`), f, d, true);
        for (let i = 0; i < h.length; i++) h[i]! += proj[i]!;
      }
      expect(maxAbsDiff(h, get(ONNX_NAMES.hiddenState(l + 1)))).toBeLessThan(1e-4);
    }
  });
});
