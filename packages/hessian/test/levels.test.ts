import { describe, expect, it } from 'vitest';
import { HessianError, LevelError, attentionLevels, ffnLevels } from '../src/index.js';

// guide/structured-obs.md (the level grid): the 44 kept sizes of the reference grid for fcdim 3072.
const KEPT_3072 = [
  3072, 2765, 2488, 2239, 2016, 1814, 1633, 1469, 1322, 1190, 1071, 964, 868, 781, 703, 632, 569, 512, 461, 415, 373, 336, 303, 272, 245,
  221, 198, 179, 161, 145, 130, 117, 105, 95, 85, 77, 69, 62, 56, 50, 45, 41, 37, 33,
];
// Same grid for BERT-large's 4096, generated with the reference Python loop (Python's round()).
const KEPT_4096 = [
  4096, 3686, 3318, 2986, 2687, 2419, 2177, 1959, 1763, 1587, 1428, 1285, 1157, 1041, 937, 843, 759, 683, 615, 553, 498, 448, 403, 363, 327,
  294, 265, 238, 214, 193, 174, 156, 141, 127, 114, 103, 92, 83, 75, 67, 61, 54, 49, 44,
];

describe('level grids', () => {
  it('reproduces the 44-level FFN grid of the reference, then 0', () => {
    expect(ffnLevels(3072)).toEqual([...KEPT_3072, 0]);
    expect(ffnLevels(4096)).toEqual([...KEPT_4096, 0]);
  });

  it('deduplicates small FFN grids and keeps them strictly descending', () => {
    for (const size of [512, 256, 64, 10, 1]) {
      const levels = ffnLevels(size);
      expect(levels[0]).toBe(size);
      expect(levels[levels.length - 1]).toBe(0);
      for (let i = 1; i < levels.length; i++) expect(levels[i]).toBeLessThan(levels[i - 1]!);
    }
    // Python: [256, 230, ..., 5, 5, 4, 4, 3, 3, 3] -> duplicates collapse.
    expect(ffnLevels(256).slice(-6)).toEqual([7, 6, 5, 4, 3, 0]);
    expect(ffnLevels(512).slice(-8)).toEqual([13, 12, 10, 9, 8, 7, 6, 0]);
    expect(ffnLevels(1)).toEqual([1, 0]);
  });

  it('lists every head count for attention', () => {
    expect(attentionLevels(12)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(attentionLevels(1)).toEqual([1, 0]);
  });

  it('steps by whole key/value groups for grouped-query attention, still counting query heads', () => {
    expect(attentionLevels(4, 2)).toEqual([4, 2, 0]);
    expect(attentionLevels(32, 4)).toEqual([32, 28, 24, 20, 16, 12, 8, 4, 0]);
    expect(attentionLevels(12, 1)).toEqual(attentionLevels(12));
    expect(() => attentionLevels(12, 5)).toThrow(/groupSize 5 must divide numHeads 12/);
    expect(() => attentionLevels(12, 0)).toThrow(/groupSize must be a positive integer/);
  });

  it('rejects sizes that are not positive integers', () => {
    expect(() => ffnLevels(0)).toThrow(LevelError);
    expect(() => ffnLevels(3.5)).toThrow(/ffnLevels: intermediateSize must be a positive integer, got 3.5/);
    expect(() => ffnLevels(Number.NaN)).toThrow(LevelError);
    expect(() => attentionLevels(-1)).toThrow(LevelError);
    expect(() => attentionLevels(2 ** 60)).toThrow(/attentionLevels: numHeads must be a positive integer/);
    // The package's base class, so callers can catch every @ziplm/hessian error at once.
    expect(() => attentionLevels(0)).toThrow(HessianError);
  });
});
