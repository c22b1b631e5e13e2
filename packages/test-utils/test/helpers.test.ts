import { describe, expect, it } from 'vitest';
import { expectArraysClose, int64Tensor, maxAbsDiff, tinyBertOptions } from '../src/index.js';

describe('maxAbsDiff', () => {
  it('is the largest absolute difference, for flat and nested arrays', () => {
    expect(maxAbsDiff([1, 2, 3], new Float32Array([1, 2.5, 2]))).toBe(1);
    expect(
      maxAbsDiff(
        [
          [1, 2],
          [3, 4],
        ],
        [
          [1, 2],
          [3, 4.25],
        ],
      ),
    ).toBe(0.25);
    expect(maxAbsDiff([], [])).toBe(0);
  });

  it('is NaN when a value is NaN, so a tolerance check fails', () => {
    expect(maxAbsDiff([1, Number.NaN, 3], [1, 2, 3])).toBeNaN();
    expect(maxAbsDiff([Number.NaN, 5], [1, 2])).toBeNaN();
  });

  it('throws when the shapes differ', () => {
    expect(() => maxAbsDiff([1, 2], [1, 2, 3])).toThrow(/lengths differ/);
    expect(() => maxAbsDiff([[1], [2, 3]], [[1], [2]])).toThrow(/lengths differ/);
  });
});

describe('expectArraysClose', () => {
  it('passes within the tolerance (inclusive) and for equal infinities and NaNs', () => {
    expectArraysClose([1, 2, 3], [1.0005, 2, 2.999]);
    expectArraysClose(new Float64Array([0.5]), [0.75], 0.25);
    expectArraysClose([Number.POSITIVE_INFINITY, Number.NaN], [Number.POSITIVE_INFINITY, Number.NaN]);
    expectArraysClose([[1, 2], [3]], [1, 2, 3]);
  });

  it('names the first index that differs', () => {
    expect(() => expectArraysClose([1, 2, 3], [1, 2.01, 3])).toThrow(/index 1: actual 2, expected 2.01/);
    expect(() => expectArraysClose([Number.NaN], [0])).toThrow(/index 0/);
    expect(() => expectArraysClose([0], [Number.NaN])).toThrow(/index 0/);
    expect(() => expectArraysClose([1, 2], [1])).toThrow(/2 values, expected 1/);
  });
});

describe('tiny configs and int64 tensors', () => {
  it('returns fresh arrays on every call', () => {
    const a = tinyBertOptions();
    a.layerHeads[0] = 99;
    expect(tinyBertOptions().layerHeads[0]).toBe(4);
  });

  it('builds an int64 tensor from rows', () => {
    class FakeTensor {
      constructor(
        readonly type: 'int64',
        readonly data: BigInt64Array,
        readonly dims: readonly number[],
      ) {}
    }
    const t = int64Tensor({ Tensor: FakeTensor }, [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.dims).toEqual([2, 3]);
    expect([...t.data]).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    expect(() => int64Tensor({ Tensor: FakeTensor }, [[1], [2, 3]])).toThrow(/differ in length/);
  });
});
