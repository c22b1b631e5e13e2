import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import {
  dataPath,
  hasData,
  postprocessSquad,
  prepareSquadFeatures,
  readSquad,
  squadMetric,
  type SquadExample,
  type SquadFeature,
} from '../src/data/index.js';
import { exactMatchScore, f1Score, normalizeAnswer, parseSquad } from '../src/data/squad.js';
import { WordPieceTokenizer, trainWordPieceVocab } from '../src/tokenizers/index.js';
import { loadWordPieceVocabTxt } from '../src/tokenizers/load.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/data/${name}`, import.meta.url));

describe('official SQuAD v1.1 metric', () => {
  it('normalizes like evaluate-v1.1.py', () => {
    expect(normalizeAnswer('The  Cat!')).toBe('cat');
    expect(normalizeAnswer('an apple a day')).toBe('apple day');
    expect(normalizeAnswer('U.S.')).toBe('us');
    expect(normalizeAnswer("rock'n'roll")).toBe('rocknroll');
    // Only ASCII punctuation is removed; typographic quotes stay.
    expect(normalizeAnswer('“quoted”')).toBe('“quoted”');
    // Articles are whole words in Python's Unicode sense: the "a" of "añejo" is not one.
    expect(normalizeAnswer('añejo tequila')).toBe('añejo tequila');
    expect(normalizeAnswer('theatre, the end')).toBe('theatre end');
    // Articles glued by punctuation become words once the punctuation is gone.
    expect(normalizeAnswer('the-end')).toBe('theend');
    expect(normalizeAnswer('(the) end')).toBe('end');
    // Python's str.split() whitespace, including \x1c-\x1f.
    expect(normalizeAnswer('a\u00a0b\u2003c\x1fd')).toBe('b c d');
  });

  it('scores exact match and token F1', () => {
    expect(exactMatchScore('The Cat', 'cat')).toBe(1);
    expect(exactMatchScore('cat.', 'a cat')).toBe(1);
    expect(exactMatchScore('cats', 'cat')).toBe(0);
    expect(f1Score('the cat sat', 'cat sat on mat')).toBeCloseTo(2 / 3, 12);
    // Multiset overlap: "x x y" vs "x y y" share one x and one y.
    expect(f1Score('x x y', 'x y y')).toBeCloseTo(2 / 3, 12);
    expect(f1Score('dog', 'cat')).toBe(0);
    // Both normalize to nothing: EM 1 but F1 0 (no common tokens), as in the official script.
    expect(exactMatchScore('the', 'a')).toBe(1);
    expect(f1Score('the', 'a')).toBe(0);
    expect(f1Score('', 'cat')).toBe(0);
  });

  it('takes the max over gold answers and counts unanswered questions as 0', () => {
    const examples = [
      {
        id: 'q1',
        answers: [
          { text: 'Denver Broncos', start: 0 },
          { text: 'Broncos', start: 7 },
        ],
      },
      {
        id: 'q2',
        answers: [
          { text: 'Santa Clara, California', start: 0 },
          { text: "Levi's Stadium", start: 0 },
        ],
      },
      { id: 'q3', answers: [{ text: '1969', start: 0 }] },
    ];
    const m = squadMetric(examples, { q1: 'the Broncos', q2: 'Santa Clara' });
    // q1: EM 1 (vs "Broncos"); q2: F1 max(2·1·(2/3)/(1+2/3) = 0.8, 0) = 0.8, EM 0; q3: unanswered.
    expect(m.exactMatch).toBeCloseTo(100 / 3, 10);
    expect(m.f1).toBeCloseTo((100 * (1 + 0.8)) / 3, 10);
    expect(m.total).toBe(3);
    expect(m.unanswered).toBe(1);
    expect(squadMetric(examples, new Map([['q3', '1969']])).exactMatch).toBeCloseTo(100 / 3, 10);
  });
});

