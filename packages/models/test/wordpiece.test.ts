import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataPath, hasData } from '../src/data/index.js';
import { isBertPunctuation, isChineseChar } from '../src/tokenizers/bert-basic.js';
import { TokenizationError, WordPieceTokenizer } from '../src/tokenizers/index.js';
import { loadWordPieceTokenizerJson, loadWordPieceVocabTxt } from '../src/tokenizers/load.js';
import { cleanUpTokenization } from '../src/tokenizers/wordpiece.js';

// A small hand-made vocabulary for the mechanics (no data needed).
const SMALL_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'the',
  'quick',
  'brown',
  'fox',
  'un',
  '##aff',
  '##able',
  '##s',
  'a',
  'b',
  'c',
  ',',
  '.',
  '!',
  '$',
  '`',
  'cafe',
  'caf',
  '##e',
  'hello',
  'world',
  '北',
  '京',
  'x',
  '##x',
  'xx',
  '##xx',
  'is',
  'it',
  '?',
  'naive',
  'Hello',
];
const small = (options: Partial<ConstructorParameters<typeof WordPieceTokenizer>[0]> = {}) =>
  new WordPieceTokenizer({ vocab: SMALL_VOCAB, ...options });
const idOf = (t: string) => SMALL_VOCAB.indexOf(t);

describe('BERT character classes', () => {
  it('uses BERT punctuation: ASCII symbols count, other Unicode symbols do not', () => {
    for (const c of '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~') expect(isBertPunctuation(c.codePointAt(0)!), c).toBe(true);
    for (const c of ['¿', '—', '…', '「', '،']) expect(isBertPunctuation(c.codePointAt(0)!), c).toBe(true);
    for (const c of ['€', '©', '😀', '❤', 'a', '7', ' ']) expect(isBertPunctuation(c.codePointAt(0)!), c).toBe(false);
  });
  it('knows the CJK ideograph blocks but not kana or Hangul', () => {
    expect(isChineseChar('北'.codePointAt(0)!)).toBe(true);
    expect(isChineseChar(0x20000)).toBe(true);
    expect(isChineseChar('の'.codePointAt(0)!)).toBe(false);
    expect(isChineseChar('한'.codePointAt(0)!)).toBe(false);
  });
});

