// An independent plain-TypeScript float64 forward pass of BERT and GPT2, written straight from the
// Hugging Face definitions (modeling_bert.py / modeling_gpt2.py) with no tfjs and no code shared
// with src/tfjs. Masked keys are excluded exactly (not with an additive constant). Used only by
// tests to check the tfjs models.

import type { BertConfig, Gpt2Config } from '../src/config.js';
import type { WeightMap } from '../src/weights.js';

/** A row-major float64 matrix. */
interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

function mat(rows: number, cols: number): Mat {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

function param(weights: WeightMap, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new Error(`reference: missing ${name}`);
  return t.data;
}

/** nn.Linear: y = x·Wᵀ + b with W [out, in]. */
function linear(x: Mat, w: Float32Array, b: Float32Array, out: number): Mat {
  const y = mat(x.rows, out);
  for (let r = 0; r < x.rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = b[o]!;
      for (let i = 0; i < x.cols; i++) s += x.data[r * x.cols + i]! * w[o * x.cols + i]!;
      y.data[r * out + o] = s;
    }
  }
  return y;
}

/** transformers Conv1D: y = x·W + b with W [in, out]. */
function conv1d(x: Mat, w: Float32Array, b: Float32Array, out: number): Mat {
  const y = mat(x.rows, out);
  for (let r = 0; r < x.rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = b[o]!;
      for (let i = 0; i < x.cols; i++) s += x.data[r * x.cols + i]! * w[i * out + o]!;
      y.data[r * out + o] = s;
    }
  }
  return y;
}

function layerNorm(x: Mat, gamma: Float32Array, beta: Float32Array, eps: number): Mat {
  const y = mat(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) {
    let mean = 0;
    for (let i = 0; i < x.cols; i++) mean += x.data[r * x.cols + i]!;
    mean /= x.cols;
    let v = 0;
    for (let i = 0; i < x.cols; i++) v += (x.data[r * x.cols + i]! - mean) ** 2;
    v /= x.cols;
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < x.cols; i++) y.data[r * x.cols + i] = (x.data[r * x.cols + i]! - mean) * inv * gamma[i]! + beta[i]!;
  }
  return y;
}

function add(a: Mat, b: Mat): Mat {
  const y = mat(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) y.data[i] = a.data[i]! + b.data[i]!;
  return y;
}

function map(a: Mat, f: (v: number) => number): Mat {
  const y = mat(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) y.data[i] = f(a.data[i]!);
  return y;
}

/** erf to ~1e-14: Maclaurin series below 2.5, Lentz continued fraction for erfc above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const geluErf = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
const geluTanh = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

/**
 * Attention of one sequence: q, k, v [seq, heads·hd]; `allowed(i, j)` says whether query i may
 * attend key j (the others are excluded from the softmax).
 */
function attention(q: Mat, k: Mat, v: Mat, heads: number, hd: number, allowed: (i: number, j: number) => boolean): Mat {
  const seq = q.rows;
  const width = heads * hd;
  const out = mat(seq, width);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < seq; i++) {
      const scores: number[] = [];
      let max = -Infinity;
      for (let j = 0; j < seq; j++) {
        if (!allowed(i, j)) {
          scores.push(NaN);
          continue;
        }
        let s = 0;
        for (let t = 0; t < hd; t++) s += q.data[i * width + h * hd + t]! * k.data[j * width + h * hd + t]!;
        s /= Math.sqrt(hd);
        scores.push(s);
        max = Math.max(max, s);
      }
      let z = 0;
      const p = scores.map((s) => (Number.isNaN(s) ? 0 : Math.exp(s - max)));
      for (const e of p) z += e;
      for (let t = 0; t < hd; t++) {
        let acc = 0;
        for (let j = 0; j < seq; j++) acc += (p[j]! / z) * v.data[j * width + h * hd + t]!;
        out.data[i * width + h * hd + t] = acc;
      }
    }
  }
  return out;
}

function rowsOf(m: Mat): number[][] {
  return Array.from({ length: m.rows }, (_, r) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)));
}

/** What the reference returns for one sequence. */
export interface ReferenceOutput {
  /** Per-sequence logits: cls [labels]; span-qa [seq][2]; none [seq][hidden]; GPT2 [seq][vocab]. */
  logits: number[] | number[][];
  /** numLayers + 1 states, each [seq][hidden]. */
  hiddenStates: number[][][];
}

