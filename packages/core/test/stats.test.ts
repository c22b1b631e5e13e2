import { describe, expect, it } from 'vitest';
import { maxAbsDiff, median, medianAbsoluteDeviation, quantile } from '../src/index.js';

describe('median and quantile', () => {
  it('interpolate linearly between order statistics', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median(new Float32Array([10, -1]))).toBe(4.5);
    expect(quantile([0, 10, 20, 30, 40], 0.25)).toBe(10);
    expect(quantile([0, 10], 0.3)).toBeCloseTo(3, 12);
    expect(quantile([5, 1, 9], 0)).toBe(1);
    expect(quantile([5, 1, 9], 1)).toBe(9);
  });

  it('sort numerically and leave the input alone', () => {
    const values = [10, 9, 100, 1];
    expect(median(values)).toBe(9.5);
    expect(values).toEqual([10, 9, 100, 1]);
  });

  it('are NaN for an empty sample', () => {
    expect(median([])).toBeNaN();
    expect(quantile([], 0.9)).toBeNaN();
  });
});

describe('medianAbsoluteDeviation', () => {
  it('ignores a minority of outliers', () => {
    expect(medianAbsoluteDeviation([1, 2, 3, 4, 100])).toBe(1);
    expect(medianAbsoluteDeviation([5, 5, 5])).toBe(0);
  });
});

describe('maxAbsDiff', () => {
  it('is the largest absolute difference, NaN when a value is NaN', () => {
    expect(maxAbsDiff([1, 2, 3], new Float32Array([1, 2.5, 2]))).toBe(1);
    expect(maxAbsDiff([], [])).toBe(0);
    expect(maxAbsDiff([Number.NaN, 1], [0, 1])).toBeNaN();
    expect(maxAbsDiff([1, Number.NaN], [1, 1])).toBeNaN();
  });

  it('refuses arrays of different lengths', () => {
    expect(() => maxAbsDiff([1, 2], [1])).toThrow(RangeError);
  });
});
