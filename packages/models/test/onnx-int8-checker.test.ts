// The INT8 graphs (dynamic and static, whole models and blocks, BERT and GPT2) pass the reference ONNX
// checker, as onnx-checker.test.ts checks the fp32 ones: runs scripts/onnx-check.py when a python3 with
// the onnx package is available (Debian: apt-get install python3-onnx; or set ZIPLM_PYTHON), skips otherwise.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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

function pythonWithOnnx(): string | undefined {
  for (const py of [process.env.ZIPLM_PYTHON, 'python3', '/usr/bin/python3']) {
    if (!py) continue;
    if (spawnSync(py, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

const python = pythonWithOnnx();

describe('onnx.checker on the INT8 exports (scripts/onnx-check.py)', () => {
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
