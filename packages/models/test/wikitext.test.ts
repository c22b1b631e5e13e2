import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { chunkTokenIds, dataPath, hasData, perplexity, readWikiText } from '../src/data/index.js';
import { predictedTokenCount } from '../src/data/wikitext.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/data/${name}`, import.meta.url));

describe('WikiText reader and perplexity chunks', () => {
  it('reads a raw file as one string', () => {
    const text = readWikiText(fixture('wiki-small.raw'));
    expect(text.startsWith(' \n = Test Article = \n')).toBe(true);
    expect(text.split('\n')).toHaveLength(9);
    expect(() => readWikiText(fixture('empty.tsv'))).toThrow(DataError);
    expect(() => readWikiText(fixture('nope.raw'))).toThrow(/nope\.raw: file not found/);
  });

  it('cuts ids into non-overlapping fixed-length chunks', () => {
    const ids = Array.from({ length: 10 }, (_, i) => i);
    const chunks = chunkTokenIds(ids, 4);
    expect(chunks.map((c) => [...c])).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(chunkTokenIds(ids, 4, { keepRemainder: true }).map((c) => [...c])).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(chunkTokenIds(ids, 3, { keepRemainder: true }).map((c) => c.length)).toEqual([3, 3, 3]); // a 1-token rest predicts nothing
    expect(chunkTokenIds(ids, 2, { maxChunks: 2 })).toHaveLength(2);
    expect(predictedTokenCount(chunks)).toBe(6);
    expect(() => chunkTokenIds(ids, 1)).toThrow(RangeError);
  });

  it('computes perplexity as exp(mean NLL)', () => {
    expect(perplexity(Math.log(10) * 7, 7)).toBeCloseTo(10, 12);
    expect(perplexity(0, 5)).toBe(1);
    // Uniform over a 50257-token vocabulary.
    expect(perplexity(Math.log(50257) * 3, 3)).toBeCloseTo(50257, 6);
    expect(() => perplexity(1, 0)).toThrow(RangeError);
    expect(() => perplexity(Number.NaN, 3)).toThrow(RangeError);
  });
});

describe.skipIf(!hasData('wikitext-2-raw/wiki.test.raw'))('wiki.test.raw (real file)', () => {
  it('is read whole with LF line endings', () => {
    const text = readWikiText(dataPath('wikitext-2-raw/wiki.test.raw'));
    expect(text.length).toBe(1285622);
    expect(text.includes('\r')).toBe(false);
    expect(text.startsWith(' = Robert Boulter = \n')).toBe(true);
  });
});