/** Hugging Face BERT, one sequence. */
export function referenceBert(config: BertConfig, weights: WeightMap, ids: number[], mask?: number[], types?: number[]): ReferenceOutput {
  const d = config.hiddenSize;
  const hd = d / config.numHeads;
  const eps = config.layerNormEps;
  const p = (n: string) => param(weights, n);
  const seq = ids.length;
  let h = mat(seq, d);
  const word = p('bert.embeddings.word_embeddings.weight');
  const pos = p('bert.embeddings.position_embeddings.weight');
  const typ = p('bert.embeddings.token_type_embeddings.weight');
  for (let i = 0; i < seq; i++) {
    const t = types?.[i] ?? 0;
    for (let c = 0; c < d; c++) h.data[i * d + c] = word[ids[i]! * d + c]! + pos[i * d + c]! + typ[t * d + c]!;
  }
  h = layerNorm(h, p('bert.embeddings.LayerNorm.weight'), p('bert.embeddings.LayerNorm.bias'), eps);
  const states = [rowsOf(h)];
  const allowed = (_i: number, j: number) => (mask ? mask[j] === 1 : true);
  for (let l = 0; l < config.numLayers; l++) {
    const pre = `bert.encoder.layer.${l}`;
    const heads = config.layerHeads[l]!;
    const a = heads * hd;
    if (heads > 0) {
      const q = linear(h, p(`${pre}.attention.self.query.weight`), p(`${pre}.attention.self.query.bias`), a);
      const k = linear(h, p(`${pre}.attention.self.key.weight`), p(`${pre}.attention.self.key.bias`), a);
      const v = linear(h, p(`${pre}.attention.self.value.weight`), p(`${pre}.attention.self.value.bias`), a);
      const ctx = attention(q, k, v, heads, hd, allowed);
      const o = linear(ctx, p(`${pre}.attention.output.dense.weight`), p(`${pre}.attention.output.dense.bias`), d);
      h = layerNorm(add(o, h), p(`${pre}.attention.output.LayerNorm.weight`), p(`${pre}.attention.output.LayerNorm.bias`), eps);
    }
    const f = config.layerIntermediate[l]!;
    if (f > 0) {
      const inner = map(linear(h, p(`${pre}.intermediate.dense.weight`), p(`${pre}.intermediate.dense.bias`), f), geluErf);
      const o = linear(inner, p(`${pre}.output.dense.weight`), p(`${pre}.output.dense.bias`), d);
      h = layerNorm(add(o, h), p(`${pre}.output.LayerNorm.weight`), p(`${pre}.output.LayerNorm.bias`), eps);
    }
    states.push(rowsOf(h));
  }
  const head = config.head;
  if (head.type === 'classification') {
    const cls: Mat = { rows: 1, cols: d, data: h.data.slice(0, d) };
    const pooled = map(linear(cls, p('bert.pooler.dense.weight'), p('bert.pooler.dense.bias'), d), Math.tanh);
    const logits = linear(pooled, p('classifier.weight'), p('classifier.bias'), head.labels.length);
    return { logits: Array.from(logits.data), hiddenStates: states };
  }
  if (head.type === 'span-qa') return { logits: rowsOf(linear(h, p('qa_outputs.weight'), p('qa_outputs.bias'), 2)), hiddenStates: states };
  return { logits: rowsOf(h), hiddenStates: states };
}

/** Hugging Face GPT2LMHeadModel, one sequence. */
export function referenceGpt2(config: Gpt2Config, weights: WeightMap, ids: number[], mask?: number[]): ReferenceOutput {
  const d = config.hiddenSize;
  const hd = d / config.numHeads;
  const eps = config.layerNormEps;
  const p = (n: string) => param(weights, n);
  const seq = ids.length;
  let h = mat(seq, d);
  const wte = p('transformer.wte.weight');
  const wpe = p('transformer.wpe.weight');
  for (let i = 0; i < seq; i++) for (let c = 0; c < d; c++) h.data[i * d + c] = wte[ids[i]! * d + c]! + wpe[i * d + c]!;
  const states = [rowsOf(h)];
  const allowed = (i: number, j: number) => j <= i && (mask ? mask[j] === 1 : true);
  for (let l = 0; l < config.numLayers; l++) {
    const pre = `transformer.h.${l}`;
    const heads = config.layerHeads[l]!;
    const a = heads * hd;
    if (heads > 0) {
      const x = layerNorm(h, p(`${pre}.ln_1.weight`), p(`${pre}.ln_1.bias`), eps);
      const qkv = conv1d(x, p(`${pre}.attn.c_attn.weight`), p(`${pre}.attn.c_attn.bias`), 3 * a);
      const part = (k: number): Mat => {
        const m = mat(seq, a);
        for (let r = 0; r < seq; r++) for (let c = 0; c < a; c++) m.data[r * a + c] = qkv.data[r * 3 * a + k * a + c]!;
        return m;
      };
      const ctx = attention(part(0), part(1), part(2), heads, hd, allowed);
      h = add(h, conv1d(ctx, p(`${pre}.attn.c_proj.weight`), p(`${pre}.attn.c_proj.bias`), d));
    }
    const f = config.layerIntermediate[l]!;
    if (f > 0) {
      const x = layerNorm(h, p(`${pre}.ln_2.weight`), p(`${pre}.ln_2.bias`), eps);
      const inner = map(conv1d(x, p(`${pre}.mlp.c_fc.weight`), p(`${pre}.mlp.c_fc.bias`), f), geluTanh);
      h = add(h, conv1d(inner, p(`${pre}.mlp.c_proj.weight`), p(`${pre}.mlp.c_proj.bias`), d));
    }
    states.push(rowsOf(h));
  }
  const final = layerNorm(h, p('transformer.ln_f.weight'), p('transformer.ln_f.bias'), eps);
  // Tied head: logits[i, v] = final[i] · wte[v]
  const logits = mat(seq, config.vocabSize);
  for (let i = 0; i < seq; i++) {
    for (let v = 0; v < config.vocabSize; v++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += final.data[i * d + c]! * wte[v * d + c]!;
      logits.data[i * config.vocabSize + v] = s;
    }
  }
  return { logits: rowsOf(logits), hiddenStates: states };
}