describe('SQuAD reader (fixtures)', () => {
  it('reads examples and converts code-point answer starts to UTF-16', () => {
    const ex = readSquad(fixture('squad-small.json'));
    expect(ex.map((e) => e.id)).toEqual(['r1', 'r2', 'r3', 'c1', 'c2']);
    const r1 = ex[0]!;
    expect(r1.title).toBe('Rockets');
    // The JSON says 27 (code points; the rocket emoji is one), JavaScript needs 28.
    expect(r1.answers[0]!.start).toBe(28);
    for (const e of ex) for (const a of e.answers) expect(e.context.slice(a.start, a.start + a.text.length)).toBe(a.text);
  });

  it('names file, line or JSON path of malformed input', () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(DataError);
        return (e as DataError).message;
      }
      throw new Error('expected a DataError');
    };
    expect(err(() => readSquad(fixture('squad-bad-syntax.json')))).toMatch(/squad-bad-syntax\.json: invalid JSON at line 4, column 22/);
    expect(err(() => readSquad(fixture('squad-missing-start.json')))).toMatch(
      /squad-missing-start\.json: data\[0\]\.paragraphs\[0\]\.qas\[1\]\.answers\[0\]\.answer_start: expected a non-negative integer/,
    );
    expect(err(() => readSquad(fixture('squad-wrong-start.json')))).toMatch(/answers\[0\]: answer "def" does not match the context at 0/);
    expect(readSquad(fixture('squad-wrong-start.json'), { strict: false })).toHaveLength(1);
    expect(err(() => parseSquad('', 'mem.json'))).toMatch(/mem\.json: empty file/);
    expect(err(() => parseSquad('{"data": []}', 'mem.json'))).toMatch(/no questions/);
    expect(
      err(() =>
        parseSquad(
          '{"data": [{"paragraphs": [{"context": "ab", "qas": [{"id": "x", "question": "q", "answers": [{"text": "abc", "answer_start": 1}]}]}]}]}',
          'mem.json',
        ),
      ),
    ).toMatch(/answer_start: 1 \+ answer length 3 lies outside the context/);
    expect(err(() => readSquad(fixture('missing.json')))).toMatch(/missing\.json: file not found/);
  });
});

describe('SQuAD features and post-processing (fixtures)', () => {
  let examples: SquadExample[];
  let tokenizer: WordPieceTokenizer;
  beforeAll(() => {
    examples = readSquad(fixture('squad-small.json'));
    // A vocabulary trained on the fixture itself, so every word is known.
    const vocab = trainWordPieceVocab(
      examples.flatMap((e) => [e.context, e.question]),
      { vocabSize: 400, minFrequency: 1 },
    );
    tokenizer = new WordPieceTokenizer({ vocab });
  });

  it('cuts long contexts into overlapping windows and labels the answer tokens', () => {
    const maxLength = 24;
    const docStride = 6;
    const features = prepareSquadFeatures(examples, tokenizer, { maxLength, docStride });
    expect(features.length).toBeGreaterThan(examples.length);
    for (const e of examples.keys()) {
      const fs = features.filter((f) => f.exampleIndex === e);
      const ex = examples[e]!;
      const q = tokenizer.tokenize(ex.question.trimStart()).ids.length;
      const context = tokenizer.tokenize(ex.context).ids;
      const budget = maxLength - 3 - q;
      // Windows of `budget` context tokens every budget - docStride tokens, covering the context.
      const windows = fs.map((f) => f.inputIds.filter((_, i) => f.offsets[i] !== null));
      const expected: number[][] = [];
      for (let s = 0; ; s += budget - docStride) {
        expected.push(context.slice(s, s + budget));
        if (s + budget >= context.length) break;
      }
      expect(windows).toEqual(expected);
      let found = 0;
      for (const f of fs) {
        expect(f.inputIds.length).toBeLessThanOrEqual(maxLength);
        expect(f.inputIds[0]).toBe(tokenizer.clsId);
        expect(f.offsets[0]).toBeNull();
        const answer = ex.answers[0]!;
        const inWindow = (() => {
          const spans = f.offsets.filter((o): o is [number, number] => o !== null);
          return spans[0]![0] <= answer.start && spans[spans.length - 1]![1] >= answer.start + answer.text.length;
        })();
        if (!inWindow) {
          expect([f.startPosition, f.endPosition]).toEqual([f.clsIndex, f.clsIndex]);
          continue;
        }
        found++;
        expect(ex.context.slice(f.offsets[f.startPosition]![0], f.offsets[f.endPosition]![1])).toBe(answer.text);
      }
      expect(found, ex.id).toBeGreaterThan(0);
    }
  });

  it('picks the best valid span from logits', () => {
    const features = prepareSquadFeatures(examples, tokenizer, { maxLength: 64 });
    expect(features).toHaveLength(examples.length);
    const logits = (f: SquadFeature, at: Record<number, number>) => {
      const row = new Float32Array(f.inputIds.length + 5).fill(-5); // longer than the feature: padding
      for (const [i, v] of Object.entries(at)) row[Number(i)] = v;
      return row;
    };
    const f0 = features[0]!;
    const tokenOf = (char: number) => f0.offsets.findIndex((o) => o !== null && o[0] <= char && char < o[1]);
    const answer = examples[0]!.answers[0]!;
    const s = tokenOf(answer.start);
    const e = tokenOf(answer.start + answer.text.length - 1);
    const questionToken = 2;
    const starts = features.map((f) =>
      f === f0 ? logits(f, { [questionToken]: 50, [s]: 10, [f.inputIds.length + 1]: 99 }) : logits(f, {}),
    );
    const ends = features.map((f) => (f === f0 ? logits(f, { [questionToken]: 50, [e]: 9, [e + 40]: 30 }) : logits(f, {})));
    const preds = postprocessSquad(examples, features, starts, ends, { maxAnswerLength: 30 });
    // The question token, the padding position and the too-long span (e + 40) are all skipped.
    expect(preds[0]).toEqual({ id: 'r1', text: 'Cape Canaveral', score: 19 });
    expect(preds).toHaveLength(examples.length);
    expect(() => postprocessSquad(examples, features, starts.slice(1), ends)).toThrow(RangeError);
  });
});

