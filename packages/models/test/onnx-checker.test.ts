// Every kind of exported graph, FP32 and INT8 (dynamic and static), passes the reference ONNX checker
// (full_check: strict shape and type inference). External check: runs scripts/onnx-check.py when a python3 with the onnx package is
// available (Debian: apt-get install python3-onnx; or set ZIPLM_PYTHON), and skips otherwise.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphBuilder } from '@ziplm/onnx';
import { describe, expect, it } from 'vitest';
import { pythonWithOnnx } from '@ziplm/test-utils';
import { bertConfig, gpt2Config } from '../src/config.js';
import {
  exportAttentionBlock,
  exportFfnBlock,
  exportModelToOnnx,
  type OnnxQuantizeOptions,
  quantizableLinears,
} from '../src/onnx/index.js';
import { randomCheckpoint } from '../src/random.js';
import { tinyBertConfig, tinyGpt2Config } from './helpers.js';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'onnx-check.py');

const python = pythonWithOnnx();

const bertBase = {
  vocabSize: 30,
  hiddenSize: 16,
  numHeads: 4,
  numLayers: 3,
  intermediateSize: 24,
  layerHeads: [4, 0, 2],
  layerIntermediate: [24, 10, 0],
  maxPositions: 12,
};
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

describe('onnx.checker (scripts/onnx-check.py)', () => {
  it.skipIf(!python)('accepts every exported graph and rejects a broken one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-onnx-check-'));
    try {
      const files: Record<string, Uint8Array> = {
        'bert-cls.onnx': exportModelToOnnx(
          randomCheckpoint(bertConfig({ ...bertBase, head: { type: 'classification', labels: ['x', 'y'] } })),
        ),
        'bert-qa-hidden.onnx': exportModelToOnnx(randomCheckpoint(bertConfig({ ...bertBase, head: { type: 'span-qa' } })), {
          hiddenStates: true,
        }),
        'bert-none.onnx': exportModelToOnnx(randomCheckpoint(bertConfig(bertBase))),
        'gpt2-hidden.onnx': exportModelToOnnx(randomCheckpoint(gpt2), { hiddenStates: true }),
        'gpt2-decode.onnx': exportModelToOnnx(randomCheckpoint(gpt2), { mode: 'decode' }),
        'gpt2-decode-past5.onnx': exportModelToOnnx(randomCheckpoint(gpt2), { mode: 'decode', pastLength: 5, hiddenStates: true }),
        'bert-attention-3.onnx': exportAttentionBlock(bertConfig(bertBase), 3),
        'bert-ffn-7.onnx': exportFfnBlock(bertConfig(bertBase), 7),
        'gpt2-attention-2.onnx': exportAttentionBlock(gpt2, 2),
        'gpt2-attention-4-decode.onnx': exportAttentionBlock(gpt2, 4, { mode: 'decode' }),
        'gpt2-ffn-5.onnx': exportFfnBlock(gpt2, 5),
      };
      // Negative control: a type error (MatMul of float and int64) the checker must catch.
      const broken = new GraphBuilder('broken');
      broken.output(broken.op('MatMul', [broken.input('a', 'float32', [2, 2]), broken.input('b', 'int64', [2, 2])]), 'float32', [2, 2]);
      files['broken.onnx'] = broken.toBytes();
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
      const r = spawnSync(python!, [script, ...Object.keys(files).map((n) => join(dir, n))], { encoding: 'utf8' });
      const lines = r.stdout.trim().split('\n');
      expect(r.status, r.stderr).toBe(1);
      for (const name of Object.keys(files)) {
        const line = lines.find((l) => l.includes(join(dir, name)));
        expect(line, `no result for ${name}`).toBeDefined();
        if (name === 'broken.onnx') expect(line).toMatch(/^FAIL /);
        else expect(line, line).toMatch(/^ok .*opset ai\.onnx:17, ir 8\)$/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it.skipIf(!python)('accepts dynamic and static INT8 graphs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-onnx-int8-check-'));
    try {
      const bert = randomCheckpoint(tinyBertConfig(), { seed: 1 });
      const gpt2 = randomCheckpoint(tinyGpt2Config(), { seed: 1 });
      const files: Record<string, Uint8Array> = {};
      for (const activations of ['dynamic', 'static'] as const) {
        const quantize = (linears: ReturnType<typeof quantizableLinears>): OnnxQuantizeOptions =>
          activations === 'dynamic'
            ? { activations }
            : { activations, ranges: new Map(linears.map((l) => [l.input, { min: -2, max: 3 }])) };
        files[`bert-${activations}.onnx`] = exportModelToOnnx(bert, {
          quantize: quantize(quantizableLinears(bert.config)),
          matmulInputs: true,
        });
        files[`gpt2-${activations}.onnx`] = exportModelToOnnx(gpt2, {
          quantize: quantize(quantizableLinears(gpt2.config)),
          hiddenStates: true,
        });
        files[`gpt2-decode-${activations}.onnx`] = exportModelToOnnx(gpt2, {
          mode: 'decode',
          quantize: quantize(quantizableLinears(gpt2.config)),
        });
        files[`bert-attention-${activations}.onnx`] = exportAttentionBlock(bert.config, 3, { quantize: { activations } });
        files[`gpt2-ffn-${activations}.onnx`] = exportFfnBlock(gpt2.config, 5, { quantize: { activations } });
      }
      files['bert-fp32-matmul-inputs.onnx'] = exportModelToOnnx(bert, { matmulInputs: true, moduleInputs: true });
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
      const r = spawnSync(python!, [script, ...Object.keys(files).map((n) => join(dir, n))], { encoding: 'utf8' });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      const lines = r.stdout.trim().split('\n');
      for (const name of Object.keys(files)) {
        const line = lines.find((l) => l.includes(join(dir, name)));
        expect(line, line).toMatch(/^ok .*opset ai\.onnx:17, ir 8\)$/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it.skipIf(python)('skipped: no python3 with the onnx package (apt-get install python3-onnx, or set ZIPLM_PYTHON)', () => {});
});
