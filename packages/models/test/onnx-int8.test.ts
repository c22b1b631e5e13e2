// INT8 export: both activation forms (dynamic, static QDQ) on BERT and GPT2, whole models and blocks.
// The reference is the fp32 export of `dequantizedCheckpoint` (every quantized weight replaced by
// q · scale), so what remains between the two is activation quantization alone.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModel, GraphBuilder } from '@ziplm/onnx';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { int64Tensor, maxAbsDiff, releasedAfterAll, seededRandom } from '@ziplm/test-utils';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { headDim } from '../src/config.js';
import { Initializers } from '../src/internal/onnx/initializers.js';
import { activationQuantization, projection, quantizeRoundToNearest } from '../src/internal/onnx/quantized.js';
import {
  type ActivationRange,
  dequantizedCheckpoint,
  exportAttentionBlock,
  exportFfnBlock,
  exportLayerBlock,
  exportModelToOnnx,
  type Int8Weight,
  ONNX_NAMES,
  OnnxExportError,
  type OnnxQuantizeOptions,
  quantizableLinears,
} from '../src/onnx/index.js';
import { randomCheckpoint } from '../src/random.js';
import { type Checkpoint, expectedShapes } from '../src/weights.js';
import { tinyBertConfig, tinyGpt2Config } from './helpers.js';

const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array, optimizedModelFilePath?: string) =>
  createSession(bytes, { threads: 1, ...(optimizedModelFilePath ? { optimizedModelFilePath } : {}) }),
);
type Outputs = Record<string, OrtTensor>;
const f32 = (t: OrtTensor | undefined): Float32Array => {
  expect(t).toBeDefined();
  return t!.data as Float32Array;
};

// std 0.1 rather than HF's 0.02 so that activations and logits are far from zero and every weight matters.
const random = { std: 0.1, biasStd: 0.1 };
const bert: Checkpoint = randomCheckpoint(tinyBertConfig(), { seed: 1, ...random });
const gpt2: Checkpoint = randomCheckpoint(tinyGpt2Config(), { seed: 2, ...random });
const ids = [
  [2, 7, 9, 4, 11, 3, 5],
  [2, 13, 8, 21, 3, 0, 0],
];
const mask = [
  [1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 0, 0],
];

function feeds(config: Checkpoint['config'], rows = ids, maskRows = mask): Outputs {
  const f: Outputs = { input_ids: int64Tensor<OrtTensor>(ort, rows), attention_mask: int64Tensor<OrtTensor>(ort, maskRows) };
  if (config.modelType === 'bert')
    f.token_type_ids = int64Tensor<OrtTensor>(
      ort,
      rows.map((r) => r.map(() => 0)),
    );
  return f;
}

async function run(bytes: Uint8Array, checkpoint: Checkpoint): Promise<Outputs> {
  return (await session(bytes)).run(feeds(checkpoint.config));
}

function rangeOf(values: Float32Array): ActivationRange {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max };
}

/** The uint8 step of a range, as both forms compute it (DynamicQuantizeLinear uses the tensor's own range). */
const stepOf = (range: ActivationRange): number => (Math.max(range.max, 0) - Math.min(range.min, 0)) / 255;

/**
 * Calibration on the test batch: the fp32 reference with `matmulInputs`, its outputs, and each
 * quantized input's range (also the range DynamicQuantizeLinear sees, up to its own errors upstream).
 */
async function calibrate(reference: Checkpoint) {
  const out = await run(exportModelToOnnx(reference, { matmulInputs: true, hiddenStates: true, moduleInputs: true }), reference);
  const ranges = new Map<string, ActivationRange>();
  for (const l of quantizableLinears(reference.config)) ranges.set(l.input, rangeOf(f32(out[l.input])));
  return { out, ranges, maxStep: Math.max(...[...ranges.values()].map(stepOf)) };
}

function quantizeOptions(activations: 'dynamic' | 'static', ranges: ReadonlyMap<string, ActivationRange>): OnnxQuantizeOptions {
  return activations === 'dynamic' ? { activations } : { activations, ranges };
}

