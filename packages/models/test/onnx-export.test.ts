// The exported graphs against an independent plain-TypeScript float64 forward pass written from
// Hugging Face's definitions (BertModel post-LN, GPT2Model pre-LN), on tiny heterogeneous models
// with a removed attention and a removed FFN module. Also: decode mode against full mode, the
// fusions onnxruntime applies, and bad options.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dim } from '@ziplm/onnx';
import { decodeModel } from '@ziplm/onnx';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { int64Tensor, maxAbsDiff, releasedAfterAll } from '@ziplm/test-utils';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { BertConfig, Gpt2Config } from '../src/config.js';
import { bertConfig, gpt2Config, headDim } from '../src/config.js';
import { WeightsError } from '../src/errors.js';
import { ATTENTION_MASK_NEGATIVE as ONNX_ATTENTION_MASK_NEGATIVE } from '../src/internal/onnx/modules.js';
import { exportModelToOnnx, ONNX_DIMS, OnnxExportError } from '../src/onnx/index.js';
import { randomCheckpoint } from '../src/random.js';
import type { Checkpoint } from '../src/weights.js';
import { BERT_NAMES, bertLayerNames, GPT2_NAMES, gpt2LayerNames } from '../src/weights.js';

// ---------------------------------------------------------------------------------------------
// Plain float64 reference
// ---------------------------------------------------------------------------------------------

type Rows = Float64Array; // [rows, features], row-major

function weight(c: Checkpoint, name: string): Float32Array {
  const t = c.weights.get(name);
  if (!t) throw new Error(`reference: missing ${name}`);
  return t.data;
}

/** y = x·Wᵀ + b with W [out, in] (nn.Linear) or y = x·W + b with W [in, out] (Conv1D). */
function dense(x: Rows, rows: number, inDim: number, w: Float32Array, b: Float32Array, outDim: number, conv1d: boolean): Rows {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = b[o]!;
      for (let i = 0; i < inDim; i++) s += x[r * inDim + i]! * (conv1d ? w[i * outDim + o]! : w[o * inDim + i]!);
      y[r * outDim + o] = s;
    }
  }
  return y;
}

function layerNormRows(x: Rows, rows: number, d: number, gamma: Float32Array, beta: Float32Array, eps: number): Rows {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i]! - mean) * inv * gamma[i]! + beta[i]!;
  }
  return y;
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is only 1e-7 accurate; use a series / continued fraction instead.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = 0;
    let term = t;
    for (let n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f));
}

const geluErfRef = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const geluTanhRef = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** Multi-head attention on Q|K|V rows [batch·seq, width] each; bias(b, i, j) is additive. */
function attend(
  q: Rows,
  k: Rows,
  v: Rows,
  batch: number,
  seq: number,
  heads: number,
  hd: number,
  bias: (b: number, i: number, j: number) => number,
): Rows {
  const width = heads * hd;
  const out = new Float64Array(batch * seq * width);
  const scores = new Float64Array(seq);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < seq; i++) {
        let max = -Infinity;
        for (let j = 0; j < seq; j++) {
          let s = 0;
          for (let t = 0; t < hd; t++) s += q[(b * seq + i) * width + h * hd + t]! * k[(b * seq + j) * width + h * hd + t]!;
          scores[j] = s / Math.sqrt(hd) + bias(b, i, j);
          max = Math.max(max, scores[j]!);
        }
        let z = 0;
        for (let j = 0; j < seq; j++) z += scores[j] = Math.exp(scores[j]! - max);
        for (let t = 0; t < hd; t++) {
          let s = 0;
          for (let j = 0; j < seq; j++) s += (scores[j]! / z) * v[(b * seq + j) * width + h * hd + t]!;
          out[(b * seq + i) * width + h * hd + t] = s;
        }
      }
    }
  }
  return out;
}

function addRows(x: Rows, y: Rows): Rows {
  return x.map((a, i) => a + y[i]!);
}

function sliceCols(x: Rows, rows: number, cols: number, from: number, width: number): Rows {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) out[r * width + c] = x[r * cols + from + c]!;
  return out;
}

interface RefInputs {
  ids: number[][];
  mask: number[][];
  types?: number[][];
}