describe('WordPieceTokenizer mechanics (hand-made vocabulary)', () => {
  it('splits greedily longest-first with ## continuations and [CLS]/[SEP]', () => {
    const t = small();
    expect(t.tokenizeToStrings('unaffable foxes')).toEqual(['un', '##aff', '##able', 'fox', '##e', '##s']);
    const e = t.encode('the quick fox');
    expect(e.ids).toEqual([2, idOf('the'), idOf('quick'), idOf('fox'), 3]);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 0]);
    expect(e.attentionMask).toEqual([1, 1, 1, 1, 1]);
    expect(e.sequenceIds).toEqual([null, 0, 0, 0, null]);
    expect(e.offsets).toEqual([
      [0, 0],
      [0, 3],
      [4, 9],
      [10, 13],
      [0, 0],
    ]);
  });

  it('maps a word to a single [UNK] when any part of it is unknown', () => {
    const t = small();
    // "foxy": fox + ##y, but ##y is not in the vocabulary.
    expect(t.tokenizeToStrings('foxy fox')).toEqual(['[UNK]', 'fox']);
    expect(t.tokenize('foxy fox').offsets).toEqual([
      [0, 4],
      [5, 8],
    ]);
  });

  it('lower-cases, strips accents and keeps offsets into the original text', () => {
    const t = small();
    const text = 'Café  NAÏVE';
    const seq = t.tokenize(text);
    expect(seq.ids).toEqual([idOf('cafe'), idOf('naive')]);
    expect(seq.offsets.map(([s, e]) => text.slice(s, e))).toEqual(['Café', 'NAÏVE']);
    // Decomposed input: the combining acute is dropped and, as in HF tokenizers, not part of the span.
    const nfd = 'cafe\u0301!';
    const s2 = t.tokenize(nfd);
    expect(s2.ids).toEqual([idOf('cafe'), idOf('!')]);
    expect(s2.offsets).toEqual([
      [0, 4],
      [5, 6],
    ]);
  });

  it('does not lower-case or strip accents when told so (cased BERT)', () => {
    const t = small({ lowercase: false });
    expect(t.tokenizeToStrings('Hello hello')).toEqual(['Hello', 'hello']);
    expect(t.tokenizeToStrings('Café')).toEqual(['[UNK]']);
    // strip_accents alone (without lower-casing)
    const s = small({ lowercase: false, stripAccents: true });
    expect(s.tokenizeToStrings('café')).toEqual(['cafe']);
  });

  it('isolates punctuation by BERT’s definition and CJK characters', () => {
    const t = small();
    expect(t.tokenizeToStrings('a,b.c!$`')).toEqual(['a', ',', 'b', '.', 'c', '!', '$', '`']);
    expect(t.tokenizeToStrings('北京hello')).toEqual(['北', '京', 'hello']);
    const noCjk = small({ handleChineseChars: false });
    expect(noCjk.tokenizeToStrings('北京hello')).toEqual(['[UNK]']);
  });

  it('removes control characters and treats all Unicode whitespace as a separator', () => {
    const t = small();
    const text = '\u00a0hel\u0000lo\u200b\tworld\u3000\u2028a\u000bb\ufffd';
    const seq = t.tokenize(text);
    expect(t.tokenizeToStrings(text)).toEqual(['hello', 'world', '[UNK]']);
    // "hel\0lo\u200b": NUL and ZERO WIDTH SPACE (Cf) are dropped; the span still covers the word.
    expect(text.slice(...seq.offsets[0]!)).toBe('hel\u0000lo');
    // \v is a control character (dropped, not a separator), so "a\vb" is one word "ab" (a + ##b,
    // unknown here); U+FFFD is dropped too.
    expect(text.slice(...seq.offsets[2]!)).toBe('a\u000bb');
  });

  it('turns words longer than max_input_chars_per_word into [UNK]', () => {
    const t = small();
    expect(t.tokenizeToStrings('x'.repeat(100))).toEqual(['xx', ...Array(49).fill('##xx')]);
    expect(t.tokenizeToStrings('x'.repeat(101))).toEqual(['[UNK]']);
    expect(t.tokenize('x'.repeat(101)).offsets).toEqual([[0, 101]]);
    const short = small({ maxInputCharsPerWord: 3 });
    expect(short.tokenizeToStrings('xxx xxxx')).toEqual(['xx', '##x', '[UNK]']);
  });

  it('encodes empty and whitespace-only input as [CLS] [SEP]', () => {
    const t = small();
    expect(t.encode('').ids).toEqual([2, 3]);
    expect(t.encode(' \t\n ').ids).toEqual([2, 3]);
    expect(t.encode('', '').ids).toEqual([2, 3, 3]);
  });

  it('recognises special tokens written in the text, but not lower-cased ones', () => {
    const t = small();
    expect(t.tokenizeToStrings('a [SEP] b [MASK]c')).toEqual(['a', '[SEP]', 'b', '[MASK]', 'c']);
    expect(t.tokenize('a [SEP] b').offsets).toEqual([
      [0, 1],
      [2, 7],
      [8, 9],
    ]);
    // Lower-case "[sep]" is ordinary text: "[", "sep", "]" (none of them in this vocabulary).
    expect(t.tokenizeToStrings('[sep]')).toEqual(['[UNK]', '[UNK]', '[UNK]']);
  });

  it('encodes pairs with token type ids and per-sequence offsets', () => {
    const t = small();
    const e = t.encode('the fox', 'is it?');
    expect(e.ids).toEqual([2, idOf('the'), idOf('fox'), 3, idOf('is'), idOf('it'), idOf('?'), 3]);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(e.sequenceIds).toEqual([null, 0, 0, null, 1, 1, 1, null]);
    expect(e.offsets).toEqual([
      [0, 0],
      [0, 3],
      [4, 7],
      [0, 0],
      [0, 2],
      [3, 5],
      [5, 6],
      [0, 0],
    ]);
  });

  describe('truncation', () => {
    const t = small();
    const first = 'the quick brown fox a b c'; // 7 tokens
    const second = 'is it a b'; // 4 tokens
    const lengths = (e: { sequenceIds: Array<0 | 1 | null> }) => [
      e.sequenceIds.filter((s) => s === 0).length,
      e.sequenceIds.filter((s) => s === 1).length,
    ];

    it('longest_first shortens the longer sequence, then both', () => {
      expect(lengths(t.encode(first, second, { maxLength: 12 }))).toEqual([5, 4]);
      expect(lengths(t.encode(first, second, { maxLength: 9 }))).toEqual([3, 3]);
      // odd budget (7 tokens for 7 + 4): 3 each, and the extra token goes to the longer sequence
      expect(lengths(t.encode(first, second, { maxLength: 10 }))).toEqual([4, 3]);
      expect(lengths(t.encode(second, first, { maxLength: 8 }))).toEqual([2, 3]);
      expect(t.encode(first, second, { maxLength: 12 }).ids).toHaveLength(12);
      expect(t.encode(first, undefined, { maxLength: 4 }).ids).toEqual([2, idOf('the'), idOf('quick'), 3]);
    });

    it('only_first / only_second shorten just one side and fail when it is too short', () => {
      expect(lengths(t.encode(first, second, { maxLength: 10, truncation: 'only_first' }))).toEqual([3, 4]);
      expect(lengths(t.encode(first, second, { maxLength: 13, truncation: 'only_second' }))).toEqual([7, 3]);
      // only_second at 10 would have to remove all 4 tokens of the second sequence
      expect(() => t.encode(first, second, { maxLength: 10, truncation: 'only_second' })).toThrow(TokenizationError);
      expect(() => t.encode(first, undefined, { maxLength: 4, truncation: 'only_second' })).toThrow(/second sequence/);
      expect(() => t.encode(first, second, { maxLength: 2 })).toThrow(/special tokens/);
    });

    it('returns overlapping windows with a stride (HF return_overflowing_tokens)', () => {
      const windows = t.encodeOverflowing('is it', first, { maxLength: 9, truncation: 'only_second', stride: 2 });
      // budget for the context: 9 - 3 - 2 = 4 tokens per window, a new window every 4 - 2 = 2 tokens
      const contexts = windows.map((w) => w.ids.filter((_, i) => w.sequenceIds[i] === 1));
      const all = t.tokenize(first).ids;
      expect(contexts).toEqual([all.slice(0, 4), all.slice(2, 6), all.slice(4, 7)]);
      expect(windows[0]!.ids).toEqual(t.encode('is it', first, { maxLength: 9, truncation: 'only_second' }).ids);
      for (const w of windows) expect(w.ids.length).toBeLessThanOrEqual(9);
      expect(() => t.encodeOverflowing('is it', first, { maxLength: 9, truncation: 'only_second', stride: 4 })).toThrow(/stride/);
    });
  });

  it('decodes with ## joining and HF clean-up', () => {
    const t = small();
    expect(t.decode(t.encode('unaffable , the fox !').ids)).toBe('[CLS] unaffable, the fox! [SEP]');
    expect(t.decode(t.encode('the fox').ids, { skipSpecialTokens: true })).toBe('the fox');
    expect(cleanUpTokenization("i do not like it . isn ' t it ?")).toBe("i don't like it. isn't it?");
    expect(() => t.decode([999])).toThrow(TokenizationError);
  });

  it('rejects a vocabulary without its unknown token', () => {
    expect(() => new WordPieceTokenizer({ vocab: ['a', 'b'] })).toThrow(/unknown token/);
  });
});

