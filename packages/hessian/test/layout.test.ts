import { describe, expect, it } from 'vitest';
import { ShapeError, conv1dToLinear, linearToConv1d } from '../src/index.js';

describe('Conv1D layout helpers', () => {
  it('transposes [in, out] to [out, in] and back, keeping the element type', () => {
    const inF = 37;
    const outF = 70;
    const conv = Float32Array.from({ length: inF * outF }, (_, i) => i);
    const linear = conv1dToLinear(conv, inF, outF);
    expect(linear).toBeInstanceOf(Float32Array);
    // Conv1D y = x·W: W[i][o]; linear y = W'·x: W'[o][i].
    expect(linear[5 * inF + 3]).toBe(conv[3 * outF + 5]);
    expect(linearToConv1d(linear, outF, inF)).toEqual(conv);
    expect(conv1dToLinear(new Float64Array(6), 2, 3)).toBeInstanceOf(Float64Array);
    expect(() => conv1dToLinear(new Float32Array(5), 2, 3)).toThrow(ShapeError);
  });
});