const NEG = -1e9;

function refBert(c: Checkpoint<BertConfig>, inp: RefInputs): { logits: Rows; states: Rows[] } {
  const cfg = c.config;
  const [batch, seq, d, hd, eps] = [inp.ids.length, inp.ids[0]!.length, cfg.hiddenSize, headDim(cfg), cfg.layerNormEps];
  const rows = batch * seq;
  let h: Rows = new Float64Array(rows * d);
  const we = weight(c, BERT_NAMES.wordEmbeddings);
  const pe = weight(c, BERT_NAMES.positionEmbeddings);
  const te = weight(c, BERT_NAMES.tokenTypeEmbeddings);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const id = inp.ids[b]![s]!;
      const type = inp.types === undefined ? 0 : (inp.types[b]![s] ?? 0);
      for (let i = 0; i < d; i++) h[(b * seq + s) * d + i] = we[id * d + i]! + pe[s * d + i]! + te[type * d + i]!;
    }
  }
  h = layerNormRows(h, rows, d, weight(c, `${BERT_NAMES.embeddingsNorm}.weight`), weight(c, `${BERT_NAMES.embeddingsNorm}.bias`), eps);
  const states = [h];
  const bias = (b: number, _i: number, j: number) => (1 - inp.mask[b]![j]!) * NEG;
  for (let l = 0; l < cfg.numLayers; l++) {
    const n = bertLayerNames(l);
    const heads = cfg.layerHeads[l]!;
    const a = heads * hd;
    if (heads > 0) {
      const proj = (name: string) => dense(h, rows, d, weight(c, `${name}.weight`), weight(c, `${name}.bias`), a, false);
      const ctx = attend(proj(n.query), proj(n.key), proj(n.value), batch, seq, heads, hd, bias);
      const out = dense(ctx, rows, a, weight(c, `${n.attnOut}.weight`), weight(c, `${n.attnOut}.bias`), d, false);
      h = layerNormRows(addRows(out, h), rows, d, weight(c, `${n.attnNorm}.weight`), weight(c, `${n.attnNorm}.bias`), eps);
    }
    const f = cfg.layerIntermediate[l]!;
    if (f > 0) {
      const inner = dense(h, rows, d, weight(c, `${n.ffnIn}.weight`), weight(c, `${n.ffnIn}.bias`), f, false).map(geluErfRef);
      const out = dense(inner, rows, f, weight(c, `${n.ffnOut}.weight`), weight(c, `${n.ffnOut}.bias`), d, false);
      h = layerNormRows(addRows(out, h), rows, d, weight(c, `${n.ffnNorm}.weight`), weight(c, `${n.ffnNorm}.bias`), eps);
    }
    states.push(h);
  }
  const head = cfg.head;
  if (head.type === 'classification') {
    const cls = new Float64Array(batch * d);
    for (let b = 0; b < batch; b++) cls.set(h.subarray(b * seq * d, b * seq * d + d), b * d);
    const pooled = dense(cls, batch, d, weight(c, `${BERT_NAMES.pooler}.weight`), weight(c, `${BERT_NAMES.pooler}.bias`), d, false).map(
      Math.tanh,
    );
    const logits = dense(
      pooled,
      batch,
      d,
      weight(c, `${BERT_NAMES.classifier}.weight`),
      weight(c, `${BERT_NAMES.classifier}.bias`),
      head.labels.length,
      false,
    );
    return { logits, states };
  }
  if (head.type === 'span-qa') {
    return {
      logits: dense(h, rows, d, weight(c, `${BERT_NAMES.qaOutputs}.weight`), weight(c, `${BERT_NAMES.qaOutputs}.bias`), 2, false),
      states,
    };
  }
  return { logits: h, states };
}