// ---- The real bert-base-uncased vocabulary ----

const VOCAB_TXT = 'vocab/bert-base-uncased-vocab.txt';
const TOKENIZER_JSON = 'vocab/bert-base-uncased-tokenizer.json';
const haveBert = hasData(VOCAB_TXT, TOKENIZER_JSON);
if (!haveBert)
  console.warn(
    `wordpiece.test: skipping real-vocabulary tests, ${VOCAB_TXT} / ${TOKENIZER_JSON} not found under ZIPLM_DATA_DIR (${dataPath()})`,
  );

// Expected tokens and ids of bert-base-uncased, produced by Hugging Face tokenizers 0.22 (Rust)
// from the tokenizer.json; each (token, id) is also checked against vocab.txt's line number below.
const KNOWN: Array<{ text: string; tokens: string[]; ids: number[]; offsets?: Array<[number, number]> }> = [
  {
    text: 'hello world',
    tokens: ['[CLS]', 'hello', 'world', '[SEP]'],
    ids: [101, 7592, 2088, 102],
    offsets: [
      [0, 0],
      [0, 5],
      [6, 11],
      [0, 0],
    ],
  },
  {
    text: 'Café déjà vu',
    tokens: ['[CLS]', 'cafe', 'de', '##ja', 'vu', '[SEP]'],
    ids: [101, 7668, 2139, 3900, 24728, 102],
    offsets: [
      [0, 0],
      [0, 4],
      [5, 7],
      [7, 9],
      [10, 12],
      [0, 0],
    ],
  },
  {
    text: 'naïve résumé, Straße',
    tokens: ['[CLS]', 'naive', 'resume', ',', 'st', '##raße', '[SEP]'],
    ids: [101, 15743, 13746, 1010, 2358, 27807, 102],
  },
  { text: 'ÀÉÎÕÜ', tokens: ['[CLS]', 'ae', '##io', '##u', '[SEP]'], ids: [101, 29347, 3695, 2226, 102] },
  {
    text: 'İstanbul',
    tokens: ['[CLS]', 'istanbul', '[SEP]'],
    ids: [101, 9960, 102],
    offsets: [
      [0, 0],
      [0, 8],
      [0, 0],
    ],
  },
  { text: '3.14', tokens: ['[CLS]', '3', '.', '14', '[SEP]'], ids: [101, 1017, 1012, 2403, 102] },
  { text: '1,000,000', tokens: ['[CLS]', '1', ',', '000', ',', '000', '[SEP]'], ids: [101, 1015, 1010, 2199, 1010, 2199, 102] },
  {
    text: 'Hello, world! $5 #tag @user 50% x^2 a~b `q` |p| <a>',
    tokens: [
      '[CLS]',
      'hello',
      ',',
      'world',
      '!',
      '$',
      '5',
      '#',
      'tag',
      '@',
      'user',
      '50',
      '%',
      'x',
      '^',
      '2',
      'a',
      '~',
      'b',
      '`',
      'q',
      '`',
      '|',
      'p',
      '|',
      '<',
      'a',
      '>',
      '[SEP]',
    ],
    ids: [
      101, 7592, 1010, 2088, 999, 1002, 1019, 1001, 6415, 1030, 5310, 2753, 1003, 1060, 1034, 1016, 1037, 1066, 1038, 1036, 1053, 1036,
      1064, 1052, 1064, 1026, 1037, 1028, 102,
    ],
  },
  {
    text: "don't U.S.A.",
    tokens: ['[CLS]', 'don', "'", 't', 'u', '.', 's', '.', 'a', '.', '[SEP]'],
    ids: [101, 2123, 1005, 1056, 1057, 1012, 1055, 1012, 1037, 1012, 102],
  },
  { text: 'unaffable', tokens: ['[CLS]', 'una', '##ffa', '##ble', '[SEP]'], ids: [101, 14477, 20961, 3468, 102] },
  { text: '\u2014em dash\u2026', tokens: ['[CLS]', '\u2014', 'em', 'dash', '\u2026', '[SEP]'], ids: [101, 1517, 7861, 11454, 1529, 102] },
  { text: '北京欢迎你', tokens: ['[CLS]', '北', '京', '[UNK]', '[UNK]', '[UNK]', '[SEP]'], ids: [101, 1781, 1755, 100, 100, 100, 102] },
  {
    text: 'I ❤ 😀',
    tokens: ['[CLS]', 'i', '[UNK]', '[UNK]', '[SEP]'],
    ids: [101, 1045, 100, 100, 102],
    offsets: [
      [0, 0],
      [0, 1],
      [2, 3],
      [4, 6],
      [0, 0],
    ],
  },
  {
    text: 'hello😀 ok',
    tokens: ['[CLS]', '[UNK]', 'ok', '[SEP]'],
    ids: [101, 100, 7929, 102],
    offsets: [
      [0, 0],
      [0, 7],
      [8, 10],
      [0, 0],
    ],
  },
  { text: '', tokens: ['[CLS]', '[SEP]'], ids: [101, 102] },
  { text: '  \t\n ', tokens: ['[CLS]', '[SEP]'], ids: [101, 102] },
  {
    text: '  Hello\t\tWORLD\n\u00a0foo\u2003bar ',
    tokens: ['[CLS]', 'hello', 'world', 'foo', 'bar', '[SEP]'],
    ids: [101, 7592, 2088, 29379, 3347, 102],
    offsets: [
      [0, 0],
      [2, 7],
      [9, 14],
      [16, 19],
      [20, 23],
      [0, 0],
    ],
  },
  {
    text: 'he\u0000llo\u200bwor\u00adld',
    tokens: ['[CLS]', 'hello', '##world', '[SEP]'],
    ids: [101, 7592, 11108, 102],
    offsets: [
      [0, 0],
      [0, 6],
      [7, 13],
      [0, 0],
    ],
  },
  {
    text: 'a [SEP] b [cls]',
    tokens: ['[CLS]', 'a', '[SEP]', 'b', '[', 'cl', '##s', ']', '[SEP]'],
    ids: [101, 1037, 102, 1038, 1031, 18856, 2015, 1033, 102],
  },
  {
    text: 'x'.repeat(101),
    tokens: ['[CLS]', '[UNK]', '[SEP]'],
    ids: [101, 100, 102],
    offsets: [
      [0, 0],
      [0, 101],
      [0, 0],
    ],
  },
  {
    text: 'x'.repeat(100),
    tokens: ['[CLS]', 'xx', ...Array<string>(49).fill('##xx'), '[SEP]'],
    ids: [101, 22038, ...Array<number>(49).fill(20348), 102],
  },
];

