// LLaMA's prunable structure (issue 16): attention is pruned in whole key/value groups (the rule on
// `LlamaConfig`), FFN in SwiGLU neurons (gate/up row + down column). Shrinking equals zeroing the same
// structures, a head set that splits a group is refused, random checkpoints round-trip through
// safetensors, and every LLaMA graph passes the ONNX checker.

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { int64Tensor, maxAbsDiff, pythonWithOnnx, releasedAfterAll } from '@ziplm/test-utils';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LlamaConfig } from '../src/config.js';
import { llamaConfig } from '../src/config.js';
import { ModelsError } from '../src/errors.js';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { exportAttentionBlock, exportFfnBlock, exportModelToOnnx, quantizableLinears } from '../src/onnx/index.js';
import { randomCheckpoint } from '../src/random.js';
import { findKeptStructures, shrinkWeights, zeroStructures, type KeptStructures } from '../src/shrink.js';
import { outputProjection, prunableModules, structureWidth, unitsPerStructure } from '../src/structure.js';
import { LlamaModel, initBackend } from '../src/tfjs/index.js';
import type { Checkpoint } from '../src/weights.js';

const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array) => createSession(bytes));
const int64 = (rows: number[][]): OrtTensor => int64Tensor<OrtTensor>(ort, rows);

/** 4 query heads over 2 key/value heads (groups {0, 1} and {2, 3}), head size 8. */
function tinyLlama(options: Partial<LlamaConfig> = {}): LlamaConfig {
  return llamaConfig({
    vocabSize: 40,
    hiddenSize: 32,
    numHeads: 4,
    numKeyValueHeads: 2,
    numLayers: 2,
    intermediateSize: 24,
    maxPositions: 16,
    ropeTheta: 10000,
    bosTokenId: 0,
    eosTokenId: 1,
    ...options,
  });
}

const IDS = [
  [3, 9, 27, 4, 11, 30, 2, 8],
  [5, 17, 1, 33, 6, 0, 0, 0],
];
const MASK = [
  [1, 1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 0, 0, 0],
];

