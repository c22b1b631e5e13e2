import { describe, expect, it } from 'vitest';
import { maxAbsDiff, median, medianAbsoluteDeviation, quantile, wilsonInterval } from '../src/index.js';

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

describe('wilsonInterval', () => {
  it('matches published values', () => {
    // Brown, Cai & DasGupta (2001) and R's prop.test(correct = FALSE): 81 of 263 → [0.2553, 0.3662].
    const [low, high] = wilsonInterval(81, 263);
    expect(low).toBeCloseTo(0.2553, 4);
    expect(high).toBeCloseTo(0.3662, 4);
    // SST-2 dev: 702 of 872 (80.5%) → about ±2.6 points.
    const [a, b] = wilsonInterval(702, 872);
    expect(a).toBeCloseTo(0.7774, 4);
    expect(b).toBeCloseTo(0.83, 4);
  });

  it('stays inside [0, 1] and never collapses at 0 or n', () => {
    const [l0, h0] = wilsonInterval(0, 10);
    expect(l0).toBe(0);
    expect(h0).toBeCloseTo(0.2775, 4);
    const [ln, hn] = wilsonInterval(10, 10);
    expect(ln).toBeCloseTo(0.7225, 4);
    expect(hn).toBe(1);
    for (let k = 0; k <= 7; k++) {
      const [l, h] = wilsonInterval(k, 7);
      expect(l).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThanOrEqual(1);
      expect(l).toBeLessThanOrEqual(k / 7);
      expect(h).toBeGreaterThanOrEqual(k / 7);
    }
  });

  it('narrows with more items and widens with z', () => {
    const width = ([l, h]: [number, number]) => h - l;
    expect(width(wilsonInterval(800, 1000))).toBeLessThan(width(wilsonInterval(80, 100)));
    expect(width(wilsonInterval(80, 100, 2.576))).toBeGreaterThan(width(wilsonInterval(80, 100)));
  });

  it('refuses counts that are not a proportion', () => {
    expect(() => wilsonInterval(1, 0)).toThrow(RangeError);
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(5, 10, 0)).toThrow(RangeError);
  });
});
