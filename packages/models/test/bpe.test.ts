import { readFileSync } from 'node:fs';
import { seededRandom } from '@ziplm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataPath, hasData } from '../src/data/index.js';
import { BYTE_ORDER, BYTE_TO_UNICODE, gpt2SplitPattern } from '../src/tokenizers/bpe.js';
import { ByteLevelBpeTokenizer, TokenizationError } from '../src/tokenizers/index.js';
import { loadByteLevelBpe } from '../src/tokenizers/load.js';

const bytesVocab = () => BYTE_ORDER.map((b) => BYTE_TO_UNICODE[b]!);

describe('byte-level alphabet', () => {
  it('maps the 256 bytes to 256 distinct printable, non-space characters', () => {
    expect(new Set(BYTE_TO_UNICODE).size).toBe(256);
    for (const c of BYTE_TO_UNICODE) expect(c).toMatch(/^[^\s\p{Cc}]$/u);
    expect(BYTE_TO_UNICODE[0x20]).toBe('Ġ');
    expect(BYTE_TO_UNICODE[0x0a]).toBe('Ċ');
    expect(BYTE_TO_UNICODE[0x41]).toBe('A');
    // GPT2's id order: printable ASCII first ("!" = 0), the remapped bytes last.
    expect(BYTE_ORDER[0]).toBe(0x21);
    expect(BYTE_ORDER[255]).toBe(0xad);
  });

  it('pre-tokenizes with the GPT2 regex', () => {
    const split = (s: string) => s.match(gpt2SplitPattern()) ?? [];
    expect(split("I'm here  now!!\n\n")).toEqual(['I', "'m", ' here', ' ', ' now', '!!', '\n\n']);
    expect(split('abc123 4.5')).toEqual(['abc', '123', ' 4', '.', '5']);
    // U+FEFF is not whitespace for GPT2 (it is for JavaScript's \s); U+0085 is.
    expect(split(' \ufeff')).toEqual([' \ufeff']);
    expect(split('a\u0085b')).toEqual(['a', '\u0085', 'b']);
  });
});

describe('ByteLevelBpeTokenizer mechanics (hand-made merges)', () => {
  // Merges over "Ġlow" / "er": ranks decide the order, as in openai/gpt-2 encoder.py.
  const merges: Array<[string, string]> = [
    ['l', 'o'],
    ['lo', 'w'],
    ['e', 'r'],
    ['Ġ', 'low'],
    ['Ġlow', 'er'],
  ];
  const vocab = [...bytesVocab(), 'lo', 'low', 'er', 'Ġlow', 'Ġlower', '<|endoftext|>'];
  const t = new ByteLevelBpeTokenizer({ vocab, merges });
  const id = (s: string) => t.tokenToId(s)!;

  it('applies merges lowest rank first', () => {
    expect(t.tokenizeToStrings('lower lower low')).toEqual(['low', 'er', 'Ġlower', 'Ġlow']);
    expect(t.tokenizeToStrings('lowlow')).toEqual(['low', 'low']);
    expect(t.encode('lower').ids).toEqual([id('low'), id('er')]);
  });

  it('uses <|endoftext|> as special token and padding id', () => {
    expect(t.padId).toBe(vocab.length - 1);
    expect(t.encode('low<|endoftext|>er').ids).toEqual([id('low'), t.eosId, id('er')]);
    expect(t.decode(t.encode('a<|endoftext|>b').ids)).toBe('a<|endoftext|>b');
    expect(t.decode(t.encode('a<|endoftext|>b').ids, { skipSpecialTokens: true })).toBe('ab');
  });

  it('falls back to byte tokens and gives offsets of whole characters', () => {
    const text = 'é😀 low';
    const e = t.encode(text);
    // é = 2 bytes, 😀 = 4 bytes: one token per byte, all pointing at their character.
    expect(e.ids.length).toBe(2 + 4 + 1);
    expect(e.offsets).toEqual([
      [0, 1],
      [0, 1],
      [1, 3],
      [1, 3],
      [1, 3],
      [1, 3],
      [3, 7],
    ]);
    expect(t.decode(e.ids)).toBe(text);
  });

  it('round-trips arbitrary text, including a leading BOM and control characters', () => {
    for (const s of ['', ' ', '\ufeffstart', 'tab\tnew\nline\r\n', 'mixed 中文 and emoji 👍🏽 ok', '\u0000\u0085\u2028']) {
      expect(t.decode(t.encode(s).ids)).toBe(s);
    }
  });

  it('concatenates pairs without special tokens, with type ids 0 / 1', () => {
    const e = t.encode('low', ' lower');
    expect(e.ids).toEqual([id('low'), id('Ġlower')]);
    expect(e.typeIds).toEqual([0, 1]);
    expect(e.sequenceIds).toEqual([0, 1]);
    expect(t.encode('lower lower low', undefined, { maxLength: 2 }).ids).toEqual([id('low'), id('er')]);
  });

  it('rejects a vocabulary that lacks byte symbols and undecodable ids', () => {
    expect(() => new ByteLevelBpeTokenizer({ vocab: ['a', 'b'], merges: [] })).toThrow(TokenizationError);
    expect(() => t.decode([vocab.length])).toThrow(/not in the vocabulary/);
  });
});

