import { describe, expect, it } from 'vitest';
import { gatherInt32, padBatch } from '../src/data/index.js';

// Which examples form a batch is planned by @ziplm/distill's planEpoch (its tests cover the plan); this
// package pads the planned batches. The seeded generator's tests are in @ziplm/core.

describe('padBatch', () => {
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
    const plan = [[2, 0], [1]];
    const batches = plan.map((indices) =>
      padBatch(
        indices.map((i) => items[i]!),
        { padId: 0 },
        indices,
      ),
    );
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
