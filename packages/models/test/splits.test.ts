// The train / held-out split rules, one owner for the pipeline and the teacher recipes: QNLI rows,
// SQuAD articles, WikiText articles (k % 10 === 9 held out), including files that start with a blank line.
import { describe, expect, it } from 'vitest';
import { qnliDevSplit, squadDevSplit, wikiTextArticleSplit, wikiTextSplit, wordOrderValidationSplit } from '../src/data/splits.js';
import type { SquadExample } from '../src/data/squad.js';
import { splitWikiTextArticles } from '../src/data/wikitext.js';

/** A WikiText-style file of `n` articles with a section each; `lead` is written before the first heading. */
function wikiText(n: number, lead = ''): string {
  const lines: string[] = [];
  for (let k = 0; k < n; k++)
    lines.push(` = Article ${k} = `, '', ` Text of article ${k} . `, '', ' = = Section = = ', '', ` More of article ${k} . `, '');
  return lead + lines.join('\n');
}

describe('splitWikiTextArticles', () => {
  it('starts an article at every top-level heading only', () => {
    const text = ' = A = \n text a \n = = Section = = \n more a \n = B = \n text b \n';
    expect(splitWikiTextArticles(text)).toEqual([' = A = \n text a \n = = Section = = \n more a ', ' = B = \n text b \n']);
  });

  it('numbers the articles of a file that starts with blank lines like those of one that does not', () => {
    const plain = splitWikiTextArticles(wikiText(12));
    for (const lead of ['\n', ' \n', '\n \n\n']) expect(splitWikiTextArticles(wikiText(12, lead))).toEqual(plain);
    expect(plain).toHaveLength(12);
    expect(plain[9]!.startsWith(' = Article 9 = ')).toBe(true);
  });

  it('keeps other text before the first heading as an article of its own', () => {
    expect(splitWikiTextArticles('\n preface \n\n = A = \n a \n')).toEqual([' preface \n', ' = A = \n a \n']);
  });
});

describe('wikiTextArticleSplit', () => {
  it('holds out article k when k % 10 === 9, whatever blank lines lead the file', () => {
    for (const lead of ['', '\n', ' \n']) {
      const split = wikiTextArticleSplit(wikiText(25, lead));
      expect(split.articles).toBe(25);
      expect(split.heldout.map((a) => a.split('\n')[0])).toEqual([' = Article 9 = ', ' = Article 19 = ']);
      expect(split.train).toHaveLength(23);
      expect(wikiTextSplit(wikiText(25, lead), 'heldout')).toEqual(split.heldout);
      expect(wikiTextSplit(wikiText(25, lead), 'train')).toEqual(split.train);
    }
  });

  it('gives disjoint training and held-out articles that together are the whole file', () => {
    const text = wikiText(31, '\n');
    const { train, heldout } = wikiTextArticleSplit(text);
    const trainSet = new Set(train);
    expect(heldout.filter((a) => trainSet.has(a))).toEqual([]);
    expect([...train, ...heldout].sort()).toEqual(splitWikiTextArticles(text).sort());
    // The same text with and without its leading blank line holds out the same articles.
    expect(wikiTextArticleSplit(text.slice(1)).heldout).toEqual(heldout);
  });
});

describe('qnliDevSplit and squadDevSplit', () => {
  it('splits QNLI dev rows into even (train) and odd (held out)', () => {
    const rows = ['r0', 'r1', 'r2', 'r3', 'r4'];
    expect(qnliDevSplit(rows, 'train')).toEqual(['r0', 'r2', 'r4']);
    expect(qnliDevSplit(rows, 'heldout')).toEqual(['r1', 'r3']);
  });

  it('splits SQuAD dev questions by article: even-numbered articles train, odd-numbered ones held out', () => {
    const q = (id: string, title: string): SquadExample => ({ id, title, context: 'c', question: 'q', answers: [] });
    const examples = [q('a1', 'A'), q('b1', 'B'), q('a2', 'A'), q('c1', 'C'), q('d1', 'D'), q('b2', 'B')];
    expect(squadDevSplit(examples, 'train').map((e) => e.id)).toEqual(['a1', 'a2', 'c1']);
    expect(squadDevSplit(examples, 'heldout').map((e) => e.id)).toEqual(['b1', 'd1', 'b2']);
  });
});

describe('wordOrderValidationSplit', () => {
  it('sets every 20th training sentence aside for validation, the rest for training', () => {
    const sentences = Array.from({ length: 45 }, (_, i) => i);
    expect(wordOrderValidationSplit(sentences, 'validation')).toEqual([19, 39]);
    const train = wordOrderValidationSplit(sentences, 'train');
    expect(train).toHaveLength(43);
    expect([...train, 19, 39].sort((a, b) => a - b)).toEqual(sentences);
  });
});