// ---- The real GPT2 vocabulary ----

const ENCODER = 'vocab/gpt2-encoder.json';
const MERGES = 'vocab/gpt2-vocab.bpe';
const WIKI = 'wikitext-2-raw/wiki.test.raw';
const haveGpt2 = hasData(ENCODER, MERGES);
if (!haveGpt2)
  console.warn(`bpe.test: skipping real-vocabulary tests, ${ENCODER} / ${MERGES} not found under ZIPLM_DATA_DIR (${dataPath()})`);

// Produced by Hugging Face tokenizers 0.22 (BPE + ByteLevel pre-tokenizer, no prefix space) from
// gpt2-encoder.json + gpt2-vocab.bpe; each (token, id) is checked against encoder.json below.
const KNOWN: Array<{ text: string; tokens: string[]; ids: number[]; offsets?: Array<[number, number]> }> = [
  {
    text: 'Hello world',
    tokens: ['Hello', 'Ġworld'],
    ids: [15496, 995],
    offsets: [
      [0, 5],
      [5, 11],
    ],
  },
  { text: ' Hello  world  ', tokens: ['ĠHello', 'Ġ', 'Ġworld', 'Ġ', 'Ġ'], ids: [18435, 220, 995, 220, 220] },
  {
    text: "I'm can't we'll they've",
    tokens: ['I', "'m", 'Ġcan', "'t", 'Ġwe', "'ll", 'Ġthey', "'ve"],
    ids: [40, 1101, 460, 470, 356, 1183, 484, 1053],
  },
  { text: '3.14 1,000,000', tokens: ['3', '.', '14', 'Ġ1', ',', '000', ',', '000'], ids: [18, 13, 1415, 352, 11, 830, 11, 830] },
  { text: 'Café déjà vu', tokens: ['C', 'af', 'Ã©', 'ĠdÃ©', 'j', 'Ãł', 'Ġv', 'u'], ids: [34, 1878, 2634, 39073, 73, 24247, 410, 84] },
  {
    text: '北京 😀',
    tokens: ['åĮ', 'Ĺ', 'äº', '¬', 'ĠðŁĺ', 'Ģ'],
    ids: [44293, 245, 12859, 105, 30325, 222],
    offsets: [
      [0, 1],
      [0, 1],
      [1, 2],
      [1, 2],
      [2, 5],
      [3, 5],
    ],
  },
  {
    text: 'a<|endoftext|>b',
    tokens: ['a', '<|endoftext|>', 'b'],
    ids: [64, 50256, 65],
    offsets: [
      [0, 1],
      [1, 14],
      [14, 15],
    ],
  },
  { text: '', tokens: [], ids: [] },
  {
    text: '\n = Valkyria Chronicles III = \n',
    tokens: ['Ċ', 'Ġ=', 'ĠV', 'alky', 'ria', 'ĠChronicles', 'ĠIII', 'Ġ=', 'Ġ', 'Ċ'],
    ids: [198, 796, 569, 18354, 7496, 17740, 6711, 796, 220, 198],
  },
  { text: '  \n\n  x', tokens: ['Ġ', 'Ġ', 'ĊĊ', 'Ġ', 'Ġx'], ids: [220, 220, 628, 220, 2124] },
];

/**
 * An independent byte-level BPE written from openai/gpt-2 encoder.py, used only by the long-word
 * tests: its own byte→unicode table, its own merges parser, the GPT2 pre-tokenizer regex, and the
 * textbook loop (merge every occurrence of the lowest-ranked adjacent pair, repeat until no adjacent
 * pair has a rank). Deliberately slow and simple; shares no code with src/tokenizers.
 */
function referenceBpe(mergesText: string) {
  // bytes_to_unicode(): printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const byteChar: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) byteChar[b] = printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + next++);
  const ranks = new Map<string, number>();
  const lines = mergesText.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
    const [a, b, extra] = line.split(' ');
    if (a === undefined || b === undefined || extra !== undefined)
      throw new Error(`reference: bad merge line ${i + 1}: ${JSON.stringify(line)}`);
    ranks.set(`${a} ${b}`, ranks.size);
  }
  const rank = (a: string, b: string) => ranks.get(`${a} ${b}`);
  const pieces = (text: string) => text.match(/'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu) ?? [];
  const bpe = (piece: string): string[] => {
    let word = Array.from(new TextEncoder().encode(piece), (b) => byteChar[b]!);
    for (;;) {
      let best: number | undefined;
      for (let i = 0; i + 1 < word.length; i++) {
        const r = rank(word[i]!, word[i + 1]!);
        if (r !== undefined && (best === undefined || r < best)) best = r;
      }
      if (best === undefined) return word;
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && rank(word[i]!, word[i + 1]!) === best) {
          merged.push(word[i]! + word[i + 1]!);
          i++;
        } else merged.push(word[i]!);
      }
      word = merged;
    }
  };
  return { rank, pieces, bpe, tokenize: (text: string) => pieces(text).flatMap(bpe) };
}

