// The bag-of-words baseline: it learns a task that word identity decides, and stays at chance on one
// that only word order decides (the word-order testbed's premise).
import { describe, expect, it } from 'vitest';
import { trainBagOfWordsBaseline } from '../src/baselines.js';
import type { TrainingExample } from '../src/batching.js';
import { TrainingConfigError } from '../src/errors.js';

/** Deterministic pseudo-random ids in [2, vocab). */
function stream(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function examples(n: number, seed: number, rule: 'word' | 'order'): TrainingExample[] {
  const next = stream(seed);
  return Array.from({ length: n }, () => {
    const ids = [0, ...Array.from({ length: 8 }, () => 4 + Math.floor(next() * 40)), 1];
    const label = next() < 0.5 ? 0 : 1;
    if (rule === 'word')
      ids[3] = label === 1 ? 2 : 3; // a word that gives the label away
    else if (label === 1) [ids[3], ids[4]] = [ids[4]!, ids[3]!]; // only the order differs
    return { inputIds: ids, label };
  });
}

describe('trainBagOfWordsBaseline', () => {
  it('learns a label that one word decides', () => {
    const r = trainBagOfWordsBaseline(examples(2000, 1, 'word'), examples(300, 2, 'word'), examples(500, 3, 'word'), {
      vocabSize: 50,
      ignoreIds: [0, 1],
    });
    expect(r.accuracy).toBeGreaterThan(0.95);
    expect(r.validationAccuracy).toBeGreaterThan(0.95);
  });

  it('stays at chance when only word order decides the label', () => {
    const r = trainBagOfWordsBaseline(examples(2000, 4, 'order'), examples(300, 5, 'order'), examples(2000, 6, 'order'), {
      vocabSize: 50,
      ignoreIds: [0, 1],
    });
    expect(Math.abs(r.accuracy - 0.5)).toBeLessThan(0.05);
  });

  it('is deterministic for a seed and rejects ids outside the vocabulary', () => {
    const train = examples(500, 7, 'word');
    const a = trainBagOfWordsBaseline(train, train, train, { vocabSize: 50, seed: 3 });
    expect(trainBagOfWordsBaseline(train, train, train, { vocabSize: 50, seed: 3 })).toEqual(a);
    expect(() => trainBagOfWordsBaseline(train, train, train, { vocabSize: 10 })).toThrow(TrainingConfigError);
  });
});