describe('quantizableLinears', () => {
  it('lists every kept attention and FFN projection with its checkpoint shape, BERT Q, K, V sharing one input', () => {
    for (const checkpoint of [bert, gpt2]) {
      const { config } = checkpoint;
      const linears = quantizableLinears(config);
      const shapes = expectedShapes(config);
      const hd = headDim(config);
      let expected = 0;
      for (let l = 0; l < config.numLayers; l++) {
        if (config.layerHeads[l]! > 0) expected += config.modelType === 'bert' ? 4 : 2;
        if (config.layerIntermediate[l]! > 0) expected += 2;
      }
      expect(linears).toHaveLength(expected);
      for (const linear of linears) {
        const stored = shapes.get(linear.weight);
        expect(stored, linear.weight).toBeDefined();
        expect(stored).toEqual(linear.layout === 'out-in' ? [linear.rows, linear.cols] : [linear.cols, linear.rows]);
        expect(linear.layout).toBe(config.modelType === 'bert' ? 'out-in' : 'in-out');
        const width = config.layerHeads[linear.layer]! * hd;
        if (linear.input === ONNX_NAMES.matmulInput(linear.layer, 'attention_output')) expect(linear.cols).toBe(width);
      }
      // Heads, pooler, classifier and embeddings stay fp32.
      expect(linears.some((l) => /pooler|classifier|qa_outputs|wte|embeddings/.test(l.weight))).toBe(false);
    }
    const bertLinears = quantizableLinears(bert.config).filter((l) => l.layer === 0 && l.module === 'attention');
    expect(bertLinears.map((l) => l.input)).toEqual([
      'matmul_input_0_qkv',
      'matmul_input_0_qkv',
      'matmul_input_0_qkv',
      'matmul_input_0_attention_output',
    ]);
  });
});

describe('one INT8 projection against its dequantized fp32 product', () => {
  // y = x̂·Ŵ + b against x·Ŵ + b, Ŵ = q·scale: each x̂_i is x_i rounded to the uint8 grid of step s,
  // off by at most s/2, or by up to one step where the zero point's rounding pushes the range end
  // past 255 and it saturates. So |Δy_o| ≤ s·‖Ŵ_o‖₁: the bound asserted, plus float32 rounding.
  for (const activations of ['dynamic', 'static'] as const) {
    it(`${activations}: |Δy_o| ≤ s·‖Ŵ_o‖₁ with s the activation step`, async () => {
      const [tokens, inFeatures, outFeatures] = [24, 40, 12];
      const rng = seededRandom(7);
      const w = Float32Array.from({ length: outFeatures * inFeatures }, () => rng() - 0.5);
      const bias = Float32Array.from({ length: outFeatures }, () => rng() - 0.5);
      const x = Float32Array.from({ length: tokens * inFeatures }, () => 3 * (rng() - 0.3));
      const range = rangeOf(x);
      const g = new GraphBuilder('one_linear');
      const init = new Initializers(g, new Map([['w', { shape: [outFeatures, inFeatures], data: w }]]), 'test');
      const input = g.input('x', 'float32', [tokens, inFeatures]);
      const y = projection({ g, init, int8: { activations, weights: new Map(), range: () => range } }, input, {
        weights: ['w'],
        layout: 'out-in',
        bias: g.initializer('b', 'float32', [outFeatures], bias),
        input: 'x',
      });
      g.output(y, 'float32', [tokens, outFeatures]);
      const out = await (await session(g.toBytes())).run({ x: new ort.Tensor('float32', x, [tokens, inFeatures]) });
      const { q, scales } = quantizeRoundToNearest(w, outFeatures, inFeatures);
      const s = activationQuantization(range, 'x', 'test').scale;
      expect(s).toBeCloseTo(stepOf(range), 6);
      let worstRatio = 0;
      for (let t = 0; t < tokens; t++) {
        for (let o = 0; o < outFeatures; o++) {
          let exact = bias[o]!;
          let l1 = 0;
          for (let i = 0; i < inFeatures; i++) {
            const wi = q[o * inFeatures + i]! * scales[o]!;
            exact += x[t * inFeatures + i]! * wi;
            l1 += Math.abs(wi);
          }
          const diff = Math.abs(f32(out[y])[t * outFeatures + o]! - exact);
          worstRatio = Math.max(worstRatio, diff / (s * l1 + 1e-5));
        }
      }
      expect(worstRatio).toBeLessThanOrEqual(1);
      expect(worstRatio).toBeGreaterThan(0.01); // the activations really are quantized
    });
  }
});

