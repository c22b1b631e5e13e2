// weightStorage: parameters, zeros and bytes of a checkpoint whose quantizable weights are zeroed to a
// known fraction, checked against the arithmetic of each format.

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { exportModelToOnnx, type Int8Weight, OnnxExportError, quantizableLinears } from '../src/onnx/index.js';
import { randomCheckpoint } from '../src/random.js';
import { weightStorage } from '../src/storage.js';
import type { Checkpoint, WeightMap } from '../src/weights.js';
import { tinyBertConfig, tinyGpt2Config } from './helpers.js';

/** The checkpoint with every k-th value of each quantizable weight kept and the others set to 0 (exactly 1 − 1/k sparse when k divides the size). */
function sparsified(checkpoint: Checkpoint, keepEvery: number): Checkpoint {
  const weights: WeightMap = new Map(checkpoint.weights);
  for (const l of quantizableLinears(checkpoint.config)) {
    const data = checkpoint.weights.get(l.weight)!.data.map((v, i) => (i % keepEvery === 0 ? v : 0));
    weights.set(l.weight, { shape: checkpoint.weights.get(l.weight)!.shape, data });
  }
  return { config: checkpoint.config, weights };
}

describe('weightStorage', () => {
  for (const dense of [randomCheckpoint(tinyBertConfig(), { seed: 1 }), randomCheckpoint(tinyGpt2Config(), { seed: 1 })]) {
    const type = dense.config.modelType;
    it(`${type}: counts a known 80% sparsity and the bytes of each format`, () => {
      const checkpoint = sparsified(dense, 5);
      const linears = quantizableLinears(checkpoint.config);
      const params = linears.reduce((s, l) => s + l.rows * l.cols, 0);
      const kept = linears.reduce((s, l) => s + Math.ceil((l.rows * l.cols) / 5), 0);
      const scales = linears.reduce((s, l) => s + l.rows, 0);
      const masks = linears.reduce((s, l) => s + Math.ceil((l.rows * l.cols) / 8), 0);
      const { quantizable, checkpoint: whole } = weightStorage(checkpoint);
      expect(quantizable.parameters).toBe(params);
      expect(quantizable.zeros).toBe(params - kept);
      expect(quantizable.sparsity).toBeCloseTo(0.8, 1);
      expect(quantizable.denseFp32Bytes).toBe(4 * params);
      expect(quantizable.denseInt8Bytes).toBe(params + 4 * scales);
      expect(quantizable.sparseFp32Bytes).toBe(masks + 4 * kept);
      // Round-to-nearest may round small kept weights to 0 as well, never a zero to nonzero.
      expect(quantizable.int8Zeros).toBeGreaterThanOrEqual(quantizable.zeros);
      expect(quantizable.sparseInt8Bytes).toBe(masks + (params - quantizable.int8Zeros) + 4 * scales);
      // The whole checkpoint adds every other tensor dense fp32 in each format.
      let restParams = 0;
      for (const [name, t] of checkpoint.weights) if (!linears.some((l) => l.weight === name)) restParams += t.data.length;
      expect(whole.parameters).toBe(params + restParams);
      expect(whole.denseFp32Bytes).toBe(4 * whole.parameters);
      expect(whole.denseInt8Bytes).toBe(quantizable.denseInt8Bytes + 4 * restParams);
      expect(whole.sparseInt8Bytes).toBe(quantizable.sparseInt8Bytes + 4 * restParams);
      expect(whole.sparsity).toBeLessThan(quantizable.sparsity);
    });

    it(`${type}: uses the given INT8 weights, and rejects one that does not fit`, () => {
      const l = quantizableLinears(dense.config)[0]!;
      const allZero: Int8Weight = { q: new Int8Array(l.rows * l.cols), scales: new Float32Array(l.rows).fill(1) };
      const base = weightStorage(dense);
      const given = weightStorage(dense, new Map([[l.weight, allZero]]));
      // Every value of that linear is now a zero: the others' zeros are unchanged, and each new zero saves its byte.
      const newZeros = given.quantizable.int8Zeros - base.quantizable.int8Zeros;
      expect(newZeros).toBeGreaterThan(0);
      expect(newZeros).toBeLessThanOrEqual(l.rows * l.cols);
      expect(base.quantizable.sparseInt8Bytes - given.quantizable.sparseInt8Bytes).toBe(newZeros);
      expect(given.quantizable.zeros).toBe(base.quantizable.zeros); // fp32 zeros are the checkpoint's
      expect(() => weightStorage(dense, new Map([[l.weight, { q: new Int8Array(3), scales: new Float32Array(l.rows) }]]))).toThrow(
        OnnxExportError,
      );
    });
  }

  it('sparsity shrinks the gzipped INT8 ONNX file (the "size after compression" a caller measures)', () => {
    const dense = randomCheckpoint(tinyBertConfig(), { seed: 2 });
    const gz = (c: Checkpoint) => gzipSync(exportModelToOnnx(c, { quantize: { activations: 'dynamic' } }), { level: 9 }).length;
    const sparse = sparsified(dense, 5);
    // The zeroed int8 values were nearly incompressible (random); at least half their bytes must go.
    const zeroed = weightStorage(sparse).quantizable.int8Zeros - weightStorage(dense).quantizable.int8Zeros;
    expect(gz(dense) - gz(sparse)).toBeGreaterThan(zeroed / 2);
  });
});