function refGpt2(c: Checkpoint<Gpt2Config>, inp: RefInputs): { logits: Rows; states: Rows[] } {
  const cfg = c.config;
  const [batch, seq, d, hd, eps] = [inp.ids.length, inp.ids[0]!.length, cfg.hiddenSize, headDim(cfg), cfg.layerNormEps];
  const rows = batch * seq;
  let h: Rows = new Float64Array(rows * d);
  const wte = weight(c, GPT2_NAMES.tokenEmbeddings);
  const wpe = weight(c, GPT2_NAMES.positionEmbeddings);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      for (let i = 0; i < d; i++) h[(b * seq + s) * d + i] = wte[inp.ids[b]![s]! * d + i]! + wpe[s * d + i]!;
    }
  }
  const states = [h];
  const bias = (b: number, i: number, j: number) => (j > i ? NEG : 0) + (1 - inp.mask[b]![j]!) * NEG;
  for (let l = 0; l < cfg.numLayers; l++) {
    const n = gpt2LayerNames(l);
    const heads = cfg.layerHeads[l]!;
    const a = heads * hd;
    if (heads > 0) {
      const x = layerNormRows(h, rows, d, weight(c, `${n.ln1}.weight`), weight(c, `${n.ln1}.bias`), eps);
      const qkv = dense(x, rows, d, weight(c, `${n.qkv}.weight`), weight(c, `${n.qkv}.bias`), 3 * a, true);
      const [q, k, v] = [0, 1, 2].map((p) => sliceCols(qkv, rows, 3 * a, p * a, a)) as [Rows, Rows, Rows];
      const ctx = attend(q, k, v, batch, seq, heads, hd, bias);
      h = addRows(h, dense(ctx, rows, a, weight(c, `${n.attnOut}.weight`), weight(c, `${n.attnOut}.bias`), d, true));
    }
    const f = cfg.layerIntermediate[l]!;
    if (f > 0) {
      const x = layerNormRows(h, rows, d, weight(c, `${n.ln2}.weight`), weight(c, `${n.ln2}.bias`), eps);
      const inner = dense(x, rows, d, weight(c, `${n.ffnIn}.weight`), weight(c, `${n.ffnIn}.bias`), f, true).map(geluTanhRef);
      h = addRows(h, dense(inner, rows, f, weight(c, `${n.ffnOut}.weight`), weight(c, `${n.ffnOut}.bias`), d, true));
    }
    states.push(h);
  }
  const normed = layerNormRows(h, rows, d, weight(c, `${GPT2_NAMES.finalNorm}.weight`), weight(c, `${GPT2_NAMES.finalNorm}.bias`), eps);
  const logits = new Float64Array(rows * cfg.vocabSize);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < cfg.vocabSize; t++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += normed[r * d + i]! * wte[t * d + i]!;
      logits[r * cfg.vocabSize + t] = s;
    }
  }
  return { logits, states };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array, optimizedModelFilePath?: string) =>
  createSession(bytes, { threads: 1, ...(optimizedModelFilePath ? { optimizedModelFilePath } : {}) }),
);
const int64 = (rows: number[][]): OrtTensor => int64Tensor<OrtTensor>(ort, rows);

function f32(t: OrtTensor | undefined): Float32Array {
  expect(t).toBeDefined();
  return t!.data as Float32Array;
}

// Heterogeneous tiny models: every layer its own head count and FFN size, one removed attention
// module and one removed FFN module.
const bertBase = {
  vocabSize: 30,
  hiddenSize: 16,
  numHeads: 4,
  numLayers: 3,
  intermediateSize: 24,
  layerHeads: [4, 0, 2],
  layerIntermediate: [24, 10, 0],
  maxPositions: 12,
  layerNormEps: 1e-12,
};
const bertCls = bertConfig({ ...bertBase, head: { type: 'classification', labels: ['a', 'b', 'c'] } });
const bertQa = bertConfig({ ...bertBase, head: { type: 'span-qa' } });
const gpt2 = gpt2Config({
  vocabSize: 23,
  hiddenSize: 16,
  numHeads: 4,
  numLayers: 3,
  intermediateSize: 32,
  layerHeads: [3, 0, 4],
  layerIntermediate: [20, 32, 0],
  maxPositions: 12,
  bosTokenId: 0,
  eosTokenId: 0,
});
// std 0.3 rather than HF's 0.02 so attention is far from uniform and every weight matters.
const random = { std: 0.3, biasStd: 0.2 };