describe('exportModelToOnnx with quantize', () => {
  // Whole models: the acceptance bound, max |Δlogits| ≤ s_max, the largest activation step of
  // any quantized input on this batch. Not a worst case through the network (the per-linear bound
  // above is; LayerNorm and softmax can amplify it), but with these weights every linear's ‖Ŵ_o‖₁ is
  // about 1 and LayerNorm renormalises, so the error of one step per layer does not grow layer to layer.
  for (const checkpoint of [bert, gpt2]) {
    const type = checkpoint.config.modelType;
    for (const activations of ['dynamic', 'static'] as const) {
      it(`${type} ${activations}: logits within the largest activation step of the dequantized fp32 reference`, async () => {
        const { out: reference, ranges, maxStep } = await calibrate(dequantizedCheckpoint(checkpoint));
        const bytes = exportModelToOnnx(checkpoint, { quantize: quantizeOptions(activations, ranges), hiddenStates: true });
        const out = await run(bytes, checkpoint);
        const diff = maxAbsDiff(f32(out.logits), f32(reference.logits));
        expect(diff).toBeLessThanOrEqual(maxStep);
        // The last hidden state too: BERT's classification logits are small, its LayerNormed states are not.
        const last = ONNX_NAMES.hiddenState(checkpoint.config.numLayers);
        expect(maxAbsDiff(f32(out[last]), f32(reference[last]))).toBeLessThanOrEqual(maxStep);
        expect(diff).toBeGreaterThan(0); // activations are quantized (the fp32 export would match to 1e-6)
        const graph = JSON.parse(decodeModel(bytes).metadata!['ziplm.graph']!);
        expect(graph).toEqual({ kind: 'model', mode: 'full', quantization: { precision: 'int8', activations } });
        // No fp32 copy of a quantized weight ships; the heads' fp32 weights do.
        const initializers = new Set(decodeModel(bytes).graph.initializers.map((t) => t.name));
        for (const l of quantizableLinears(checkpoint.config)) expect(initializers.has(l.weight)).toBe(false);
      });
    }
  }

  it('honours the given INT8 weights (not round-to-nearest of the checkpoint)', async () => {
    for (const checkpoint of [bert, gpt2]) {
      // GPTQ-like: the RTN grid, but every other value moved by up to ±4 steps (as error feedback would).
      const weights = new Map<string, Int8Weight>();
      const rng = seededRandom(11);
      for (const l of quantizableLinears(checkpoint.config)) {
        const tensor = checkpoint.weights.get(l.weight)!;
        const outIn =
          l.layout === 'out-in'
            ? tensor.data
            : Float32Array.from({ length: l.rows * l.cols }, (_, k) => tensor.data[(k % l.cols) * l.rows + Math.floor(k / l.cols)]!);
        const { q, scales } = quantizeRoundToNearest(outIn, l.rows, l.cols);
        for (let k = 0; k < q.length; k += 2) q[k] = Math.max(-127, Math.min(127, q[k]! + Math.round(8 * rng() - 4)));
        weights.set(l.weight, { q, scales });
      }
      const { out: reference, ranges, maxStep } = await calibrate(dequantizedCheckpoint(checkpoint, weights));
      const { out: rtnReference } = await calibrate(dequantizedCheckpoint(checkpoint));
      const last = ONNX_NAMES.hiddenState(checkpoint.config.numLayers);
      for (const activations of ['dynamic', 'static'] as const) {
        const quantize = { ...quantizeOptions(activations, ranges), weights };
        const out = await run(exportModelToOnnx(checkpoint, { quantize, hiddenStates: true }), checkpoint);
        const toGiven = maxAbsDiff(f32(out[last]), f32(reference[last]));
        expect(toGiven).toBeLessThanOrEqual(maxStep);
        expect(maxAbsDiff(f32(out.logits), f32(reference.logits))).toBeLessThanOrEqual(maxStep);
        // The test can tell: the RTN weights' hidden states are much further away.
        expect(maxAbsDiff(f32(out[last]), f32(rtnReference[last]))).toBeGreaterThan(3 * toGiven);
      }
    }
  });

  it('static: a missing range is an OnnxExportError naming the first one in graph order', () => {
    const linears = quantizableLinears(bert.config);
    expect(() => exportModelToOnnx(bert, { quantize: { activations: 'static' } })).toThrow(OnnxExportError);
    expect(() => exportModelToOnnx(bert, { quantize: { activations: 'static' } })).toThrow(`"${linears[0]!.input}"`);
    const allButLast = new Map(linears.slice(0, -1).map((l) => [l.input, { min: -1, max: 1 }]));
    expect(() => exportModelToOnnx(bert, { quantize: { activations: 'static', ranges: allButLast } })).toThrow(
      `"${linears.at(-1)!.input}"`,
    );
    const bad = new Map(linears.map((l) => [l.input, { min: 1, max: -1 }]));
    expect(() => exportModelToOnnx(bert, { quantize: { activations: 'static', ranges: bad } })).toThrow(/min ≤ max/);
    expect(() => exportModelToOnnx(bert, { quantize: { activations: 'dynamic', ranges: bad } })).toThrow(
      /ranges are for activations "static"/,
    );
    expect(() => exportModelToOnnx(bert, { quantize: { activations: 'fp16' as never } })).toThrow(/"dynamic" or "static"/);
  });

  it('rejects INT8 weights that do not fit their linear', () => {
    const l = quantizableLinears(gpt2.config)[0]!;
    const wrong = new Map([[l.weight, { q: new Int8Array(l.rows * l.cols - 1), scales: new Float32Array(l.rows) }]]);
    expect(() => exportModelToOnnx(gpt2, { quantize: { activations: 'dynamic', weights: wrong } })).toThrow(OnnxExportError);
    expect(() => exportModelToOnnx(gpt2, { quantize: { activations: 'dynamic', weights: wrong } })).toThrow(l.weight);
    const scales = new Map([[l.weight, { q: new Int8Array(l.rows * l.cols), scales: new Float32Array(l.rows).fill(Number.NaN) }]]);
    expect(() => exportModelToOnnx(gpt2, { quantize: { activations: 'dynamic', weights: scales } })).toThrow(/finite/);
    const q = new Int8Array(l.rows * l.cols);
    q[5] = -128;
    const asymmetric = new Map([[l.weight, { q, scales: new Float32Array(l.rows).fill(0.01) }]]);
    expect(() => exportModelToOnnx(gpt2, { quantize: { activations: 'dynamic', weights: asymmetric } })).toThrow(/q\[5\] is −128/);
  });

  it('GPT2 static decode with a KV cache reproduces static full mode token by token', async () => {
    const { ranges, maxStep } = await calibrate(dequantizedCheckpoint(gpt2));
    const quantize = quantizeOptions('static', ranges);
    const full = await run(exportModelToOnnx(gpt2, { quantize }), gpt2);
    const decode = await session(exportModelToOnnx(gpt2, { mode: 'decode', quantize }));
    const config = gpt2.config;
    const vocab = config.vocabSize;
    const seq = ids[0]!.length;
    let cache: Outputs = {};
    for (let l = 0; l < config.numLayers; l++) {
      if (config.layerHeads[l]! === 0) continue;
      const empty = new ort.Tensor('float32', new Float32Array(0), [2, config.layerHeads[l]!, 0, headDim(config)]);
      cache[`past_key_${l}`] = empty;
      cache[`past_value_${l}`] = empty;
    }
    let pos = 0;
    for (const step of [3, 1, 1, 1, 1]) {
      const out = await decode.run({
        ...feeds(
          config,
          ids.map((r) => r.slice(pos, pos + step)),
          mask.map((r) => r.slice(0, pos + step)),
        ),
        ...cache,
      });
      const want: number[] = [];
      for (let b = 0; b < 2; b++) want.push(...f32(full.logits).subarray((b * seq + pos) * vocab, (b * seq + pos + step) * vocab));
      // Static quantization is per element, so only float summation order differs; an activation
      // rounded the other way at a grid midpoint costs at most one step.
      expect(maxAbsDiff(f32(out.logits), want)).toBeLessThanOrEqual(maxStep);
      cache = {};
      for (const name of Object.keys(out)) if (name.startsWith('present_')) cache[name.replace('present_', 'past_')] = out[name]!;
      pos += step;
    }
    expect(pos).toBe(seq);
  });
});

