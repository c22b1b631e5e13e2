// LLaMA-family tokenizers read from tokenizer.json, checked against the real transformers.js
// (@huggingface/transformers, which reads the same files): Llama 3's byte-level BPE with the GPT-4 `Split`
// regex and its `(?i:...)` group, and SentencePiece-style BPE (Llama 2 / TinyLlama / Mistral: "▁" for
// spaces, `<0xAB>` byte fallback) in its normalizer and Metaspace spellings. The files are built here from
// the llama-tiny-lm fixture's vocabulary and from a small SentencePiece vocabulary trained in the test.

import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { localTransformersJs } from './transformers-js-local.js';
import { onigurumaToJavaScript } from '../src/internal/tokenizers/oniguruma.js';
import { loadModelDir } from '../src/io/checkpoint.js';
import { ByteLevelBpeTokenizer, loadTokenizer, SentencePieceBpeTokenizer, VocabularyError } from '../src/tokenizers/index.js';
import type { Tokenizer } from '../src/tokenizers/types.js';
import { hfFixture } from './hf-fixtures.js';

const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Texts covering what decides token boundaries. */
const TEXTS = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog.',
  "I'm sure you'll see they've DON'T can't WE'RE He'S it'd",
  "'S 'T 'Re 'vE 'LL 'D",
  // The contraction alternative decides only where letters follow it.
  "'tis 'TIS 'Twas rock'n'roll we'LLl you'VEry O'Dell'S",
  'Numbers: 1 12 123 1234 12345 1234567 3.14159 2024-06-01',
  '١٢٣٤ ٥٦ (Arabic-Indic digits) and ²³ superscripts',
  '   leading spaces and trailing   ',
  'tabs\tand\t\ttabs',
  'line one\nline two\n\nline four\r\nwindows\n',
  '\n\n\n',
  ' ',
  '',
  'Café naïve résumé Ångström façade',
  'Emoji: 😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷',
  '中文字符和日本語のテキスト，한국어',
  'Ünïcödé wïth ÀÉÎÕÜ and ß ẞ',
  'MixedCASE wordsLikeThis and ALLCAPS',
  'punctuation!!! ??? ... ;-) (parens) [brackets] {braces}',
  'code: const x = a[i] + b_j * 2; // comment',
  'url https://example.com/path?q=1&r=2#frag',
  'a  b   c    d',
  'end with newline\n',
  'zero\u200bwidth and nbsp\u00a0here',
  'Ελληνικά κείμενα και Кириллица',
  '\u0085next line and \u2028 line separator',
  'the special <|begin_of_text|> inside <|eot_id|>text',
  '<|begin_of_text|>at the start',
  'a<s>b</s> c <s> d',
  '<s>Hello',
  'rare: ☃ ♞ ⌘ ∮ ℵ',
  'xyzzy plugh xyzzy',
  'DON’T curly apostrophe and İstanbul',
  "it's 'quoted' and ''double''",
  '1,000,000 and 10.5% of $100',
  'hello\u3000ideographic space',
  '   ',
  'ends with tab\t',
  'x',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters',
  'non-breaking\u00a0\u00a0spaces',
];

const modelsRoot = localTransformersJs('ziplm-llama-tok-');

function added(id: number, content: string, special = true) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

function bosTemplate(bos: string, id: number) {
  return {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: bos, type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: bos, type_id: 1 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { [bos]: { id: bos, ids: [id], tokens: [bos] } },
  };
}

