import { describe, expect, it } from 'vitest';
import { gatherInt32, makeBatches, padBatch, planBatches, seededRandom, shuffleInPlace } from '../src/data/index.js';

describe('seeded randomness', () => {
  it('is deterministic per seed and uniform-looking', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    const c = seededRandom(43);
    expect(Array.from({ length: 10 }, () => c())).not.toEqual(xs.slice(0, 10));
    expect(shuffleInPlace([1, 2, 3, 4, 5, 6, 7, 8], seededRandom(1)).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('planBatches', () => {
  const random = seededRandom(7);
  const lengths = Array.from({ length: 1000 }, () => 1 + Math.floor(random() * 128));

  it('uses every example exactly once, in full batches but the last', () => {
    const batches = planBatches(lengths, { batchSize: 16, seed: 3 });
    expect(batches.flat().sort((x, y) => x - y)).toEqual(lengths.map((_, i) => i));
    expect(batches.filter((b) => b.length !== 16)).toHaveLength(1);
    expect(planBatches(lengths, { batchSize: 16, seed: 3, dropLast: true }).every((b) => b.length === 16)).toBe(true);
  });

  it('is deterministic for a seed and changes with it', () => {
    const a = planBatches(lengths, { batchSize: 16, seed: 3 });
    expect(planBatches(lengths, { batchSize: 16, seed: 3 })).toEqual(a);
    expect(planBatches(lengths, { batchSize: 16, seed: 4 })).not.toEqual(a);
  });

  it('keeps file order without shuffle or bucketing', () => {
    expect(planBatches([5, 1, 4, 2, 3], { batchSize: 2, shuffle: false, bucketWindow: 1 })).toEqual([[0, 1], [2, 3], [4]]);
    // Bucketing alone sorts by length, longest first.
    expect(planBatches([5, 1, 4, 2, 3], { batchSize: 2, shuffle: false, bucketWindow: Infinity })).toEqual([[0, 2], [4, 3], [1]]);
  });

  it('saves padding by bucketing lengths', () => {
    const padded = (batches: number[][]) => batches.reduce((s, b) => s + b.length * Math.max(...b.map((i) => lengths[i]!)), 0);
    const real = lengths.reduce((s, x) => s + x, 0);
    const plain = padded(planBatches(lengths, { batchSize: 16, seed: 1, bucketWindow: 1 }));
    const bucketed = padded(planBatches(lengths, { batchSize: 16, seed: 1, bucketWindow: 50 }));
    expect(bucketed).toBeLessThan(plain * 0.7);
    expect(bucketed / real).toBeLessThan(1.1);
  });

  it('validates its options', () => {
    expect(() => planBatches(lengths, { batchSize: 0 })).toThrow(RangeError);
    expect(() => planBatches(lengths, { batchSize: 4, bucketWindow: 0 })).toThrow(RangeError);
  });
});

describe('padBatch / makeBatches', () => {
  const items = [
    { ids: [101, 7, 8, 102], typeIds: [0, 0, 0, 0] },
    { ids: [101, 9, 102, 10, 102], typeIds: [0, 0, 0, 1, 1] },
    { inputIds: [101, 102] },
  ];

  it('pads right with the pad id and builds masks and type ids', () => {
    const b = padBatch(items, { padId: 0 });
    expect([b.batchSize, b.seqLength]).toEqual([3, 5]);
    expect([...b.inputIds]).toEqual([101, 7, 8, 102, 0, 101, 9, 102, 10, 102, 101, 102, 0, 0, 0]);
    expect([...b.attentionMask]).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect([...b.tokenTypeIds]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    expect(b.indices).toEqual([0, 1, 2]);
    const gpt2 = padBatch([{ ids: [1, 2] }], { padId: 50256, seqLength: 4 });
    expect([...gpt2.inputIds]).toEqual([1, 2, 50256, 50256]);
    expect(padBatch(items, { padId: 0, padToMultipleOf: 8 }).seqLength).toBe(8);
    expect(() => padBatch(items, { padId: 0, seqLength: 4 })).toThrow(/more than seqLength/);
    expect(() => padBatch([{} as { ids?: number[] }], { padId: 0 })).toThrow(/neither/);
  });

  it('batches items with their indices and gathers labels', () => {
    const labels = [1, 0, 1];
    const batches = makeBatches(items, { batchSize: 2, padId: 0, seed: 5 });
    expect(batches.flatMap((b) => b.indices).sort()).toEqual([0, 1, 2]);
    for (const b of batches) {
      b.indices.forEach((i, r) => {
        const ids = items[i]!.ids ?? items[i]!.inputIds!;
        expect([...b.inputIds.subarray(r * b.seqLength, r * b.seqLength + ids.length)]).toEqual(ids);
      });
      expect([...gatherInt32(labels, b.indices)]).toEqual(b.indices.map((i) => labels[i]));
    }
  });
});
