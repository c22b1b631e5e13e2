import { describe, expect, it } from 'vitest';
import { transpose, transposed } from '../src/index.js';

function naiveTranspose(src: ArrayLike<number>, rows: number, cols: number): number[] {
  const out = new Array<number>(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
  return out;
}

function counting(length: number): Float64Array {
  return Float64Array.from({ length }, (_, i) => i * 0.5 - 7);
}

describe('transpose', () => {
  // Sizes around the 32-element tile: inside one tile, exactly one, partial edge tiles, a vector.
  const shapes: Array<[number, number]> = [
    [1, 1],
    [3, 5],
    [32, 32],
    [33, 31],
    [70, 45],
    [1, 100],
    [100, 1],
    [64, 96],
  ];

  it.each(shapes)('matches a naive transpose for %i×%i (float64 and float32)', (rows, cols) => {
    const src = counting(rows * cols);
    expect([...transpose(src, rows, cols, new Float64Array(rows * cols))]).toEqual(naiveTranspose(src, rows, cols));
    const src32 = Float32Array.from(src);
    expect([...transposed(src32, rows, cols)]).toEqual(naiveTranspose(src32, rows, cols));
    // float32 in, float64 out: widened exactly.
    expect([...transpose(src32, rows, cols, new Float64Array(rows * cols))]).toEqual(naiveTranspose(src32, rows, cols));
  });

  it('reads a block of a wider matrix and writes into a block of a wider one', () => {
    // src: a 3×4 block at row 1, column 2 of a 5×7 matrix; dst: columns 1..3 of a 4×6 matrix.
    const wide = counting(5 * 7);
    const dst = new Float64Array(4 * 6).fill(Number.NaN);
    transpose(wide, 3, 4, dst, { srcOffset: 1 * 7 + 2, srcStride: 7, dstOffset: 1, dstStride: 6 });
    for (let c = 0; c < 4; c++) {
      for (let j = 0; j < 6; j++) {
        if (j >= 1 && j < 4) expect(dst[c * 6 + j]).toBe(wide[(1 + j - 1) * 7 + 2 + c]);
        else expect(dst[c * 6 + j]).toBeNaN();
      }
    }
  });

  it('concatenates transposed blocks side by side (the fused QKV layout)', () => {
    const a = counting(2 * 3);
    const b = counting(4 * 3).map((x) => x + 100);
    const fused = new Float32Array(3 * 6);
    transpose(a, 2, 3, fused, { dstStride: 6, dstOffset: 0 });
    transpose(b, 4, 3, fused, { dstStride: 6, dstOffset: 2 });
    const at = naiveTranspose(a, 2, 3);
    const bt = naiveTranspose(b, 4, 3);
    for (let r = 0; r < 3; r++)
      expect([...fused.subarray(r * 6, r * 6 + 6)]).toEqual([...at.slice(r * 2, r * 2 + 2), ...bt.slice(r * 4, r * 4 + 4)]);
  });

  it('rejects shapes, strides and offsets that do not fit the arrays', () => {
    const src = new Float64Array(12);
    expect(() => transpose(src, 3, 5, new Float64Array(15))).toThrow(RangeError);
    expect(() => transpose(src, 3, 4, new Float64Array(11))).toThrow(RangeError);
    expect(() => transpose(src, 3, 4, new Float64Array(12), { srcStride: 3 })).toThrow(/srcStride/);
    expect(() => transpose(src, 3, 4, new Float64Array(12), { dstOffset: 1 })).toThrow(RangeError);
    expect(() => transpose(src, -1, 4, new Float64Array(12))).toThrow(/rows/);
    expect(() => transpose(src, 2.5, 4, new Float64Array(12))).toThrow(/rows/);
    expect(() => transposed(new Float32Array(5), 2, 3)).toThrow(RangeError);
  });

  it('accepts empty matrices', () => {
    expect(transposed(new Float64Array(0), 0, 5)).toEqual(new Float64Array(0));
    expect(transpose(new Float32Array(0), 4, 0, new Float32Array(0))).toEqual(new Float32Array(0));
  });
});