/** Writes `modelsRoot()/name/` with tokenizer.json and a tokenizer_config.json; returns the directory. */
async function writeTokenizerDir(name: string, tokenizerJson: Record<string, unknown>, config: Record<string, unknown>): Promise<string> {
  const dir = join(modelsRoot(), name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(tokenizerJson, null, 2)}\n`);
  // No clean-up of spaces when decoding: tokenizer.json's decoder alone, as `tokenizers` decodes.
  await writeFile(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false, ...config }),
  );
  return dir;
}

/** Compares ids and decoded text (with and without special tokens) of ziplm and transformers.js on every text. */
async function compareWithTransformersJs(name: string, ours: Tokenizer): Promise<number> {
  const theirs = await AutoTokenizer.from_pretrained(name);
  let compared = 0;
  for (const text of TEXTS) {
    const ids = ours.encode(text).ids;
    expect(ids, JSON.stringify(text)).toEqual(theirs.encode(text));
    for (const skip of [false, true]) {
      expect(ours.decode(ids, { skipSpecialTokens: skip }), JSON.stringify(text)).toBe(theirs.decode(ids, { skip_special_tokens: skip }));
    }
    compared++;
  }
  return compared;
}

describe('Oniguruma → JavaScript conversion of Split patterns', () => {
  it("converts Llama 3's pattern: (?i:...) spelled out with Unicode case folding, \\s as White_Space", () => {
    const js = onigurumaToJavaScript(LLAMA3_PATTERN);
    expect(js.startsWith("(?:'[sSſ]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|")).toBe(true);
    const split = (text: string) => text.match(new RegExp(js, 'gu'));
    expect(split("I'M DON'T we'Ll")).toEqual(['I', "'M", ' DON', "'T", ' we', "'Ll"]);
    expect(split('1234567')).toEqual(['123', '456', '7']);
    // U+0085 is whitespace for Oniguruma (not for JavaScript's \s), and may lead a word as "not a letter".
    expect(split('a \u0085b')).toEqual(['a', ' ', '\u0085b']);
  });

  it('refuses what it cannot reproduce exactly, naming the construct', () => {
    expect(() => onigurumaToJavaScript('(?i:ss)')).toThrow(/multi-character case folding/);
    expect(() => onigurumaToJavaScript('(?i:é)')).toThrow(/non-ASCII letter/);
    expect(() => onigurumaToJavaScript('\\w+')).toThrow(/escape \\w/);
    expect(() => onigurumaToJavaScript('a++')).toThrow(/possessive/);
    expect(() => onigurumaToJavaScript('(?>a)')).toThrow(/group/);
    expect(() => onigurumaToJavaScript('^a')).toThrow(/anchor/);
    expect(() => onigurumaToJavaScript('(?i)a')).toThrow(/group/);
    expect(onigurumaToJavaScript('a{,3}\\d.')).toBe('a{0,3}\\p{Nd}[^\\n]');
  });
});

const llama = hfFixture('llama-tiny-lm');

/** The fixture's tokenizer.json with Llama 3.x's pre-tokenizer, post-processor, ignore_merges and special tokens. */
async function llama3TokenizerJson(extraSpecials: boolean): Promise<Record<string, unknown>> {
  const json = JSON.parse(await readFile(join(llama.dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown> & {
    model: Record<string, unknown> & { vocab: Record<string, number> };
    added_tokens: unknown[];
  };
  json.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
  json.post_processor = {
    type: 'Sequence',
    processors: [
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      bosTemplate('<|begin_of_text|>', 2000),
    ],
  };
  json.model.ignore_merges = true;
  if (extraSpecials) {
    // A token the merges cannot reach: one token only because of ignore_merges.
    json.model.vocab.Ġxyzzy = 2001;
    // Pieces that only a wrong split makes (the contraction alternative without its case folding, digits
    // not in threes): with ignore_merges each would become one token of its own and change the ids.
    ["'tis", "'TIS", "'Twas", "'LLl", "'VEry", '1234', 'Ġ1234', '4567'].forEach((token, i) => {
      json.model.vocab[token] = 2006 + i;
    });
    json.added_tokens = [
      added(0, '<|endoftext|>'),
      added(2000, '<|begin_of_text|>'),
      added(2002, '<|end_of_text|>'),
      added(2003, '<|eot_id|>'),
      added(2004, '<|reserved_special_token_0|>'),
      added(2005, 'plugh', false),
    ];
  }
  return json;
}

describe.skipIf(llama.skip !== undefined)('Llama 3 byte-level BPE (Split + ByteLevel)', () => {
  it('reads the Llama 3 pre-tokenizer and matches transformers.js on every text (ids, decode)', async () => {
    const dir = await writeTokenizerDir('llama3', await llama3TokenizerJson(true), {
      bos_token: '<|begin_of_text|>',
      eos_token: '<|end_of_text|>',
    });
    const tokenizer = await loadTokenizer(dir, 'llama');
    expect(tokenizer).toBeInstanceOf(ByteLevelBpeTokenizer);
    expect(tokenizer.encode('').ids).toEqual([2000]);
    expect(tokenizer.padId).toBe(2002);
    // ignore_merges: a word that is in the vocabulary is one token.
    expect(tokenizer.encode(' xyzzy').ids).toEqual([2000, 2001]);
    // Digits in groups of at most three.
    const digits = (tokenizer as ByteLevelBpeTokenizer).tokenizeToStrings('1234567');
    expect(digits.join('|')).toMatch(/^1.*\|.*7$/);
    expect(await compareWithTransformersJs('llama3', tokenizer)).toBe(TEXTS.length);
    // Offsets point into the original text.
    const text = "DON'T stop 12345";
    const { ids, offsets } = tokenizer.tokenize(text);
    expect(offsets.map(([s, e]) => text.slice(s, e)).join('')).toBe(text);
    expect(ids.length).toBe(offsets.length);
    // Written back byte for byte; save adds tokenizer.json, which vocab.json + merges.txt cannot replace.
    expect(tokenizer.tokenizerJson()).toBe(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    const saved = join(modelsRoot(), 'llama3-saved');
    expect(await tokenizer.save(saved)).toEqual(['vocab.json', 'merges.txt', 'tokenizer.json']);
    expect(await readFile(join(saved, 'tokenizer.json'), 'utf8')).toBe(tokenizer.tokenizerJson());
  });

  it('loads a whole LLaMA model directory with the Llama 3 tokenizer', async () => {
    const dir = await writeTokenizerDir('llama3-model', await llama3TokenizerJson(false), { eos_token: '<|endoftext|>' });
    for (const file of ['config.json', 'model.safetensors']) await copyFile(join(llama.dir, file), join(dir, file));
    const { checkpoint, tokenizer } = await loadModelDir(dir);
    expect(checkpoint.config.modelType).toBe('llama');
    expect(tokenizer).toBeInstanceOf(ByteLevelBpeTokenizer);
    expect(tokenizer.encode("I'M 12345").ids[0]).toBe(2000);
  });
});

/**
 * A SentencePiece-style BPE vocabulary: <unk>, <s>, </s>, the 256 byte tokens, the characters of `corpus`
 * (except `excluded`, which must then go through byte fallback or <unk>) and `mergeCount` merges learned
 * greedily over "▁"-joined words.
 */
function trainSentencePieceBpe(corpus: string[], excluded: string, mergeCount: number, byteTokens: boolean) {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  let next = 3;
  if (byteTokens) for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = next++;
  const words = corpus.flatMap((line) => line.split(' ').map((w) => [...`▁${w}`]));
  for (const word of words) for (const c of word) if (!excluded.includes(c) && vocab[c] === undefined) vocab[c] = next++;
  const merges: Array<[string, string]> = [];
  let symbols = words.map((w) => w.filter((c) => !excluded.includes(c)));
  for (let m = 0; m < mergeCount; m++) {
    const counts = new Map<string, number>();
    for (const w of symbols)
      for (let i = 0; i + 1 < w.length; i++) counts.set(`${w[i]} ${w[i + 1]}`, (counts.get(`${w[i]} ${w[i + 1]}`) ?? 0) + 1);
    let best: string | undefined;
    for (const [pair, n] of counts)
      if (best === undefined || n > counts.get(best)! || (n === counts.get(best)! && pair < best)) best = pair;
    if (best === undefined || counts.get(best)! < 2) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    if (vocab[a + b] === undefined) vocab[a + b] = next++;
    symbols = symbols.map((w) => {
      const out: string[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w[i]!);
      }
      return out;
    });
  }
  return { vocab, merges };
}

const CORPUS = [
  'the quick brown fox jumps over the lazy dog',
  'hello world hello there the world is wide',
  'numbers like 123 and 2024 appear in the text',
  "I'm sure they're here and we'll see them",
  'Café résumé naïve are words with accents',
  'line breaks and tabs are whitespace too',
  'THE END is near, the end is here.',
];

type SentencePieceVariant = 'normalizer' | 'metaspace-first' | 'metaspace-split';

function sentencePieceTokenizerJson(variant: SentencePieceVariant, byteFallback: boolean): Record<string, unknown> {
  // Lower-case "z" and "q" are left out of the vocabulary: byte fallback (or <unk>) has to handle them.
  const { vocab, merges } = trainSentencePieceBpe(CORPUS, 'zq', 150, byteFallback);
  const llama2Decoder = {
    type: 'Sequence',
    decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
      { type: 'ByteFallback' },
      { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 },
    ],
  };
  const metaspace = (prependScheme: string, split: boolean) => ({
    type: 'Metaspace',
    replacement: '▁',
    prepend_scheme: prependScheme,
    split,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
    normalizer:
      variant === 'normalizer'
        ? {
            type: 'Sequence',
            normalizers: [
              { type: 'Prepend', prepend: '▁' },
              { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
            ],
          }
        : null,
    pre_tokenizer: variant === 'normalizer' ? null : variant === 'metaspace-first' ? metaspace('first', false) : metaspace('always', true),
    post_processor: bosTemplate('<s>', 1),
    decoder:
      variant === 'normalizer'
        ? llama2Decoder
        : metaspace(variant === 'metaspace-first' ? 'first' : 'always', variant === 'metaspace-split'),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: byteFallback,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

describe('SentencePiece-style BPE (Llama 2, TinyLlama, Mistral)', () => {
  for (const variant of ['normalizer', 'metaspace-first', 'metaspace-split'] as const) {
    for (const byteFallback of [true, false]) {
      it(`${variant}, byte_fallback ${byteFallback}: matches transformers.js on every text (ids, decode)`, async () => {
        const name = `sp-${variant}-${byteFallback}`;
        const dir = await writeTokenizerDir(name, sentencePieceTokenizerJson(variant, byteFallback), {
          bos_token: '<s>',
          eos_token: '</s>',
          unk_token: '<unk>',
        });
        const tokenizer = await loadTokenizer(dir, 'llama');
        expect(tokenizer).toBeInstanceOf(SentencePieceBpeTokenizer);
        expect(tokenizer.padId).toBe(2);
        expect(await compareWithTransformersJs(name, tokenizer)).toBe(TEXTS.length);
        const sp = tokenizer as SentencePieceBpeTokenizer;
        if (byteFallback) {
          // "z" is not in the vocabulary: its byte token; a newline too.
          expect(sp.tokenizeToStrings('z\n')).toContain('<0x7A>');
          expect(sp.tokenizeToStrings('z\n')).toContain('<0x0A>');
        } else {
          // Without byte fallback, a run of unknown characters is one <unk> (fuse_unk).
          expect(sp.tokenizeToStrings('zzq').filter((t) => t === '<unk>')).toHaveLength(1);
        }
        // Offsets point into the original text; the "▁" of a space spans that space.
        const text = 'hello world';
        const { offsets } = tokenizer.tokenize(text);
        expect(offsets[0]![0]).toBe(0);
        expect(offsets.at(-1)![1]).toBe(text.length);
        expect(tokenizer.tokenizerJson()).toBe(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
      });
    }
  }

  it('is saved as its tokenizer.json, byte for byte, and loads back the same', async () => {
    const dir = await writeTokenizerDir('sp-save', sentencePieceTokenizerJson('normalizer', true), { eos_token: '</s>' });
    const tokenizer = await loadTokenizer(dir, 'llama');
    const saved = join(modelsRoot(), 'sp-saved');
    expect(await tokenizer.save(saved)).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    expect(await readFile(join(saved, 'tokenizer.json'), 'utf8')).toBe(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    const again = await loadTokenizer(saved, 'llama');
    for (const text of TEXTS) expect(again.encode(text).ids).toEqual(tokenizer.encode(text).ids);
    expect(tokenizer.tokenizerConfig()).toMatchObject({ eos_token: '</s>', bos_token: '<s>', clean_up_tokenization_spaces: false });
  });

  it.skipIf(llama.skip !== undefined)('loads a whole LLaMA model directory with a SentencePiece tokenizer', async () => {
    const dir = await writeTokenizerDir('sp-model', sentencePieceTokenizerJson('normalizer', true), { eos_token: '</s>' });
    for (const file of ['config.json', 'model.safetensors']) await copyFile(join(llama.dir, file), join(dir, file));
    const { checkpoint, tokenizer } = await loadModelDir(dir);
    expect(checkpoint.config.modelType).toBe('llama');
    expect(tokenizer).toBeInstanceOf(SentencePieceBpeTokenizer);
    expect(tokenizer.encode('hello world').ids[0]).toBe(1);
  });
});

describe('refused LLaMA-family tokenizer.json components', () => {
  async function refusal(name: string, edit: (json: Record<string, unknown>) => void): Promise<VocabularyError> {
    const json = sentencePieceTokenizerJson('normalizer', true);
    edit(json);
    const dir = await writeTokenizerDir(name, json, { eos_token: '</s>' });
    const error = await loadTokenizer(dir, 'llama').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VocabularyError);
    expect((error as VocabularyError).file).toBe(join(dir, 'tokenizer.json'));
    return error as VocabularyError;
  }

  it('names the file and the component', async () => {
    expect((await refusal('r-nfkc', (j) => (j.normalizer = { type: 'NFKC' }))).problem).toMatch(/unsupported normalizer "NFKC"/);
    expect((await refusal('r-pre', (j) => (j.pre_tokenizer = { type: 'Whitespace' }))).problem).toMatch(
      /unsupported pre_tokenizer "Whitespace"/,
    );
    expect((await refusal('r-dec', (j) => (j.decoder = { type: 'WordPiece' }))).problem).toMatch(/unsupported decoder "WordPiece"/);
    expect((await refusal('r-model', (j) => (j.model = { type: 'Unigram', vocab: [] }))).problem).toMatch(/model.type is "Unigram"/);
    expect(
      (
        await refusal('r-regex', (j) => {
          j.normalizer = null;
          j.decoder = { type: 'ByteLevel' };
          j.pre_tokenizer = {
            type: 'Sequence',
            pretokenizers: [
              { type: 'Split', pattern: { Regex: '\\w+|\\W' }, behavior: 'Isolated', invert: false },
              { type: 'ByteLevel', use_regex: false },
            ],
          };
        })
      ).problem,
    ).toMatch(/Split pattern .* is not supported: regex: escape \\w/);
    expect(
      (
        await refusal('r-lstrip', (j) => {
          (j.added_tokens as Array<Record<string, unknown>>)[1]!.lstrip = true;
        })
      ).problem,
    ).toMatch(/added_tokens\[1\] "<s>" has lstrip: true/);
    expect(
      (
        await refusal('r-normalized', (j) => {
          (j.added_tokens as Array<Record<string, unknown>>)[2]!.normalized = true;
        })
      ).problem,
    ).toMatch(/normalized: true with a normalizer/);
    expect((await refusal('r-dropout', (j) => ((j.model as Record<string, unknown>).dropout = 0.1))).problem).toMatch(/dropout/);
    expect(
      (await refusal('r-post', (j) => (j.post_processor = { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 1] }))).problem,
    ).toMatch(/unsupported post_processor "RobertaProcessing"/);
  });
});
