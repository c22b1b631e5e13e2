// The real word-order corpus (read from $ZIPLM_DATA_DIR, skipped when absent): its size, and no held-out
// sentence among the training sentences.
import { describe, expect, it } from 'vitest';
import { dataPath, hasData } from '../../src/data/paths.js';
import { buildWordOrderCorpus } from '../../src/data/wordorder.js';

const haveData = hasData('glue/sst2/train.tsv', 'wikitext-2-raw/wiki.test.raw', 'squad/dev-v1.1.json');
if (!haveData) console.warn('wordorder-corpus.test.ts: ../shared/data (or $ZIPLM_DATA_DIR) absent; the real-corpus test is skipped');

describe.skipIf(!haveData)('the real word-order corpus', () => {
  it('has tens of thousands of training sentences and no held-out sentence among them', () => {
    const corpus = buildWordOrderCorpus({
      sst2Train: dataPath('glue', 'sst2', 'train.tsv'),
      wikitext: dataPath('wikitext-2-raw', 'wiki.test.raw'),
      squad: dataPath('squad', 'dev-v1.1.json'),
    });
    expect(corpus.train.length).toBeGreaterThan(40_000);
    expect(corpus.heldout.length).toBeGreaterThan(5_000);
    const original = (e: { text: string; label: number }) => e.label === 0;
    const trainOriginals = new Set([...corpus.train, ...corpus.validation].filter(original).map((e) => e.text));
    expect(corpus.heldout.filter(original).filter((e) => trainOriginals.has(e.text))).toEqual([]);
  });
});
