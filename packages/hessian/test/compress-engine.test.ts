// GPTQ and SparseGPT with @ziplm/onnx's onnxruntime engine injected against the default plain-TypeScript engine
// (see ort-engine.test.ts for why this lives here). Both run the same float64 algorithm, with GEMMs that round
// differently, so the weights before rounding agree to ~1e-12 relative: an integer differs only where a weight
// lies within that distance of a rounding boundary, and a mask only where two saliencies tie to that precision.
// On these layers none does: the integers and masks are identical.
import { createOrtMatMulEngine, type OrtMatMulEngine } from '@ziplm/onnx/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantizeGptq } from '../src/quantize.js';
import { sparsifyObs } from '../src/sparsify.js';
import { relativeMaxDiff } from './helpers/oracle.js';
import { correlatedTokens, hessianOf, randomMatrix } from './helpers/random.js';

let ort: OrtMatMulEngine;
beforeAll(async () => {
  ort = await createOrtMatMulEngine({ threads: 1 });
});
afterAll(async () => {
  await ort?.dispose();
});

// 48 × 320: three full GPTQ blocks of 128 columns and a partial one (lazy updates through the engine), and a
// blocked Cholesky of H with more than one 256-block.
const rows = 48;
const cols = 320;
const x = correlatedTokens(640, cols, 5, 0.3, 'banded');
const h = hessianOf(x, 640, cols);
const w = Float32Array.from(randomMatrix(rows, cols, 6, 0.1));

describe('GPTQ and SparseGPT with the onnxruntime engine', () => {
  it('GPTQ gives the same integers and scales as the default engine', async () => {
    for (const options of [{}, { actOrder: true, groupSize: 64 }]) {
      const js = await quantizeGptq(w, rows, cols, h, options);
      const onnx = await quantizeGptq(w, rows, cols, h, { ...options, engine: ort });
      expect([...onnx.q]).toEqual([...js.q]);
      expect([...onnx.scales]).toEqual([...js.scales]);
      expect(Math.abs(onnx.error - js.error) / js.error).toBeLessThan(1e-9);
    }
  });

  it('SparseGPT (with the refit) gives the same mask and weights to float32 rounding', async () => {
    for (const sparsity of [0.5, 0.8]) {
      const js = await sparsifyObs(w, rows, cols, h, { sparsity });
      const onnx = await sparsifyObs(w, rows, cols, h, { sparsity, engine: ort });
      expect([...onnx.mask]).toEqual([...js.mask]);
      expect(relativeMaxDiff(onnx.weights, js.weights)).toBeLessThan(1e-6);
      expect(Math.abs(onnx.error - js.error) / js.error).toBeLessThan(1e-6);
    }
  });
});