describe('matmulInputs', () => {
  for (const checkpoint of [bert, gpt2]) {
    const { config } = checkpoint;
    it(`${config.modelType}: one float32 output per distinct input, equal to the tensors the MatMuls read`, async () => {
      const { out } = await calibrate(checkpoint);
      const linears = quantizableLinears(config);
      const inputs = [...new Set(linears.map((l) => l.input))];
      for (const input of inputs) {
        const linear = linears.find((l) => l.input === input)!;
        expect(out[input]!.dims).toEqual([2, ids[0]!.length, linear.cols]);
      }
      const names = Object.keys(out).filter((n) => n.startsWith('matmul_input_'));
      expect(names.sort()).toEqual([...inputs].sort());
      for (let l = 0; l < config.numLayers; l++) {
        if (config.layerHeads[l]! > 0) {
          expect(maxAbsDiff(f32(out[ONNX_NAMES.matmulInput(l, 'attention_output')]), f32(out[ONNX_NAMES.attentionInput(l)]))).toBe(0);
          // BERT's Q|K|V read the layer input itself.
          if (config.modelType === 'bert')
            expect(maxAbsDiff(f32(out[ONNX_NAMES.matmulInput(l, 'qkv')]), f32(out[ONNX_NAMES.hiddenState(l)]))).toBe(0);
        }
        if (config.layerIntermediate[l]! > 0) {
          expect(maxAbsDiff(f32(out[ONNX_NAMES.matmulInput(l, 'fc2')]), f32(out[ONNX_NAMES.ffnInput(l)]))).toBe(0);
          // Post-LN BERT's FC1 reads the layer output after attention; with no attention, the layer input.
          if (config.modelType === 'bert' && config.layerHeads[l]! === 0)
            expect(maxAbsDiff(f32(out[ONNX_NAMES.matmulInput(l, 'fc1')]), f32(out[ONNX_NAMES.hiddenState(l)]))).toBe(0);
        }
      }
    });
  }
});