const bertInputs: RefInputs = {
  ids: [
    [2, 7, 29, 4, 11, 3, 5],
    [2, 13, 8, 21, 3, 0, 0],
  ],
  mask: [
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 0, 0],
  ],
  types: [
    [0, 0, 0, 0, 1, 1, 1],
    [0, 0, 1, 1, 1, 0, 0],
  ],
};

const gpt2Inputs: RefInputs = {
  ids: [
    [5, 1, 22, 7, 7, 14],
    [3, 9, 2, 18, 0, 0],
  ],
  mask: [
    [1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 0, 0],
  ],
};

describe('exportModelToOnnx: BERT', () => {
  for (const config of [bertCls, bertQa]) {
    it(`matches the float64 reference (${config.head.type} head, hidden states, padding)`, async () => {
      const checkpoint = randomCheckpoint(config, { seed: 11, ...random });
      const s = await session(exportModelToOnnx(checkpoint, { hiddenStates: true }));
      expect(s.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
      const out = await s.run({
        input_ids: int64(bertInputs.ids),
        attention_mask: int64(bertInputs.mask),
        token_type_ids: int64(bertInputs.types!),
      });
      const ref = refBert(checkpoint, bertInputs);
      expect(out.logits!.dims).toEqual(config.head.type === 'classification' ? [2, 3] : [2, 7, 2]);
      expect(maxAbsDiff(f32(out.logits), ref.logits)).toBeLessThan(1e-4);
      for (let i = 0; i <= config.numLayers; i++) {
        expect(out[`hidden_state_${i}`]!.dims).toEqual([2, 7, 16]);
        expect(maxAbsDiff(f32(out[`hidden_state_${i}`]), ref.states[i]!)).toBeLessThan(1e-4);
      }
    });
  }

  it('has dynamic batch and sequence', async () => {
    const checkpoint = randomCheckpoint(bertQa, { seed: 3, ...random });
    const s = await session(exportModelToOnnx(checkpoint));
    const inputs: RefInputs = { ids: [[4, 5, 6]], mask: [[1, 1, 1]], types: [[0, 0, 0]] };
    const out = await s.run({ input_ids: int64(inputs.ids), attention_mask: int64(inputs.mask), token_type_ids: int64(inputs.types!) });
    expect(out.logits!.dims).toEqual([1, 3, 2]);
    expect(maxAbsDiff(f32(out.logits), refBert(checkpoint, inputs).logits)).toBeLessThan(1e-4);
  });
});

describe('exportModelToOnnx: GPT2', () => {
  const checkpoint = randomCheckpoint(gpt2, { seed: 5, ...random });

  it('matches the float64 reference (causal + padding mask, tied LM head, hidden states)', async () => {
    const s = await session(exportModelToOnnx(checkpoint, { hiddenStates: true }));
    expect(s.inputNames).toEqual(['input_ids', 'attention_mask']);
    const out = await s.run({ input_ids: int64(gpt2Inputs.ids), attention_mask: int64(gpt2Inputs.mask) });
    const ref = refGpt2(checkpoint, gpt2Inputs);
    expect(out.logits!.dims).toEqual([2, 6, 23]);
    expect(maxAbsDiff(f32(out.logits), ref.logits)).toBeLessThan(1e-4);
    for (let i = 0; i <= gpt2.numLayers; i++) expect(maxAbsDiff(f32(out[`hidden_state_${i}`]), ref.states[i]!)).toBeLessThan(1e-4);
  });

  it('decode mode with a KV cache reproduces the full forward token by token', async () => {
    const full = await session(exportModelToOnnx(checkpoint));
    const decode = await session(exportModelToOnnx(checkpoint, { mode: 'decode', hiddenStates: true }));
    // Caches only for layers that keep attention (layer 1 has none).
    expect(decode.inputNames).toEqual(['input_ids', 'attention_mask', 'past_key_0', 'past_value_0', 'past_key_2', 'past_value_2']);
    expect(decode.outputNames.slice(0, 5)).toEqual(['logits', 'present_key_0', 'present_value_0', 'present_key_2', 'present_value_2']);
    const ids = gpt2Inputs.ids;
    const mask = gpt2Inputs.mask;
    const seq = ids[0]!.length;
    const reference = await full.run({ input_ids: int64(ids), attention_mask: int64(mask) });
    const fullLogits = f32(reference.logits);
    const heads = { 0: 3, 2: 4 } as Record<number, number>;
    // Prefill the first 2 tokens from an empty cache, then one token per step.
    let cache: Record<string, OrtTensor> = {};
    for (const l of [0, 2]) {
      const empty = new ort.Tensor('float32', new Float32Array(0), [2, heads[l]!, 0, 4]);
      cache[`past_key_${l}`] = empty;
      cache[`past_value_${l}`] = empty;
    }
    let pos = 0;
    for (const step of [2, 1, 1, 1, 1]) {
      const stepIds = ids.map((row) => row.slice(pos, pos + step));
      const stepMask = mask.map((row) => row.slice(0, pos + step));
      const out = await decode.run({ input_ids: int64(stepIds), attention_mask: int64(stepMask), ...cache });
      expect(out.logits!.dims).toEqual([2, step, 23]);
      expect(out.present_key_2!.dims).toEqual([2, 4, pos + step, 4]);
      const got = f32(out.logits);
      const want: number[] = [];
      for (let b = 0; b < 2; b++) want.push(...fullLogits.subarray((b * seq + pos) * 23, (b * seq + pos + step) * 23));
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
      cache = {};
      for (const l of [0, 2]) {
        cache[`past_key_${l}`] = out[`present_key_${l}`]!;
        cache[`past_value_${l}`] = out[`present_value_${l}`]!;
      }
      pos += step;
    }
    expect(pos).toBe(seq);
  });

  it('decode mode with a fixed pastLength declares that cache length', () => {
    const model = decodeModel(exportModelToOnnx(checkpoint, { mode: 'decode', pastLength: 5 }));
    const past = model.graph.inputs.find((i) => i.name === 'past_key_0')!;
    expect(past.dims).toEqual(['batch', 3, 5, 4]);
    const present = model.graph.outputs.find((o) => o.name === 'present_value_2')!;
    expect(present.dims).toEqual(['batch', 4, 'total_sequence', 4]);
  });
});

describe('exported graphs', () => {
  it('use the mask value of the tfjs models', async () => {
    const tfjsLayers = await import('../src/tfjs/layers.js');
    expect(ONNX_ATTENTION_MASK_NEGATIVE).toBe(tfjsLayers.ATTENTION_MASK_NEGATIVE);
  });

  it('declare symbolic batch and sequence dims on every input and output (full mode)', () => {
    const batchSeq = [ONNX_DIMS.batch, ONNX_DIMS.sequence];
    expect(new Set(batchSeq).size).toBe(2); // two independent symbols, not one shared
    const cases: Array<[string, Uint8Array, string[], Dim[]]> = [
      [
        'BERT classification',
        exportModelToOnnx(randomCheckpoint(bertCls, { seed: 1 }), { hiddenStates: true }),
        ['input_ids', 'attention_mask', 'token_type_ids'],
        [ONNX_DIMS.batch, 3],
      ],
      [
        'BERT span QA',
        exportModelToOnnx(randomCheckpoint(bertQa, { seed: 1 }), { hiddenStates: true }),
        ['input_ids', 'attention_mask', 'token_type_ids'],
        [...batchSeq, 2],
      ],
      [
        'GPT2',
        exportModelToOnnx(randomCheckpoint(gpt2, { seed: 1 }), { hiddenStates: true }),
        ['input_ids', 'attention_mask'],
        [...batchSeq, 23],
      ],
    ];
    for (const [what, bytes, inputNames, logitsDims] of cases) {
      const { graph } = decodeModel(bytes);
      expect(
        graph.inputs.map((i) => i.name),
        what,
      ).toEqual(inputNames);
      for (const input of graph.inputs) {
        expect(input.dataType, `${what}: ${input.name}`).toBe('int64');
        expect(input.dims, `${what}: ${input.name}`).toEqual(batchSeq);
      }
      const outputs = new Map(graph.outputs.map((o) => [o.name, o.dims]));
      expect(outputs.get('logits'), what).toEqual(logitsDims);
      for (let l = 0; l <= 3; l++) expect(outputs.get(`hidden_state_${l}`), `${what}: hidden_state_${l}`).toEqual([...batchSeq, 16]);
      // Every input and output is batched along a symbolic first dim (no fixed batch anywhere).
      for (const io of [...graph.inputs, ...graph.outputs]) expect(io.dims![0], `${what}: ${io.name}`).toBe(ONNX_DIMS.batch);
    }
  });

  it('keep HF names, write Linear weights transposed once, tie GPT2 embeddings, and record the config', () => {
    const bert = decodeModel(exportModelToOnnx(randomCheckpoint(bertCls, { seed: 1 })));
    const names = bert.graph.initializers.map((t) => t.name);
    expect(names).toContain('bert.embeddings.word_embeddings.weight');
    expect(names).toContain('bert.encoder.layer.0.attention.self.qkv.weight_t');
    expect(names).toContain('bert.encoder.layer.1.output.dense.weight_t');
    expect(names.some((n) => n!.startsWith('bert.encoder.layer.1.attention'))).toBe(false); // removed
    expect(names.some((n) => n!.startsWith('bert.encoder.layer.2.output'))).toBe(false); // removed
    const qkv = bert.graph.initializers.find((t) => t.name === 'bert.encoder.layer.2.attention.self.qkv.weight_t')!;
    expect(qkv.dims).toEqual([16, 3 * 2 * 4]);
    expect(JSON.parse(bert.metadata!['ziplm.config']!).ziplm.layer_heads).toEqual([4, 0, 2]);
    const g = decodeModel(exportModelToOnnx(randomCheckpoint(gpt2, { seed: 1 })));
    expect(g.graph.initializers.filter((t) => t.dims.includes(23)).map((t) => t.name)).toEqual(['transformer.wte.weight']);
  });

  it('are in the form onnxruntime fuses (SkipLayerNormalization, BiasGelu, FastGelu, FusedMatMul)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-onnx-fusion-'));
    try {
      const ops = async (bytes: Uint8Array, name: string) => {
        const file = join(dir, name);
        await session(bytes, file);
        const counts: Record<string, number> = {};
        for (const n of decodeModel(readFileSync(file)).graph.nodes) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
        return counts;
      };
      const bert = await ops(exportModelToOnnx(randomCheckpoint(bertCls, { seed: 1 })), 'bert.onnx');
      // Embeddings + 2 attention + 2 FFN LayerNorms become SkipLayerNormalization; none is left.
      expect(bert.SkipLayerNormalization).toBe(5);
      expect(bert.LayerNormalization).toBeUndefined();
      expect(bert.BiasGelu).toBe(2);
      expect(bert.Erf).toBeUndefined();
      expect(bert.FusedMatMul).toBe(2);
      const g = await ops(exportModelToOnnx(randomCheckpoint(gpt2, { seed: 1 })), 'gpt2.onnx');
      expect(g.FastGelu).toBe(2);
      expect(g.Tanh).toBeUndefined();
      expect(g.FusedMatMul).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reject bad options and mismatching checkpoints with typed errors', () => {
    const bert = randomCheckpoint(bertCls, { seed: 1 });
    expect(() => exportModelToOnnx(bert, { mode: 'decode' })).toThrow(OnnxExportError);
    expect(() => exportModelToOnnx(bert, { mode: 'decode' })).toThrow(/exportModelToOnnx \(bert\): mode "decode" \(KV cache\) is for GPT2/);
    const g = randomCheckpoint(gpt2, { seed: 1 });
    expect(() => exportModelToOnnx(g, { pastLength: 3 })).toThrow(/pastLength is only meaningful with mode "decode"/);
    expect(() => exportModelToOnnx(g, { mode: 'decode', pastLength: -1 })).toThrow(/non-negative integer/);
    const weights = new Map(g.weights);
    weights.delete('transformer.h.0.attn.c_proj.bias');
    expect(() => exportModelToOnnx({ config: g.config, weights })).toThrow(WeightsError);
    expect(() => exportModelToOnnx({ config: g.config, weights })).toThrow(/transformer\.h\.0\.attn\.c_proj\.bias/);
  });
});