/** Seeded printable characters, so the "random" cases are the same on every run. */
function randomText(seed: number, length: number, alphabet: string): string {
  const next = seededRandom(seed);
  return Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]!).join('');
}

const PRINTABLE_ASCII = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
const LONG_WORDS: Array<{ name: string; text: string }> = [
  { name: 'antidisestablishmentarianism', text: 'antidisestablishmentarianism' },
  { name: 'pneumonoultramicroscopicsilicovolcanoconiosis (leading space)', text: ' pneumonoultramicroscopicsilicovolcanoconiosis' },
  { name: 'Donaudampfschiffahrtsgesellschaftskapitänswitwe (non-ASCII letter)', text: 'Donaudampfschiffahrtsgesellschaftskapitänswitwe' },
  { name: '300 random lowercase letters (one pre-token)', text: randomText(7, 300, 'abcdefghijklmnopqrstuvwxyz') },
  { name: '300 random printable ASCII characters', text: randomText(11, 300, PRINTABLE_ASCII) },
  { name: '200 repeated letters', text: 'a'.repeat(200) },
];

describe.skipIf(!haveGpt2)('GPT2 (real vocabulary)', () => {
  let gpt2: ByteLevelBpeTokenizer;
  let encoder: Record<string, number>;
  let reference: ReturnType<typeof referenceBpe>;

  beforeAll(async () => {
    gpt2 = await loadByteLevelBpe(dataPath(ENCODER), dataPath(MERGES));
    encoder = JSON.parse(readFileSync(dataPath(ENCODER), 'utf8'));
    reference = referenceBpe(readFileSync(dataPath(MERGES), 'utf8'));
  });

  it('has 50257 tokens with <|endoftext|> = 50256 as padding', () => {
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.eosId).toBe(50256);
    expect(gpt2.padId).toBe(50256);
    expect(gpt2.merges.length).toBe(50000);
  });

  it('expected ids agree with encoder.json', () => {
    for (const k of KNOWN)
      k.tokens.forEach((token, i) => {
        expect(encoder[token], token).toBe(k.ids[i]);
      });
  });

  it.each(KNOWN.map((k) => [JSON.stringify(k.text), k] as const))('tokenizes %s like Hugging Face', (_name, k) => {
    const e = gpt2.encode(k.text);
    expect(e.ids).toEqual(k.ids);
    expect(e.ids.map((id) => gpt2.idToToken(id))).toEqual(k.tokens);
    if (k.offsets) expect(e.offsets).toEqual(k.offsets);
    expect(gpt2.decode(e.ids)).toBe(k.text);
  });

  it('the reference BPE of the long-word tests reproduces the Hugging Face cases', () => {
    for (const k of KNOWN)
      if (!k.text.includes('<|endoftext|>')) expect(reference.tokenize(k.text), JSON.stringify(k.text)).toEqual(k.tokens);
  });

  it.each(LONG_WORDS.map((w) => [w.name, w.text] as const))(
    'long word %s: round-trips and equals an independent reference BPE',
    (_name, text) => {
      const want = reference.tokenize(text);
      const got = gpt2.tokenizeToStrings(text);
      expect(got).toEqual(want);
      const ids = gpt2.encode(text).ids;
      expect(ids).toEqual(want.map((token) => encoder[token]));
      expect(ids.every((id) => Number.isInteger(id))).toBe(true);
      expect(gpt2.decode(ids)).toBe(text);
      // Nothing is left to merge: no adjacent pair inside one pre-token has a merge rank.
      for (const piece of reference.pieces(text)) {
        const tokens = reference.bpe(piece);
        for (let i = 0; i + 1 < tokens.length; i++)
          expect(reference.rank(tokens[i]!, tokens[i + 1]!), `${tokens[i]} ${tokens[i + 1]}`).toBeUndefined();
      }
      // A long word really is split into many tokens (the cases are not trivially one token).
      if (text.length >= 28) expect(ids.length).toBeGreaterThan(3);
    },
  );

  it.skipIf(!hasData(WIKI))('round-trips all of wiki.test.raw exactly (283,287 tokens, as HF tokenizers counts)', () => {
    const text = readFileSync(dataPath(WIKI), 'utf8');
    const { ids, offsets } = gpt2.tokenize(text);
    expect(ids.length).toBe(283287);
    expect(gpt2.decode(ids)).toBe(text);
    // Offsets cover the text without gaps (tokens holding part of one character share its span).
    let covered = 0;
    let gaps = 0;
    for (const [s, e] of offsets) {
      if (s > covered) gaps++;
      covered = Math.max(covered, e);
    }
    expect(gaps).toBe(0);
    expect(covered).toBe(text.length);
  });
});