describe('INT8 blocks', () => {
  for (const checkpoint of [bert, gpt2]) {
    const { config } = checkpoint;
    for (const activations of ['dynamic', 'static'] as const) {
      it(`${config.modelType} ${activations}: exportLayerBlock chains reproduce the INT8 whole model layer by layer`, async () => {
        const { ranges, maxStep } = await calibrate(dequantizedCheckpoint(checkpoint));
        const quantize = quantizeOptions(activations, ranges);
        const whole = await (await session(exportModelToOnnx(checkpoint, { quantize, hiddenStates: true }))).run(feeds(config));
        const blockMask = int64Tensor<OrtTensor>(ort, mask);
        for (let l = 0; l < config.numLayers; l++) {
          let h = whole[ONNX_NAMES.hiddenState(l)]!;
          for (const module of ['attention', 'ffn'] as const) {
            if ((module === 'attention' ? config.layerHeads[l]! : config.layerIntermediate[l]!) === 0) continue;
            const block = await session(exportLayerBlock(checkpoint, l, module, { quantize }));
            const out = await block.run(module === 'attention' ? { hidden_states: h, attention_mask: blockMask } : { hidden_states: h });
            h = out.output!;
          }
          // The same subgraph on the same tensor: same quantization, so float summation order only.
          expect(maxAbsDiff(f32(h), f32(whole[ONNX_NAMES.hiddenState(l + 1)]))).toBeLessThanOrEqual(maxStep / 10);
        }
      });
    }

    it(`${config.modelType}: random attention and FFN blocks export and run in both forms without ranges`, async () => {
      const hidden = new ort.Tensor('float32', new Float32Array(2 * 5 * config.hiddenSize).fill(0.5), [2, 5, config.hiddenSize]);
      const blockMask = int64Tensor<OrtTensor>(ort, [
        [1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0],
      ]);
      for (const activations of ['dynamic', 'static'] as const) {
        const attention = exportAttentionBlock(config, 2, { quantize: { activations } });
        const ffn = exportFfnBlock(config, 7, { quantize: { activations } });
        expect(JSON.parse(decodeModel(ffn).metadata!['ziplm.graph']!).quantization).toEqual({ precision: 'int8', activations });
        const a = await (await session(attention)).run({ hidden_states: hidden, attention_mask: blockMask });
        const f = await (await session(ffn)).run({ hidden_states: hidden });
        for (const out of [a.output!, f.output!]) {
          expect(out.dims).toEqual([2, 5, config.hiddenSize]);
          expect(f32(out).every(Number.isFinite)).toBe(true);
        }
      }
    });
  }
});

