// GPT2 config fields that change the computation (issue 16, "GPT2 config fidelity"):
// - `tie_word_embeddings: false` with its own `lm_head.weight`: used for the logits by the tfjs model and the
//   ONNX export, kept by save/load, shrink and random checkpoints; missing or contradictory heads refused.
// - `scale_attn_weights: false` and `scale_attn_by_inverse_layer_idx: true`: honoured in tfjs and ONNX,
//   checked against a float64 hand computation of one attention module.
// - `reorder_and_upcast_attn`: accepted (float32 only changes rounding), a non-boolean refused.
// - The real tied fixture gpt2-tiny-lm still reproduces its torch logits.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { int64Tensor, maxAbsDiff, releasedAfterAll, tinyGpt2Options } from '@ziplm/test-utils';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpt2Config } from '../src/config.js';
import { fromHfConfig, gpt2AttentionScoreDivisor, gpt2Config, headDim, toHfConfig } from '../src/config.js';
import { ConfigError, WeightsError } from '../src/errors.js';
import { CONFIG_FILE, WEIGHTS_FILE, loadCheckpoint, readConfigFile, saveCheckpoint } from '../src/io/checkpoint.js';
import { encodeSafetensors, readSafetensorsHeader } from '../src/io/safetensors.js';
import { exportModelToOnnx } from '../src/onnx/index.js';
import { createRng, randomCheckpoint } from '../src/random.js';
import { shrinkWeights } from '../src/shrink.js';
import { Gpt2Model, initBackend } from '../src/tfjs/index.js';
import type { Checkpoint, Tensor32, WeightMap } from '../src/weights.js';
import { GPT2_NAMES, expectedShapes, gpt2LayerNames } from '../src/weights.js';
import { hfFixture, readDecoderReference } from './hf-fixtures.js';

const TOLERANCE = 1e-4;
const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array) => createSession(bytes));
const int64 = (rows: number[][]): OrtTensor => int64Tensor<OrtTensor>(ort, rows);
const int32 = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');