describe.skipIf(!haveBert)('bert-base-uncased (real vocabulary)', () => {
  let fromTxt: WordPieceTokenizer;
  let fromJson: WordPieceTokenizer;
  let lines: string[];
  let jsonVocab: Record<string, number>;

  beforeAll(async () => {
    fromTxt = await loadWordPieceVocabTxt(dataPath(VOCAB_TXT));
    fromJson = await loadWordPieceTokenizerJson(dataPath(TOKENIZER_JSON));
    lines = readFileSync(dataPath(VOCAB_TXT), 'utf8').split('\n');
    jsonVocab = JSON.parse(readFileSync(dataPath(TOKENIZER_JSON), 'utf8')).model.vocab;
  });

  it('has the well-known ids', () => {
    expect(fromTxt.vocabSize).toBe(30522);
    expect([fromTxt.padId, fromTxt.unkId, fromTxt.clsId, fromTxt.sepId, fromTxt.maskId]).toEqual([0, 100, 101, 102, 103]);
    expect(fromTxt.tokenToId('hello')).toBe(7592);
    expect(fromTxt.tokenToId('world')).toBe(2088);
  });

  it('expected ids agree with vocab.txt line numbers and tokenizer.json entries', () => {
    for (const k of KNOWN) {
      k.tokens.forEach((token, i) => {
        expect(lines[k.ids[i]!], `vocab.txt line ${k.ids[i]! + 1}`).toBe(token);
        expect(jsonVocab[token], `tokenizer.json "${token}"`).toBe(k.ids[i]);
      });
    }
  });

  it.each(KNOWN.map((k) => [k.text.length > 40 ? `${k.text.slice(0, 12)}… (${k.text.length} chars)` : JSON.stringify(k.text), k] as const))(
    'tokenizes %s like Hugging Face',
    (_name, k) => {
      for (const t of [fromTxt, fromJson]) {
        const e = t.encode(k.text);
        expect(e.ids).toEqual(k.ids);
        expect(e.ids.map((id) => t.idToToken(id))).toEqual(k.tokens);
        if (k.offsets) expect(e.offsets).toEqual(k.offsets);
      }
    },
  );

  it('truncates a pair like Hugging Face (longest_first, max 12)', () => {
    const e = fromJson.encode('The quick brown fox jumps over the lazy dog', 'Is it quick?', { maxLength: 12 });
    expect(e.ids).toEqual([101, 1996, 4248, 2829, 4419, 14523, 102, 2003, 2009, 4248, 1029, 102]);
    expect(e.typeIds).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(e.sequenceIds).toEqual([null, 0, 0, 0, 0, 0, null, 1, 1, 1, 1, null]);
    expect(e.offsets).toEqual([
      [0, 0],
      [0, 3],
      [4, 9],
      [10, 15],
      [16, 19],
      [20, 25],
      [0, 0],
      [0, 2],
      [3, 5],
      [6, 11],
      [11, 12],
      [0, 0],
    ]);
  });

  it('vocab.txt and tokenizer.json give identical encodings on real sentences', () => {
    const texts: string[] = [];
    if (hasData('glue/sst2/dev.tsv')) texts.push(...readFileSync(dataPath('glue/sst2/dev.tsv'), 'utf8').split('\n').slice(1, 400));
    if (hasData('glue/qnli/dev.tsv')) {
      for (const line of readFileSync(dataPath('glue/qnli/dev.tsv'), 'utf8').split('\n').slice(1, 300))
        texts.push(...line.split('\t').slice(1, 3));
    }
    texts.push(...KNOWN.map((k) => k.text));
    expect(texts.length).toBeGreaterThan(20);
    for (const text of texts) {
      const a = fromTxt.encode(text);
      const b = fromJson.encode(text);
      expect(b.ids, text).toEqual(a.ids);
      expect(b.offsets, text).toEqual(a.offsets);
    }
  });

  it('offsets always point at text that normalizes to the token', () => {
    const text = 'Zoë’s “naïve” café — in Köln, 1,234.5 m² (approx.)';
    const seq = fromTxt.tokenize(text);
    seq.ids.forEach((id, i) => {
      const token = fromTxt.idToToken(id)!.replace(/^##/, '');
      const [s, e] = seq.offsets[i]!;
      const original = text
        .slice(s, e)
        .normalize('NFD')
        .replace(/\p{Mn}/gu, '')
        .toLowerCase();
      if (token !== '[UNK]') expect(original, `${token} @ ${s}-${e}`).toBe(token);
    });
  });
});