const haveSquad = hasData('squad/dev-v1.1.json', 'vocab/bert-base-uncased-vocab.txt');
if (!haveSquad)
  console.warn(`squad.test: skipping real-data tests, SQuAD dev or the BERT vocabulary not found under ZIPLM_DATA_DIR (${dataPath()})`);

describe.skipIf(!haveSquad)('SQuAD v1.1 dev (real data, bert-base-uncased)', () => {
  let examples: SquadExample[];
  let features: SquadFeature[];
  beforeAll(async () => {
    examples = readSquad(dataPath('squad/dev-v1.1.json'));
    const tokenizer = await loadWordPieceVocabTxt(dataPath('vocab/bert-base-uncased-vocab.txt'));
    features = prepareSquadFeatures(examples, tokenizer);
  }, 120_000);

  it('has 10,570 questions and 10,784 features (the count HF tokenizers gives at 384 / 128)', () => {
    expect(examples).toHaveLength(10570);
    expect(features).toHaveLength(10784);
    expect(Math.max(...features.map((f) => f.inputIds.length))).toBe(384);
  });

  it('maps every in-window answer back to exactly the tokens that cover it', () => {
    let inside = 0;
    let exact = 0;
    const problems: string[] = [];
    for (const f of features) {
      if (f.startPosition === f.clsIndex) continue;
      inside++;
      const ex = examples[f.exampleIndex]!;
      const a = ex.answers[0]!;
      const start = f.offsets[f.startPosition]!;
      const end = f.offsets[f.endPosition]!;
      // The span covers the answer, and its first/last tokens hold the answer's first/last character.
      const ok = start[0] <= a.start && a.start < start[1] && end[0] < a.start + a.text.length && a.start + a.text.length <= end[1];
      if (!ok && problems.length < 5)
        problems.push(`${ex.id}: ${JSON.stringify(ex.context.slice(start[0], end[1]))} vs ${JSON.stringify(a.text)}`);
      const decoded = ex.context.slice(start[0], end[1]);
      if (normalizeAnswer(decoded) === normalizeAnswer(a.text)) exact++;
    }
    expect(problems).toEqual([]);
    expect(inside).toBeGreaterThan(10_500);
    // The rest are answers that end inside a word piece (e.g. "gold" of "golden").
    expect(exact / inside).toBeGreaterThan(0.995);
  });

  it('turns oracle logits back into the answers (EM/F1 near 100)', () => {
    const one = (f: SquadFeature, at: number) => {
      const row = new Float32Array(f.inputIds.length);
      row[at] = 10;
      return row;
    };
    const preds = postprocessSquad(
      examples,
      features,
      features.map((f) => one(f, f.startPosition)),
      features.map((f) => one(f, f.endPosition)),
    );
    const m = squadMetric(examples, Object.fromEntries(preds.map((p) => [p.id, p.text])));
    expect(m.unanswered).toBe(0);
    expect(m.exactMatch).toBeGreaterThan(99.5);
    expect(m.f1).toBeGreaterThan(99.5);
    expect(m.exactMatch).toBeLessThan(100);
  });
});
