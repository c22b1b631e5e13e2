// GPTQ and round-to-nearest INT8 on small random layers with correlated inputs: GPTQ's output error
// tr(ΔW H ΔWᵀ) is never above RTN's, one column is plain rounding, the reported error is the error on the
// data, and the blocked, Cholesky-based implementation equals a straightforward sequential OBS
// quantization written here (one column at a time, with the rank-one downdate of H⁻¹).

import { describe, expect, it } from 'vitest';
import { INT8_MAX, quantizeGptq, quantizeRtn } from '../src/quantize.js';
import { hessianOf, sequentialObs } from './helpers/oracle.js';
import { correlatedTokens, randomMatrix } from './helpers/random.js';

function layer(rows: number, cols: number, tokens: number, seed: number) {
  const x = correlatedTokens(tokens, cols, seed);
  return { w: Float32Array.from(randomMatrix(rows, cols, seed + 1, 0.2)), x, h: hessianOf(x, tokens, cols) };
}

/** Sequential OBS quantization with the per-row symmetric scales of the original weights. */
function referenceOrder(w: Float32Array, rows: number, cols: number, h: Float64Array, damp: number): Int8Array {
  const scales = Array.from({ length: rows }, (_, r) => {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]!));
    return Math.fround(m / INT8_MAX);
  });
  const q = new Int8Array(rows * cols);
  sequentialObs(w, rows, cols, h, damp, (r, i, current) => {
    const v = Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.round(current / scales[r]!)));
    q[r * cols + i] = v;
    return v * scales[r]!;
  });
  return q;
}

describe('INT8 quantization with the layer Hessian', () => {
  it('GPTQ never has a larger output error than round-to-nearest', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { w, h } = layer(12, 24, 96, seed * 17);
      for (const options of [{}, { groupSize: 8 }, { actOrder: true }, { actOrder: true, groupSize: 6, blockSize: 5 }]) {
        const gptq = quantizeGptq(w, 12, 24, h, options);
        const rtn = quantizeRtn(w, 12, 24, h, options);
        expect(gptq.error, `seed ${seed} ${JSON.stringify(options)}`).toBeLessThanOrEqual(rtn.error * (1 + 1e-12));
        expect(gptq.error).toBeGreaterThan(0);
      }
    }
  });

  it('is plain rounding for a single column', () => {
    const { w, h } = layer(9, 1, 40, 5);
    const gptq = quantizeGptq(w, 9, 1, h);
    const rtn = quantizeRtn(w, 9, 1, h);
    expect([...gptq.q]).toEqual([...rtn.q]);
    expect([...gptq.scales]).toEqual([...rtn.scales]);
    expect(gptq.error).toBe(rtn.error);
  });

  it('reports the output error on the calibration data, (2/n)·‖ΔW X‖²', () => {
    const rows = 6;
    const cols = 10;
    const tokens = 50;
    const { w, x, h } = layer(rows, cols, tokens, 31);
    const result = quantizeGptq(w, rows, cols, h, { groupSize: 5 });
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

  it('equals a straightforward sequential OBS quantization, whatever the block size', () => {
    for (const seed of [3, 4]) {
      const { w, h } = layer(5, 7, 30, seed);
      const reference = referenceOrder(w, 5, 7, h, 0.01);
      for (const blockSize of [1, 3, 128]) expect([...quantizeGptq(w, 5, 7, h, { blockSize }).q]).toEqual([...reference]);
    }
  });

  it('quantizes a dead input to 0 and refuses shapes that do not fit', () => {
    const { w, h } = layer(4, 6, 30, 9);
    for (let j = 0; j < 6; j++) {
      h[2 * 6 + j] = 0;
      h[j * 6 + 2] = 0;
    }
    const result = quantizeGptq(w, 4, 6, h);
    for (let r = 0; r < 4; r++) expect(result.q[r * 6 + 2]).toBe(0);
    expect(() => quantizeGptq(w, 4, 6, h, { groupSize: 4 })).toThrow(/groupSize must be a positive integer that divides cols \(6\)/);
    expect(() => quantizeGptq(w, 4, 5, h)).toThrow(/weights hold 24 values/);
  });
});
