// The word-order corpus (original vs shuffled sentences): both classes have the same bag of words, labels are balanced
// and deterministic, and no held-out sentence (WikiText-2 held-out articles, SQuAD odd articles) is
// trained on. Small generated files; test/e2e/wordorder-corpus.test.ts checks the real corpus.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWordOrderCorpus, labelWordOrder, shuffleWords, splitSentences } from '../src/data/wordorder.js';
import { DataError } from '../src/errors.js';

const bag = (s: string) => s.toLowerCase().split(/\s+/).filter(Boolean).sort().join(' ');

function tinyFiles(): { sst2Train: string; wikitext: string; squad: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ziplm-wordorder-'));
  const sst2Rows = Array.from({ length: 150 }, (_, i) => `a gripping film number ${i} with a fine cast\t${i % 2}`);
  const sst2Train = join(dir, 'train.tsv');
  writeFileSync(sst2Train, `sentence\tlabel\n${sst2Rows.join('\n')}\n`);
  const articles: string[] = [];
  for (let k = 0; k < 20; k++) {
    articles.push(` = Article ${k} = `, '');
    const sentences = Array.from({ length: 10 }, (_, j) => `The river number ${j} of art${k} runs @-@ north into the sea .`);
    articles.push(` ${sentences.join(' ')} `, '');
  }
  const wikitext = join(dir, 'wiki.test.raw');
  writeFileSync(wikitext, articles.join('\n'));
  const data = Array.from({ length: 4 }, (_, a) => ({
    title: `Title ${a}`,
    paragraphs: Array.from({ length: 30 }, (_, p) => {
      const context = `Paragraph ${p} of tit${a} tells a story. It has a second sentence about tit${a} and ${p} here. A third tit${a} one ends it.`;
      return { context, qas: [{ id: `${a}-${p}`, question: 'What is it?', answers: [{ text: 'Paragraph', answer_start: 0 }] }] };
    }),
  }));
  const squad = join(dir, 'dev-v1.1.json');
  writeFileSync(squad, JSON.stringify({ version: '1.1', data }));
  return { sst2Train, wikitext, squad };
}

describe('shuffleWords', () => {
  it('reorders the words, keeps the bag of words, and never returns the original order', () => {
    const s = 'the cat sat on the mat';
    let state = 1;
    const random = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 4294967296;
    };
    for (let i = 0; i < 200; i++) {
      const shuffled = shuffleWords(s, random)!;
      expect(shuffled).not.toBe(s);
      expect(bag(shuffled)).toBe(bag(s));
    }
  });

  it('returns null when no order differs (case-insensitively: the tokenizers lowercase)', () => {
    expect(shuffleWords('no No no', () => 0.5)).toBeNull();
  });
});

describe('splitSentences', () => {
  it('splits at sentence ends followed by a capital, digit or quote', () => {
    expect(splitSentences('One two three. Four five! "Six" seven? 8 nine. lower case stays')).toEqual([
      'One two three.',
      'Four five!',
      '"Six" seven?',
      '8 nine. lower case stays',
    ]);
  });
});

describe('labelWordOrder', () => {
  it('is deterministic, roughly balanced, and keeps each bag of words', () => {
    const sentences = Array.from({ length: 2000 }, (_, i) => ({ text: `word ${i} and another word here`, source: 'sst2' as const }));
    const a = labelWordOrder(sentences, 7);
    expect(labelWordOrder(sentences, 7)).toEqual(a);
    expect(labelWordOrder(sentences, 8)).not.toEqual(a);
    const swapped = a.filter((e) => e.label === 1).length;
    expect(swapped).toBeGreaterThan(900);
    expect(swapped).toBeLessThan(1100);
    a.forEach((e, i) => {
      expect(bag(e.text)).toBe(bag(sentences[i]!.text));
      expect(e.text === sentences[i]!.text).toBe(e.label === 0);
    });
  });
});

describe('buildWordOrderCorpus', () => {
  it('holds out WikiText held-out articles and SQuAD odd articles, and trains on none of their sentences', () => {
    const files = tinyFiles();
    const corpus = buildWordOrderCorpus(files);
    expect(buildWordOrderCorpus(files)).toEqual(corpus);
    // 20 articles: 9 and 19 held out; SQuAD titles 1 and 3 held out (one-word markers survive shuffling).
    const heldoutText = corpus.heldout.map((e) => e.text).join('\n');
    expect(heldoutText).toMatch(/\bart9\b/);
    expect(heldoutText).toMatch(/\btit1\b/);
    expect(heldoutText).not.toMatch(/\bart([0-8]|1[0-8])\b/);
    expect(heldoutText).not.toMatch(/\btit[02]\b/);
    const train = [...corpus.train, ...corpus.validation].map((e) => e.text).join('\n');
    expect(train).not.toMatch(/\bart(9|19)\b/);
    expect(train).not.toMatch(/\btit[13]\b/);
    expect(train).toMatch(/\bgripping\b/);
    // WikiText's @-@ artefact is undone.
    expect(train).not.toContain('@-@');
    expect(corpus.counts.heldout.sst2).toBe(0);
    expect(corpus.validation.length).toBeGreaterThan(0);
    expect(corpus.validation.length).toBeLessThan(corpus.train.length / 10);
  });

  it('names the file when there are too few sentences', () => {
    const files = tinyFiles();
    writeFileSync(files.squad, JSON.stringify({ version: '1.1', data: [] }));
    writeFileSync(files.wikitext, Array.from({ length: 10 }, (_, k) => ` = A${k} = \n\n short . \n`).join('\n'));
    expect(() => buildWordOrderCorpus(files)).toThrow(DataError);
  });
});