function logits(checkpoint: Checkpoint<LlamaConfig>): Float32Array {
  const model = new LlamaModel(checkpoint);
  const inputIds = tf.tensor2d(IDS, undefined, 'int32');
  const attentionMask = tf.tensor2d(MASK, undefined, 'int32');
  const out = model.forward({ inputIds, attentionMask });
  const data = out.logits.dataSync() as Float32Array;
  tf.dispose([out, inputIds, attentionMask]);
  model.dispose();
  return data;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('LLaMA structure', () => {
  it('an attention structure is a key/value group: g·headDim columns of o_proj', () => {
    const config = tinyLlama({ layerHeads: [4, 2], layerIntermediate: [24, 0] });
    expect(unitsPerStructure(config, 'attention')).toBe(2);
    expect(structureWidth(config, 'attention')).toBe(16);
    expect(structureWidth(config, 'ffn')).toBe(1);
    expect(prunableModules(config).map((m) => [m.layer, m.module, m.size, m.structures, m.width])).toEqual([
      [0, 'attention', 4, 2, 32],
      [0, 'ffn', 24, 24, 24],
      [1, 'attention', 2, 1, 16],
    ]);
    const checkpoint = randomCheckpoint(config, { seed: 3 });
    const o = outputProjection(checkpoint, 1, 'attention');
    expect([o.name, o.rows, o.cols]).toEqual(['model.layers.1.self_attn.o_proj', 32, 16]);
    expect(o.weight).toBe(checkpoint.weights.get('model.layers.1.self_attn.o_proj.weight')!.data);
    expect(o.bias).toEqual(new Float32Array(32));
    expect(outputProjection(checkpoint, 0, 'ffn').name).toBe('model.layers.0.mlp.down_proj');
  });

  it('quantizable linears: q/k/v share one input, gate/up another, k/v have one row block per group', () => {
    const linears = quantizableLinears(tinyLlama({ layerHeads: [2, 4] }));
    expect(
      linears
        .filter((l) => l.layer === 0)
        .map((l) => [l.weight.split('.').slice(-2)[0], l.input.split('_').slice(3).join('_'), l.rows, l.cols]),
    ).toEqual([
      ['q_proj', 'qkv', 16, 32],
      ['k_proj', 'qkv', 8, 32],
      ['v_proj', 'qkv', 8, 32],
      ['o_proj', 'attention_output', 32, 16],
      ['gate_proj', 'fc1', 24, 32],
      ['up_proj', 'fc1', 24, 32],
      ['down_proj', 'fc2', 32, 24],
    ]);
    expect(linears.every((l) => l.layout === 'out-in')).toBe(true);
  });
});

describe('LLaMA shrink', () => {
  const checkpoint = randomCheckpoint(tinyLlama(), { seed: 11, std: 0.2, biasStd: 0.1 });
  // Layer 0 keeps key/value group 1 (query heads 2, 3) and 9 neurons; layer 1 loses its attention, keeps its FFN whole.
  const keep: KeptStructures = {
    heads: [[2, 3], []],
    neurons: [[0, 2, 3, 5, 8, 13, 17, 20, 23], Array.from({ length: 24 }, (_, i) => i)],
  };

  it('keeps q rows of the kept heads, k/v rows of their group, o_proj columns; equals zeroing the rest', () => {
    const shrunk = shrinkWeights(checkpoint, keep);
    expect(shrunk.config.layerHeads).toEqual([2, 0]);
    expect(shrunk.config.layerIntermediate).toEqual([9, 24]);
    const q = checkpoint.weights.get('model.layers.0.self_attn.q_proj.weight')!.data;
    const k = checkpoint.weights.get('model.layers.0.self_attn.k_proj.weight')!.data;
    expect(shrunk.weights.get('model.layers.0.self_attn.q_proj.weight')!.data).toEqual(q.slice(2 * 8 * 32, 4 * 8 * 32));
    expect(shrunk.weights.get('model.layers.0.self_attn.k_proj.weight')!.data).toEqual(k.slice(8 * 32, 16 * 32));
    expect(shrunk.weights.get('model.layers.0.self_attn.o_proj.weight')!.shape).toEqual([32, 16]);
    // A removed attention module takes its RMSNorm with it.
    expect(shrunk.weights.has('model.layers.1.input_layernorm.weight')).toBe(false);
    const zeroed = zeroStructures(checkpoint, keep);
    expect(maxAbsDiff(logits(shrunk), logits(zeroed))).toBeLessThan(1e-5);
    expect(maxAbsDiff(logits(shrunk), logits(checkpoint))).toBeGreaterThan(1e-3);
    // The zeroed checkpoint tells which groups and neurons survive.
    expect(findKeptStructures(zeroed)).toEqual(keep);
  });

  it('the shrunk model exports to ONNX with the tfjs logits', async () => {
    const shrunk = shrinkWeights(checkpoint, keep);
    const s = await session(exportModelToOnnx(shrunk));
    const out = await s.run({ input_ids: int64(IDS), attention_mask: int64(MASK) });
    expect(maxAbsDiff(out.logits!.data, logits(shrunk))).toBeLessThan(1e-4);
  });

  it('refuses a head set that splits a key/value group', () => {
    const split = {
      heads: [
        [0, 2],
        [0, 1, 2, 3],
      ],
      neurons: keep.neurons,
    };
    expect(() => shrinkWeights(checkpoint, split)).toThrow(ModelsError);
    expect(() => shrinkWeights(checkpoint, split)).toThrow(
      /keep\.heads\[0\] keeps query head 0 but not head 1 of the same key\/value group/,
    );
    expect(() => zeroStructures(checkpoint, split)).toThrow(/whole groups of 2 query heads/);
  });

  it('a tied LM head survives shrink and a save/load round trip', async () => {
    const tied = randomCheckpoint(tinyLlama({ tieWordEmbeddings: true }), { seed: 5, biasStd: 0.1 });
    expect(tied.weights.has('lm_head.weight')).toBe(false);
    expect(tied.weights.get('model.norm.weight')!.data.some((v) => v !== 1)).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'ziplm-llama-'));
    try {
      for (const [name, c] of [
        ['tied', shrinkWeights(tied, keep)],
        ['untied', randomCheckpoint(tinyLlama({ layerHeads: [2, 4] }), { seed: 6 })],
      ] as const) {
        await saveCheckpoint(join(dir, name), c);
        const loaded = await loadCheckpoint(join(dir, name));
        expect(loaded.config).toEqual(c.config);
        expect([...loaded.weights.keys()]).toEqual([...c.weights.keys()]);
        for (const [n, t] of c.weights) expect(maxAbsDiff(loaded.weights.get(n)!.data, t.data), n).toBe(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const checkerScript = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'onnx-check.py');
const python = pythonWithOnnx();

describe('onnx.checker on LLaMA graphs', () => {
  it.skipIf(!python)('accepts the whole model (full, decode, INT8) and the blocks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-llama-check-'));
    try {
      const checkpoint = randomCheckpoint(tinyLlama({ layerHeads: [4, 0], layerIntermediate: [10, 24] }), { seed: 2 });
      const ranges = new Map(quantizableLinears(checkpoint.config).map((l) => [l.input, { min: -2, max: 3 }]));
      const files: Record<string, Uint8Array> = {
        'llama-hidden.onnx': exportModelToOnnx(checkpoint, { hiddenStates: true, moduleInputs: true, matmulInputs: true }),
        'llama-decode.onnx': exportModelToOnnx(checkpoint, { mode: 'decode' }),
        'llama-decode-past3.onnx': exportModelToOnnx(checkpoint, { mode: 'decode', pastLength: 3 }),
        'llama-dynamic.onnx': exportModelToOnnx(checkpoint, { quantize: { activations: 'dynamic' } }),
        'llama-static.onnx': exportModelToOnnx(checkpoint, { quantize: { activations: 'static', ranges } }),
        'llama-attention-2.onnx': exportAttentionBlock(checkpoint.config, 2),
        'llama-attention-4-decode.onnx': exportAttentionBlock(checkpoint.config, 4, { mode: 'decode' }),
        'llama-ffn-7.onnx': exportFfnBlock(checkpoint.config, 7, { quantize: { activations: 'dynamic' } }),
      };
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
      const r = spawnSync(python!, [checkerScript, ...Object.keys(files).map((n) => join(dir, n))], { encoding: 'utf8' });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      for (const name of Object.keys(files)) {
        const line = r.stdout.split('\n').find((l) => l.includes(join(dir, name)));
        expect(line, line).toMatch(/^ok .*opset ai\.onnx:17, ir 8\)$/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it.skipIf(python)('skipped: no python3 with the onnx package (apt-get install python3-onnx, or set ZIPLM_PYTHON)', () => {});
});
