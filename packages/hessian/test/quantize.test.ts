// GPTQ and round-to-nearest INT8 on small random layers with correlated inputs: GPTQ's output error
// tr(ΔW H ΔWᵀ) is never above RTN's, one column is plain rounding, the reported error is the error on the
// data, and the blocked, Cholesky-based implementation equals a straightforward sequential OBS
// quantization written here (one column at a time, with the rank-one downdate of H⁻¹).

import { describe, expect, it } from 'vitest';
import { ShapeError } from '../src/errors.js';
import { INT8_MAX, quantizeGptq, quantizeRtn } from '../src/quantize.js';
import { sparsifyObs } from '../src/sparsify.js';
import { hessianOf, sequentialObs } from './helpers/oracle.js';
import { correlatedTokens, randomMatrix } from './helpers/random.js';

function layer(rows: number, cols: number, tokens: number, seed: number) {
  const x = correlatedTokens(tokens, cols, seed);
  return { w: Float32Array.from(randomMatrix(rows, cols, seed + 1, 0.2)), x, h: hessianOf(x, tokens, cols) };
}

/**
 * Sequential OBS quantization with the per-row symmetric scales of the original weights (of the kept ones, with a
 * mask; pruned weights are fixed to 0).
 */
function referenceOrder(w: Float32Array, rows: number, cols: number, h: Float64Array, damp: number, mask?: Uint8Array): Int8Array {
  const scales = Array.from({ length: rows }, (_, r) => {
    let m = 0;
    for (let c = 0; c < cols; c++) if (mask === undefined || mask[r * cols + c]) m = Math.max(m, Math.abs(w[r * cols + c]!));
    return Math.fround(m / INT8_MAX);
  });
  const q = new Int8Array(rows * cols);
  sequentialObs(
    w,
    rows,
    cols,
    h,
    damp,
    (r, i, current) => {
      const v = Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.round(current / scales[r]!)));
      q[r * cols + i] = v;
      return v * scales[r]!;
    },
    mask,
  );
  return q;
}

describe('INT8 quantization with the layer Hessian', () => {
  it('GPTQ never has a larger output error than round-to-nearest', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { w, h } = layer(12, 24, 96, seed * 17);
      for (const options of [{}, { groupSize: 8 }, { actOrder: true }, { actOrder: true, groupSize: 6, blockSize: 5 }]) {
        const gptq = await quantizeGptq(w, 12, 24, h, options);
        const rtn = quantizeRtn(w, 12, 24, h, options);
        expect(gptq.error, `seed ${seed} ${JSON.stringify(options)}`).toBeLessThanOrEqual(rtn.error * (1 + 1e-12));
        expect(gptq.error).toBeGreaterThan(0);
      }
    }
  });

  it('is plain rounding for a single column', async () => {
    const { w, h } = layer(9, 1, 40, 5);
    const gptq = await quantizeGptq(w, 9, 1, h);
    const rtn = quantizeRtn(w, 9, 1, h);
    expect([...gptq.q]).toEqual([...rtn.q]);
    expect([...gptq.scales]).toEqual([...rtn.scales]);
    expect(gptq.error).toBe(rtn.error);
  });

  it('reports the output error on the calibration data, (2/n)·‖ΔW X‖²', async () => {
    const rows = 6;
    const cols = 10;
    const tokens = 50;
    const { w, x, h } = layer(rows, cols, tokens, 31);
    const result = await quantizeGptq(w, rows, cols, h, { groupSize: 5 });
    let fromData = 0;
    for (let t = 0; t < tokens; t++) {
      for (let r = 0; r < rows; r++) {
        let y = 0;
        for (let c = 0; c < cols; c++) y += (w[r * cols + c]! - result.dequantized[r * cols + c]!) * x[t * cols + c]!;
        fromData += y * y;
      }
    }
    expect(result.error).toBeCloseTo((2 * fromData) / tokens, 10);
    // The integers and scales give the dequantized weights, within the grid.
    for (let i = 0; i < rows * cols; i++) {
      expect(Math.abs(result.q[i]!)).toBeLessThanOrEqual(INT8_MAX);
      const scale = result.scales[Math.floor(i / cols) * 2 + Math.floor((i % cols) / 5)]!;
      expect(result.dequantized[i]).toBeCloseTo(result.q[i]! * scale, 6);
    }
  });

  it('equals a straightforward sequential OBS quantization, whatever the block size', async () => {
    for (const seed of [3, 4]) {
      const { w, h } = layer(5, 7, 30, seed);
      const reference = referenceOrder(w, 5, 7, h, 0.01);
      for (const blockSize of [1, 3, 128]) expect([...(await quantizeGptq(w, 5, 7, h, { blockSize })).q]).toEqual([...reference]);
    }
  });

  it('keeps masked weights at exactly 0 and equals the sequential OBS oracle with the mask, whatever the block size', async () => {
    for (const seed of [3, 4]) {
      const { w, h } = layer(5, 9, 40, seed);
      // A dense layer and an arbitrary mask: the pruned weights are non-zero, so the scales must ignore them.
      const mask = Uint8Array.from({ length: 45 }, (_, i) => ((i * 7 + seed) % 3 === 0 ? 0 : 1));
      const reference = referenceOrder(w, 5, 9, h, 0.01, mask);
      for (const blockSize of [1, 3, 128]) {
        const result = await quantizeGptq(w, 5, 9, h, { blockSize, mask });
        expect([...result.q]).toEqual([...reference]);
        for (let i = 0; i < 45; i++) if (!mask[i]) expect(Object.is(result.dequantized[i], 0)).toBe(true);
      }
    }
  });

  it('quantizes a SparseGPT layer to INT8 with its zeros kept, below round-to-nearest', async () => {
    // Sparsity, then INT8 (the compound pipeline): GPTQ with the mask against RTN of the same sparse weights, whose
    // zeros round to 0 as well.
    let gptqTotal = 0;
    let rtnTotal = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const { w, h } = layer(12, 32, 128, seed * 13);
      const sparse = await sparsifyObs(w, 12, 32, h, { sparsity: 0.5, blockSize: 16 });
      const gptq = await quantizeGptq(sparse.weights, 12, 32, h, { mask: sparse.mask });
      const rtn = quantizeRtn(sparse.weights, 12, 32, h);
      for (let i = 0; i < sparse.mask.length; i++) if (!sparse.mask[i]) expect(gptq.q[i]).toBe(0);
      expect(gptq.error, `seed ${seed}`).toBeLessThanOrEqual(rtn.error * (1 + 1e-12));
      gptqTotal += gptq.error;
      rtnTotal += rtn.error;
    }
    expect(gptqTotal).toBeLessThan(rtnTotal);
  });

  it('quantizes a dead input to 0 and refuses shapes that do not fit', async () => {
    const { w, h } = layer(4, 6, 30, 9);
    for (let j = 0; j < 6; j++) {
      h[2 * 6 + j] = 0;
      h[j * 6 + 2] = 0;
    }
    const result = await quantizeGptq(w, 4, 6, h);
    for (let r = 0; r < 4; r++) expect(result.q[r * 6 + 2]).toBe(0);
    await expect(quantizeGptq(w, 4, 6, h, { groupSize: 4 })).rejects.toThrow(
      /groupSize must be a positive integer that divides cols \(6\)/,
    );
    await expect(quantizeGptq(w, 4, 5, h)).rejects.toThrow(/weights hold 24 values/);
    await expect(quantizeGptq(w, 4, 6, h, { mask: new Uint8Array(23) })).rejects.toThrow(ShapeError);
  });
});
