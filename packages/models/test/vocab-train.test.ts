import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPath, hasData, readGlue, readWikiText } from '../src/data/index.js';
import { BYTE_ORDER, BYTE_TO_UNICODE } from '../src/tokenizers/bpe.js';
import {
  ByteLevelBpeTokenizer,
  TokenizationError,
  WordPieceTokenizer,
  loadTokenizer,
  trainByteLevelBpe,
  trainWordPieceVocab,
} from '../src/tokenizers/index.js';

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'ziplm-vocab-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

// Sennrich et al.'s toy corpus: low ×5, lower ×2, newest ×6, widest ×3.
const TOY = [...Array(5).fill('low'), ...Array(2).fill('lower'), ...Array(6).fill('Newest'), ...Array(3).fill('widest')] as string[];

describe('trainWordPieceVocab', () => {
  it('lists special tokens, characters, ## characters, then merges by frequency', () => {
    const vocab = trainWordPieceVocab(TOY, { vocabSize: 32 });
    expect(vocab.slice(0, 5)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    const chars = ['d', 'e', 'i', 'l', 'n', 'o', 'r', 's', 't', 'w'];
    expect(vocab.slice(5, 15)).toEqual(chars);
    expect(vocab.slice(15, 25)).toEqual(chars.map((c) => `##${c}`));
    // Worked by hand: (##e,##s) and (##s,##t) both occur 9 times, the smaller ids win; then
    // ##est 9; (l,##o) 7 beats (##o,##w) 7 on ids; low 7; at 6 (n,##e) < (##w,##est) < (ne,##w) ...
    expect(vocab.slice(25)).toEqual(['##es', '##est', 'lo', 'low', 'ne', '##west', 'newest']);
    expect(vocab).toHaveLength(32);
  });

  it('stops at minFrequency and is deterministic', () => {
    const a = trainWordPieceVocab(TOY, { vocabSize: 1000 });
    expect(a).toEqual(trainWordPieceVocab([...TOY], { vocabSize: 1000 }));
    // Every merge needs 2 occurrences: "lower" (×2) gets built, nothing that occurs once.
    expect(a).toContain('lower');
    const once = trainWordPieceVocab([...TOY, 'zebra'], { vocabSize: 1000 });
    expect(once).not.toContain('ze');
    expect(once).toContain('z');
    expect(once).toContain('##z');
    expect(trainWordPieceVocab([...TOY, 'zebra'], { vocabSize: 1000, minFrequency: 1 })).toContain('zebra');
  });

  it('gives a tokenizer that never needs [UNK] on its corpus', () => {
    const vocab = trainWordPieceVocab(TOY, { vocabSize: 30 });
    const t = new WordPieceTokenizer({ vocab });
    // 30 tokens stop right after "ne": "newest" is not complete yet.
    expect(t.tokenizeToStrings('Newest lowest wider')).toEqual(['ne', '##w', '##est', 'low', '##est', 'w', '##i', '##d', '##e', '##r']);
    expect(t.tokenizeToStrings('Newest lowest wider')).not.toContain('[UNK]');
    expect(t.padId).toBe(0);
  });

  it('limits the alphabet and rejects a vocabulary size below it', () => {
    const vocab = trainWordPieceVocab(['aaa bbb c'], { vocabSize: 100, limitAlphabet: 2 });
    expect(vocab).not.toContain('c');
    expect(() => trainWordPieceVocab(TOY, { vocabSize: 10 })).toThrow(TokenizationError);
  });

  it('saves vocab.txt that loadTokenizer reads back to the same tokenizer', async () => {
    const vocab = trainWordPieceVocab(TOY, { vocabSize: 32 });
    const t = new WordPieceTokenizer({ vocab });
    const dir = await tempDir();
    expect(await t.save(dir)).toEqual(['vocab.txt', 'tokenizer_config.json']);
    expect((await readFile(join(dir, 'vocab.txt'), 'utf8')).split('\n').slice(0, 6)).toEqual([
      '[PAD]',
      '[UNK]',
      '[CLS]',
      '[SEP]',
      '[MASK]',
      'd',
    ]);
    const back = await loadTokenizer(dir, 'bert');
    expect(back.type).toBe('wordpiece');
    for (const s of ['newest lower', 'Widest, LOW!', 'low newest', 'unknown'])
      expect(back.encode(s, 'lower')).toEqual(t.encode(s, 'lower'));
  });

  it('keeps cased settings through save and load', async () => {
    const vocab = trainWordPieceVocab(['Low low LOW'], { vocabSize: 40, lowercase: false, minFrequency: 1 });
    const t = new WordPieceTokenizer({ vocab, lowercase: false });
    const dir = await tempDir();
    await t.save(dir);
    const back = (await loadTokenizer(dir, 'bert')) as WordPieceTokenizer;
    expect(back.normalizer.lowercase).toBe(false);
    expect(back.tokenizeToStrings('Low LOW')).toEqual(t.tokenizeToStrings('Low LOW'));
    expect(back.tokenizeToStrings('Low LOW')).toEqual(['Low', 'LOW']);
  });
});

describe('trainByteLevelBpe', () => {
  it('starts from the 256 byte symbols in GPT2 order and appends <|endoftext|>', () => {
    // words: "ab" ×1, "Ġab" ×2, "abc" ×1 → (a,b) 4, then (Ġ,ab) 2, then (ab,c) 1 < minFrequency.
    const { vocab, merges } = trainByteLevelBpe(['ab ab ab', 'abc'], { vocabSize: 300 });
    expect(vocab.slice(0, 256)).toEqual(BYTE_ORDER.map((b) => BYTE_TO_UNICODE[b]));
    expect(merges).toEqual([
      ['a', 'b'],
      ['Ġ', 'ab'],
    ]);
    expect(vocab.slice(256)).toEqual(['ab', 'Ġab', '<|endoftext|>']);
  });

  it('respects vocabSize, is deterministic and round-trips text', () => {
    const texts = ['the cat sat on the mat', 'the dog sat on the log', 'cats and dogs, 123 456!', 'naïve café 😀'];
    const a = trainByteLevelBpe(texts, { vocabSize: 270, minFrequency: 1 });
    expect(a.vocab).toHaveLength(270);
    expect(a.merges).toHaveLength(270 - 256 - 1);
    expect(trainByteLevelBpe([...texts], { vocabSize: 270, minFrequency: 1 })).toEqual(a);
    const t = new ByteLevelBpeTokenizer(a);
    for (const s of [...texts, 'unseen Ünïcödé ✓ text\n\twith\r\nbreaks']) expect(t.decode(t.encode(s).ids)).toBe(s);
    // A word seen in training becomes fewer tokens than its bytes.
    expect(t.encode(' the').ids.length).toBeLessThan(4);
    expect(() => trainByteLevelBpe(texts, { vocabSize: 200 })).toThrow(TokenizationError);
  });

  it('saves vocab.json + merges.txt that loadTokenizer reads back', async () => {
    const trained = trainByteLevelBpe(['hello world hello there', 'world of worlds'], { vocabSize: 280 });
    const t = new ByteLevelBpeTokenizer(trained);
    const dir = await tempDir();
    expect(await t.save(dir)).toEqual(['vocab.json', 'merges.txt']);
    expect((await readdir(dir)).sort()).toEqual(['merges.txt', 'vocab.json']);
    const back = await loadTokenizer(dir, 'gpt2');
    expect(back.type).toBe('bpe');
    // The corpus runs out of pairs seen twice before 280: fewer tokens, <|endoftext|> last.
    expect(trained.vocab.length).toBeLessThan(280);
    expect(back.padId).toBe(trained.vocab.length - 1);
    expect(back.vocabSize).toBe(trained.vocab.length);
    for (const s of ['hello worlds', ' of there<|endoftext|>x']) expect(back.encode(s)).toEqual(t.encode(s));
  });
});

describe.skipIf(!hasData('glue/sst2/train.tsv', 'wikitext-2-raw/wiki.test.raw'))(
  'trainers on real data (slices; full runs are in bench)',
  () => {
    it('WordPiece on SST-2 sentences reproduces them without [UNK]', () => {
      const sentences = readGlue(dataPath('glue/sst2/train.tsv'), 'sst2')
        .slice(0, 5000)
        .map((e) => e.textA);
      const vocab = trainWordPieceVocab(sentences, { vocabSize: 3000 });
      expect(vocab).toHaveLength(3000);
      const t = new WordPieceTokenizer({ vocab });
      for (const s of sentences.slice(0, 300)) {
        const ids = t.encode(s).ids;
        expect(ids).not.toContain(t.unkId);
        expect(t.decode(ids, { skipSpecialTokens: true, cleanup: false })).toBe(t.basicTokenize(s).join(' '));
      }
    });

    it('byte-level BPE on WikiText learns GPT2-like first merges and round-trips', () => {
      const lines = readWikiText(dataPath('wikitext-2-raw/wiki.test.raw')).split('\n').slice(0, 4000);
      const trained = trainByteLevelBpe(lines, { vocabSize: 2000 });
      expect(trained.merges[0]).toEqual(['Ġ', 't']);
      const t = new ByteLevelBpeTokenizer(trained);
      const sample = lines.slice(0, 200).join('\n');
      expect(t.decode(t.encode(sample).ids)).toBe(sample);
    });
  },
);