let root: string;
let dirs = 0;
const freshDir = () => join(root, `ckpt-${++dirs}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ziplm-gpt2-fidelity-'));
  await initBackend('wasm');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Random ids [batch, seq] and a right-padded mask (row b keeps seq − b tokens). */
function randomInputs(seed: number, batch: number, seq: number, vocab: number) {
  const rng = createRng(seed);
  const ids = Array.from({ length: batch }, () => Array.from({ length: seq }, () => Math.floor(rng.uniform() * vocab)));
  const mask = Array.from({ length: batch }, (_, b) => Array.from({ length: seq }, (_, s) => (s < seq - b ? 1 : 0)));
  return { ids, mask };
}

/** Writes config.json and model.safetensors exactly as given (stored names, no checks). */
async function writeRaw(dir: string, config: Record<string, unknown>, tensors: Iterable<readonly [string, Tensor32]>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, CONFIG_FILE), JSON.stringify(config));
  await writeFile(join(dir, WEIGHTS_FILE), encodeSafetensors([...tensors], { metadata: { format: 'pt' } }));
}

function weight(c: Checkpoint, name: string): Float32Array {
  const t = c.weights.get(name);
  if (t === undefined) throw new Error(`test: missing ${name}`);
  return t.data;
}

/** LayerNorm of each row of x [rows, d] in float64. */
function layerNormRows(x: ArrayLike<number>, rows: number, d: number, gamma: Float32Array, beta: Float32Array, eps: number): Float64Array {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i]!;
    mean /= d;
    let variance = 0;
    for (let i = 0; i < d; i++) variance += (x[r * d + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i]! - mean) * inv * gamma[i]! + beta[i]!;
  }
  return y;
}

/** logits = LN_f(h)·Wᵀ by hand, from the last layer's output h [rows, d] and a [vocab, d] head W. */
function handLogits(c: Checkpoint<Gpt2Config>, lastLayerOutput: ArrayLike<number>, rows: number, head: Float32Array): Float64Array {
  const { hiddenSize: d, vocabSize: vocab, layerNormEps } = c.config;
  const n = GPT2_NAMES.finalNorm;
  const normed = layerNormRows(lastLayerOutput, rows, d, weight(c, `${n}.weight`), weight(c, `${n}.bias`), layerNormEps);
  const logits = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vocab; v++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += normed[r * d + i]! * head[v * d + i]!;
      logits[r * vocab + v] = s;
    }
  }
  return logits;
}

const untiedConfig = gpt2Config({ ...tinyGpt2Options(), tieWordEmbeddings: false });
const untied = randomCheckpoint(untiedConfig, { seed: 16, std: 0.3, biasStd: 0.1 });

describe('tie_word_embeddings: false uses the checkpoint lm_head.weight', () => {
  it('lm_head.weight is a parameter of its own, last, drawn like every weight', () => {
    const names = [...expectedShapes(untiedConfig).keys()];
    expect(names.at(-1)).toBe(GPT2_NAMES.lmHead);
    expect(expectedShapes(untiedConfig).get(GPT2_NAMES.lmHead)).toEqual([untiedConfig.vocabSize, untiedConfig.hiddenSize]);
    expect(maxAbsDiff(weight(untied, GPT2_NAMES.lmHead), weight(untied, GPT2_NAMES.tokenEmbeddings))).toBeGreaterThan(0.1);
    // A tied config has no lm_head, and its random checkpoint is what it always was (the untied one draws the
    // same tensors first, then the head).
    const tied = randomCheckpoint(gpt2Config(tinyGpt2Options()), { seed: 16, std: 0.3, biasStd: 0.1 });
    expect(tied.weights.has(GPT2_NAMES.lmHead)).toBe(false);
    for (const [name, t] of tied.weights) expect(weight(untied, name)).toEqual(t.data);
  });

  it('tfjs logits are LN_f(h)·lm_headᵀ (hand computation), not LN_f(h)·wteᵀ', () => {
    const model = new Gpt2Model(untied);
    const { ids, mask } = randomInputs(1, 2, 7, untiedConfig.vocabSize);
    const inputs = { inputIds: int32(ids), attentionMask: int32(mask) };
    const out = model.forward(inputs);
    const rows = 2 * 7;
    const last = out.hiddenStates.at(-1)!.dataSync();
    const logits = out.logits.dataSync();
    expect(out.logits.shape).toEqual([2, 7, untiedConfig.vocabSize]);
    expect(maxAbsDiff(logits, handLogits(untied, last, rows, weight(untied, GPT2_NAMES.lmHead)))).toBeLessThanOrEqual(TOLERANCE);
    // The tied head gives different logits: the comparison above can tell the two apart.
    expect(maxAbsDiff(logits, handLogits(untied, last, rows, weight(untied, GPT2_NAMES.tokenEmbeddings)))).toBeGreaterThan(0.1);
    // lm_head is a trainable variable and comes back from toWeights, bit for bit.
    expect(model.trainableVariables().length).toBe(untied.weights.size);
    expect(model.toWeights().get(GPT2_NAMES.lmHead)!.data).toEqual(weight(untied, GPT2_NAMES.lmHead));
    tf.dispose([out.logits, ...out.hiddenStates, inputs.inputIds, inputs.attentionMask]);
    model.dispose();
  });

  it('the ONNX export computes the same logits as tfjs (≤ 1e-4), with lm_head.weight as an initializer', async () => {
    const model = new Gpt2Model(untied);
    const { ids, mask } = randomInputs(2, 3, 9, untiedConfig.vocabSize);
    const inputs = { inputIds: int32(ids), attentionMask: int32(mask) };
    const out = model.forward(inputs);
    const s = await session(exportModelToOnnx(untied));
    const onnx = await s.run({ input_ids: int64(ids), attention_mask: int64(mask) });
    expect(onnx.logits!.dims).toEqual(out.logits.shape);
    expect(maxAbsDiff(onnx.logits!.data as Float32Array, out.logits.dataSync())).toBeLessThanOrEqual(TOLERANCE);
    // And with the hand computation, so a head that is wrong in both places is caught too.
    const hand = handLogits(untied, out.hiddenStates.at(-1)!.dataSync(), 3 * 9, weight(untied, GPT2_NAMES.lmHead));
    expect(maxAbsDiff(onnx.logits!.data as Float32Array, hand)).toBeLessThanOrEqual(TOLERANCE);
    tf.dispose([out.logits, ...out.hiddenStates, inputs.inputIds, inputs.attentionMask]);
    model.dispose();
  });

  it('save → load keeps lm_head.weight and "tie_word_embeddings": false', async () => {
    const dir = freshDir();
    await saveCheckpoint(dir, untied);
    const json = JSON.parse(await readFile(join(dir, CONFIG_FILE), 'utf8')) as Record<string, unknown>;
    expect(json.tie_word_embeddings).toBe(false);
    const header = await readSafetensorsHeader(join(dir, WEIGHTS_FILE));
    expect(header.entries.map((e) => e.name)).toContain(GPT2_NAMES.lmHead);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.config).toEqual(untiedConfig);
    expect([...loaded.weights.keys()]).toEqual([...untied.weights.keys()]);
    expect(weight(loaded, GPT2_NAMES.lmHead)).toEqual(weight(untied, GPT2_NAMES.lmHead));
  });

  it('shrink carries lm_head.weight along unchanged', () => {
    const keep = {
      heads: untiedConfig.layerHeads.map((h) => Array.from({ length: h }, (_, i) => i).filter((i) => i % 2 === 0)),
      neurons: untiedConfig.layerIntermediate.map((m) => Array.from({ length: Math.floor(m / 2) }, (_, i) => i)),
    };
    const small = shrinkWeights(untied, keep);
    expect(small.config.tieWordEmbeddings).toBe(false);
    expect(weight(small, GPT2_NAMES.lmHead)).toEqual(weight(untied, GPT2_NAMES.lmHead));
    expect([...small.weights.keys()].at(-1)).toBe(GPT2_NAMES.lmHead);
  });
});

describe('lm_head.weight that does not fit the config is refused', () => {
  const tiedConfig = gpt2Config(tinyGpt2Options());
  const tied = randomCheckpoint(tiedConfig, { seed: 3 });

  it('untied config without lm_head.weight: WeightsError naming the file, the tensor and the config field', async () => {
    const dir = freshDir();
    const weights: WeightMap = new Map(untied.weights);
    weights.delete(GPT2_NAMES.lmHead);
    await writeRaw(dir, toHfConfig(untiedConfig), weights);
    const error = await loadCheckpoint(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as WeightsError).file).toBe(join(dir, WEIGHTS_FILE));
    expect((error as Error).message).toMatch(/missing 1 tensor\(s\) required by config\.json: "lm_head\.weight"/);
    expect((error as Error).message).toMatch(/"tie_word_embeddings": false/);
  });

  it('tied config with a stored lm_head equal to wte: accepted, the head is not a separate parameter', async () => {
    const dir = freshDir();
    await writeRaw(dir, toHfConfig(tiedConfig), [...tied.weights, [GPT2_NAMES.lmHead, tied.weights.get(GPT2_NAMES.tokenEmbeddings)!]]);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.weights.has(GPT2_NAMES.lmHead)).toBe(false);
    expect([...loaded.weights.keys()]).toEqual([...tied.weights.keys()]);
  });

  it('tied config with a stored lm_head that differs from wte: WeightsError pointing at tie_word_embeddings', async () => {
    const dir = freshDir();
    const wte = tied.weights.get(GPT2_NAMES.tokenEmbeddings)!;
    const other = { shape: wte.shape, data: wte.data.map((v, i) => (i === 5 ? v + 1 : v)) };
    await writeRaw(dir, toHfConfig(tiedConfig), [...tied.weights, [GPT2_NAMES.lmHead, other]]);
    const error = await loadCheckpoint(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as WeightsError).file).toBe(join(dir, WEIGHTS_FILE));
    expect((error as Error).message).toMatch(
      /tensor "lm_head\.weight" differs from "transformer\.wte\.weight" \(first at flat index 5\).*set "tie_word_embeddings": false/,
    );
  });
});

describe('GPT2 config.json flags', () => {
  const base = toHfConfig(gpt2Config(tinyGpt2Options()));

  it('absent or default flags give the plain config, and toHfConfig writes no attention flags for it', () => {
    const plain = fromHfConfig(base);
    expect(plain).toEqual(gpt2Config(tinyGpt2Options()));
    const defaults = {
      ...base,
      tie_word_embeddings: true,
      scale_attn_weights: true,
      scale_attn_by_inverse_layer_idx: false,
      reorder_and_upcast_attn: false,
    };
    expect(fromHfConfig(defaults)).toEqual(plain);
    expect(base.tie_word_embeddings).toBe(true);
    expect(Object.keys(base)).not.toContain('scale_attn_weights');
    expect(Object.keys(base)).not.toContain('scale_attn_by_inverse_layer_idx');
    expect(gpt2AttentionScoreDivisor(plain as Gpt2Config, 3)).toBe(Math.sqrt(headDim(plain)));
  });

  it('non-default flags are read, written back and round-trip; reorder_and_upcast_attn is accepted', () => {
    const json = {
      ...base,
      tie_word_embeddings: false,
      scale_attn_weights: false,
      scale_attn_by_inverse_layer_idx: true,
      reorder_and_upcast_attn: true,
    };
    const config = fromHfConfig(json) as Gpt2Config;
    expect(config).toMatchObject({ tieWordEmbeddings: false, scaleAttnWeights: false, scaleAttnByInverseLayerIdx: true });
    const written = toHfConfig(config);
    expect(written).toMatchObject({ tie_word_embeddings: false, scale_attn_weights: false, scale_attn_by_inverse_layer_idx: true });
    expect(fromHfConfig(written)).toEqual(config);
    expect(gpt2AttentionScoreDivisor(config, 2)).toBe(3);
  });

  it.each(['tie_word_embeddings', 'scale_attn_weights', 'scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn'])(
    'a non-boolean %s is a ConfigError naming the field and the file',
    async (field) => {
      const dir = freshDir();
      await writeRaw(dir, { ...base, [field]: 'yes' }, []);
      const error = await readConfigFile(join(dir, CONFIG_FILE)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
      expect((error as ConfigError).file).toBe(join(dir, CONFIG_FILE));
      expect((error as Error).message).toContain(`config field "${field}" must be true or false, got "yes"`);
    },
  );
});

describe('scale_attn_weights / scale_attn_by_inverse_layer_idx are honoured (tfjs and ONNX)', () => {
  // Two layers, layer 1 without its MLP: hidden state 2 is then exactly x + attn(ln_1(x)) of layer 1,
  // whose scores scale_attn_by_inverse_layer_idx divides by 2.
  // Head size 9: sqrt 3, so no flag combination gives the plain divisor by accident.
  const shape = {
    vocabSize: 23,
    hiddenSize: 18,
    numLayers: 2,
    numHeads: 2,
    intermediateSize: 16,
    layerHeads: [2, 2],
    layerIntermediate: [16, 0],
    maxPositions: 10,
    bosTokenId: 0,
    eosTokenId: 0,
  };
  const plainCheckpoint = randomCheckpoint(gpt2Config(shape), { seed: 41, std: 0.5, biasStd: 0.1 });

  /** x + c_proj(attention(ln_1(x))) of layer `layer` for one causal sequence x [seq, d], in float64. */
  function handAttention(c: Checkpoint<Gpt2Config>, layer: number, x: ArrayLike<number>, seq: number, divisor: number): Float64Array {
    const { hiddenSize: d, layerNormEps } = c.config;
    const hd = headDim(c.config);
    const width = c.config.layerHeads[layer]! * hd;
    const n = gpt2LayerNames(layer);
    const h = layerNormRows(x, seq, d, weight(c, `${n.ln1}.weight`), weight(c, `${n.ln1}.bias`), layerNormEps);
    const wQkv = weight(c, `${n.qkv}.weight`); // [d, 3·width]
    const bQkv = weight(c, `${n.qkv}.bias`);
    const qkv = new Float64Array(seq * 3 * width);
    for (let t = 0; t < seq; t++) {
      for (let o = 0; o < 3 * width; o++) {
        let s = bQkv[o]!;
        for (let i = 0; i < d; i++) s += h[t * d + i]! * wQkv[i * 3 * width + o]!;
        qkv[t * 3 * width + o] = s;
      }
    }
    const at = (t: number, part: number, col: number) => qkv[t * 3 * width + part * width + col]!;
    const context = new Float64Array(seq * width);
    for (let head = 0; head < c.config.layerHeads[layer]!; head++) {
      for (let t = 0; t < seq; t++) {
        const scores: number[] = [];
        for (let u = 0; u <= t; u++) {
          let s = 0;
          for (let e = 0; e < hd; e++) s += at(t, 0, head * hd + e) * at(u, 1, head * hd + e);
          scores.push(s / divisor);
        }
        const top = Math.max(...scores);
        const exp = scores.map((s) => Math.exp(s - top));
        const sum = exp.reduce((a, b) => a + b, 0);
        for (let e = 0; e < hd; e++) {
          let v = 0;
          for (let u = 0; u <= t; u++) v += (exp[u]! / sum) * at(u, 2, head * hd + e);
          context[t * width + head * hd + e] = v;
        }
      }
    }
    const wOut = weight(c, `${n.attnOut}.weight`); // [width, d]
    const bOut = weight(c, `${n.attnOut}.bias`);
    const y = new Float64Array(seq * d);
    for (let t = 0; t < seq; t++) {
      for (let o = 0; o < d; o++) {
        let s = bOut[o]! + x[t * d + o]!;
        for (let i = 0; i < width; i++) s += context[t * width + i]! * wOut[i * d + o]!;
        y[t * d + o] = s;
      }
    }
    return y;
  }

  const cases = [
    ['scale_attn_by_inverse_layer_idx: true', { scaleAttnByInverseLayerIdx: true }, 2 * 3],
    ['scale_attn_weights: false', { scaleAttnWeights: false }, 1],
    ['both', { scaleAttnWeights: false, scaleAttnByInverseLayerIdx: true }, 2],
  ] as const;

  it.each(cases)(
    '%s: layer 1 matches the hand computation, differs from plain GPT2, and ONNX matches tfjs',
    async (_name, flags, divisor) => {
      const config = gpt2Config({ ...shape, ...flags });
      expect(gpt2AttentionScoreDivisor(config, 1)).toBe(divisor);
      const checkpoint: Checkpoint<Gpt2Config> = { config, weights: plainCheckpoint.weights };
      const seq = 6;
      const { ids } = randomInputs(7, 1, seq, shape.vocabSize);
      const inputs = { inputIds: int32(ids) };
      const model = new Gpt2Model(checkpoint);
      const plain = new Gpt2Model(plainCheckpoint);
      const out = model.forward(inputs);
      const plainOut = plain.forward(inputs);
      const layer1Input = out.hiddenStates[1]!.dataSync();
      const layer1Output = out.hiddenStates[2]!.dataSync();
      expect(maxAbsDiff(layer1Output, handAttention(checkpoint, 1, layer1Input, seq, divisor))).toBeLessThanOrEqual(TOLERANCE);
      // The flag matters: the default divisor gives another output (so this test fails when the flag is ignored).
      expect(maxAbsDiff(layer1Output, handAttention(checkpoint, 1, layer1Input, seq, 3))).toBeGreaterThan(1e-2);
      expect(maxAbsDiff(out.logits.dataSync(), plainOut.logits.dataSync())).toBeGreaterThan(1e-2);

      const s = await session(exportModelToOnnx(checkpoint, { hiddenStates: true }));
      const onnx = await s.run({ input_ids: int64(ids), attention_mask: int64([new Array<number>(seq).fill(1)]) });
      expect(maxAbsDiff(onnx.logits!.data as Float32Array, out.logits.dataSync())).toBeLessThanOrEqual(TOLERANCE);
      expect(maxAbsDiff(onnx.hidden_state_2!.data as Float32Array, layer1Output)).toBeLessThanOrEqual(TOLERANCE);
      tf.dispose([out.logits, ...out.hiddenStates, plainOut.logits, ...plainOut.hiddenStates, inputs.inputIds]);
      model.dispose();
      plain.dispose();
    },
  );
});

describe('the real tied fixture gpt2-tiny-lm', () => {
  const fixture = hfFixture('gpt2-tiny-lm');
  it.skipIf(fixture.skip !== undefined)(
    fixture.skip ?? 'loads and reproduces its torch logits at every real position (≤ 1e-4)',
    async () => {
      const checkpoint = (await loadCheckpoint(fixture.dir)) as Checkpoint<Gpt2Config>;
      expect(checkpoint.config.tieWordEmbeddings).toBeUndefined();
      expect(checkpoint.weights.has(GPT2_NAMES.lmHead)).toBe(false);
      const reference = readDecoderReference(fixture.dir);
      const model = new Gpt2Model(checkpoint);
      const inputs = { inputIds: int32(reference.inputIds), attentionMask: int32(reference.attentionMask) };
      const out = model.forward(inputs);
      const [batch, seq, vocab] = out.logits.shape;
      expect(out.logits.shape).toEqual(reference.logits.shape);
      const logits = out.logits.dataSync();
      let worst = 0;
      for (let b = 0; b < batch; b++) {
        for (let t = 0; t < seq; t++) {
          if (reference.attentionMask[b]![t] !== 1) continue;
          const at = (b * seq + t) * vocab;
          worst = Math.max(worst, maxAbsDiff(logits.subarray(at, at + vocab), reference.logits.data.subarray(at, at + vocab)));
        }
      }
      expect(worst).toBeLessThanOrEqual(TOLERANCE);
      tf.dispose([out.logits, ...out.hiddenStates, inputs.inputIds, inputs.attentionMask]);
      model.dispose();
    },
  );
});