describe('onnxruntime fusions of the INT8 forms (graph optimisation level "all")', () => {
  it('dynamic → DynamicQuantizeMatMul (bias folded in); static QDQ → QuantizeLinear + MatMulIntegerToFloat', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-int8-fusion-'));
    try {
      const ops = async (bytes: Uint8Array, name: string) => {
        const file = join(dir, name);
        await session(bytes, file);
        const counts: Record<string, number> = {};
        for (const n of decodeModel(readFileSync(file)).graph.nodes) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
        return counts;
      };
      for (const checkpoint of [bert, gpt2]) {
        const { config } = checkpoint;
        const linears = new Set(quantizableLinears(config).map((l) => l.input)).size; // one GEMM per input (Q|K|V is one)
        const ranges = new Map(quantizableLinears(config).map((l) => [l.input, { min: -4, max: 4 }]));
        const kept = (sizes: readonly number[]) => sizes.filter((s) => s > 0).length;
        const dynamic = await ops(
          exportModelToOnnx(checkpoint, { quantize: { activations: 'dynamic' } }),
          `${config.modelType}-dynamic.onnx`,
        );
        expect(dynamic.DynamicQuantizeMatMul).toBe(linears);
        expect(dynamic.MatMulInteger).toBeUndefined();
        expect(dynamic.DynamicQuantizeLinear).toBeUndefined();
        const qdq = await ops(
          exportModelToOnnx(checkpoint, { quantize: { activations: 'static', ranges } }),
          `${config.modelType}-static.onnx`,
        );
        expect(qdq.MatMulIntegerToFloat).toBe(linears);
        expect(qdq.QuantizeLinear).toBe(linears);
        expect(qdq.DequantizeLinear).toBeUndefined();
        expect(qdq.QLinearMatMul).toBeUndefined();
        if (config.modelType === 'bert') {
          // Embeddings + every kept module's LayerNorm still fuse with their residual Add.
          for (const counts of [dynamic, qdq])
            expect(counts.SkipLayerNormalization).toBe(1 + kept(config.layerHeads) + kept(config.layerIntermediate));
          // DynamicQuantizeMatMul takes FC1's bias, so BiasGelu becomes Gelu; QDQ keeps BiasGelu.
          expect(dynamic.Gelu).toBe(kept(config.layerIntermediate));
          expect(dynamic.BiasGelu).toBeUndefined();
          expect(qdq.BiasGelu).toBe(kept(config.layerIntermediate));
        } else {
          for (const counts of [dynamic, qdq]) expect(counts.FastGelu).toBe(kept(config.layerIntermediate));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
