import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VocabularyError } from '../src/errors.js';
import { BYTE_ORDER, BYTE_TO_UNICODE } from '../src/tokenizers/bpe.js';
import { type WordPieceTokenizer, loadTokenizer } from '../src/tokenizers/index.js';
import { loadByteLevelBpe, loadWordPieceTokenizerJson } from '../src/tokenizers/load.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh directory holding the given files. */
async function dirWith(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ziplm-tok-'));
  dirs.push(d);
  for (const [name, content] of Object.entries(files)) await writeFile(join(d, name), content, 'utf8');
  return d;
}

/** Asserts a VocabularyError whose file ends with `file` and whose message matches `problem`. */
async function expectVocabError(promise: Promise<unknown>, file: string, problem: RegExp): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VocabularyError);
  const v = err as VocabularyError;
  expect(v.file.endsWith(file), `${v.file} should end with ${file}`).toBe(true);
  expect(v.message).toMatch(problem);
  expect(v.message).toContain(file);
}

const BERT_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s', 'Hello'];

function bertTokenizerJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: '1.0',
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((content, id) => ({ id, content, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
    },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(BERT_VOCAB.map((t, i) => [t, i])),
    },
    ...overrides,
  });
}

const BYTES = BYTE_ORDER.map((b) => BYTE_TO_UNICODE[b]!);
const bpeVocabJson = (extra: string[] = ['he', 'hel']) =>
  JSON.stringify(Object.fromEntries([...BYTES, ...extra, '<|endoftext|>'].map((t, i) => [t, i])));

describe('loadTokenizer', () => {
  it('reads vocab.txt + tokenizer_config.json for BERT', async () => {
    const dir = await dirWith({
      'vocab.txt': `${BERT_VOCAB.join('\n')}\n`,
      'tokenizer_config.json': JSON.stringify({ do_lower_case: false }),
    });
    const t = (await loadTokenizer(dir, 'bert')) as WordPieceTokenizer;
    expect(t.type).toBe('wordpiece');
    expect(t.encode('Hello hellos').ids).toEqual([2, 8, 5, 7, 3]);
  });

  it('prefers tokenizer.json for BERT and reads its normalizer settings', async () => {
    const dir = await dirWith({
      'tokenizer.json': bertTokenizerJson(),
      'vocab.txt': 'garbage that would fail\n\n',
    });
    const t = await loadTokenizer(dir, 'bert');
    expect(t.encode('HELLO Worlds').ids).toEqual([2, 5, 6, 7, 3]);
    const cased = await loadWordPieceTokenizerJson(
      join(
        await dirWith({ 'tokenizer.json': bertTokenizerJson({ normalizer: { type: 'BertNormalizer', lowercase: false } }) }),
        'tokenizer.json',
      ),
    );
    expect(cased.normalizer).toMatchObject({ lowercase: false, stripAccents: false, cleanText: true, handleChineseChars: true });
    expect(cased.encode('Hello').ids).toEqual([2, 8, 3]);
  });

  it('reads vocab.json + merges.txt for GPT2, and tokenizer.json with a BPE model', async () => {
    const merges = '#version: 0.2\nh e\nhe l\n';
    const t = await loadTokenizer(await dirWith({ 'vocab.json': bpeVocabJson(), 'merges.txt': merges }), 'gpt2');
    expect(t.type).toBe('bpe');
    expect(t.encode('hello').ids).toEqual([257, BYTES.indexOf('l'), BYTES.indexOf('o')]);
    const json = JSON.stringify({
      added_tokens: [{ id: 258, content: '<|endoftext|>', special: true }],
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
      model: { type: 'BPE', vocab: JSON.parse(bpeVocabJson()), merges: [['h', 'e'], 'he l'] },
    });
    const fromJson = await loadTokenizer(await dirWith({ 'tokenizer.json': json }), 'gpt2');
    expect(fromJson.encode('hello<|endoftext|>').ids).toEqual([257, BYTES.indexOf('l'), BYTES.indexOf('o'), 258]);
  });

  it('names the missing file', async () => {
    const empty = await dirWith({});
    await expectVocabError(loadTokenizer(empty, 'bert'), 'vocab.txt', /missing/);
    await expectVocabError(loadTokenizer(empty, 'gpt2'), 'vocab.json', /missing/);
    await expectVocabError(loadTokenizer(await dirWith({ 'merges.txt': 'a b\n' }), 'gpt2'), 'vocab.json', /not found/);
    await expectVocabError(loadTokenizer(await dirWith({ 'vocab.json': bpeVocabJson() }), 'gpt2'), 'merges.txt', /not found/);
  });
});

describe('malformed vocabularies', () => {
  it('vocab.txt: empty, blank line, no [UNK]', async () => {
    await expectVocabError(loadTokenizer(await dirWith({ 'vocab.txt': '' }), 'bert'), 'vocab.txt', /empty vocabulary/);
    await expectVocabError(
      loadTokenizer(await dirWith({ 'vocab.txt': '[PAD]\n[UNK]\n\nhello\n' }), 'bert'),
      'vocab.txt',
      /line 3: empty token/,
    );
    await expectVocabError(loadTokenizer(await dirWith({ 'vocab.txt': 'a\nb\n' }), 'bert'), 'vocab.txt', /unknown token "\[UNK\]"/);
  });

  it('tokenizer_config.json with a wrong type', async () => {
    const dir = await dirWith({ 'vocab.txt': BERT_VOCAB.join('\n'), 'tokenizer_config.json': '{"do_lower_case": "yes"}' });
    await expectVocabError(loadTokenizer(dir, 'bert'), 'tokenizer_config.json', /do_lower_case/);
  });

  it('tokenizer.json: bad JSON with its line, wrong model, unsupported parts, bad ids', async () => {
    await expectVocabError(
      loadTokenizer(await dirWith({ 'tokenizer.json': '{\n  "model": {\n    "type": WordPiece\n  }\n}' }), 'bert'),
      'tokenizer.json',
      /invalid JSON at line 3/,
    );
    await expectVocabError(
      loadTokenizer(await dirWith({ 'tokenizer.json': bertTokenizerJson({ model: { type: 'BPE', vocab: {} } }) }), 'bert'),
      'tokenizer.json',
      /expected "WordPiece"/,
    );
    await expectVocabError(
      loadTokenizer(await dirWith({ 'tokenizer.json': bertTokenizerJson({ normalizer: { type: 'NFKC' } }) }), 'bert'),
      'tokenizer.json',
      /unsupported normalizer "NFKC"/,
    );
    await expectVocabError(
      loadTokenizer(await dirWith({ 'tokenizer.json': bertTokenizerJson({ pre_tokenizer: { type: 'Whitespace' } }) }), 'bert'),
      'tokenizer.json',
      /unsupported pre_tokenizer/,
    );
    await expectVocabError(
      loadTokenizer(
        await dirWith({ 'tokenizer.json': bertTokenizerJson({ model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 0 } } }) }),
        'bert',
      ),
      'tokenizer.json',
      /id 0 to both/,
    );
    await expectVocabError(
      loadTokenizer(
        await dirWith({ 'tokenizer.json': bertTokenizerJson({ model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 1.5 } } }) }),
        'bert',
      ),
      'tokenizer.json',
      /not a non-negative integer/,
    );
  });

  it('vocab.json / merges.txt: bad JSON, bad lines, unknown symbols, missing bytes', async () => {
    const merges = '#version: 0.2\nh e\n';
    await expectVocabError(
      loadTokenizer(await dirWith({ 'vocab.json': '[1, 2]', 'merges.txt': merges }), 'gpt2'),
      'vocab.json',
      /JSON object/,
    );
    await expectVocabError(
      loadTokenizer(await dirWith({ 'vocab.json': '{"a": 0,}', 'merges.txt': merges }), 'gpt2'),
      'vocab.json',
      /invalid JSON/,
    );
    await expectVocabError(
      loadTokenizer(await dirWith({ 'vocab.json': bpeVocabJson(), 'merges.txt': '#version: 0.2\nh e\nhel\n' }), 'gpt2'),
      'merges.txt',
      /line 3: expected two symbols/,
    );
    await expectVocabError(
      loadTokenizer(await dirWith({ 'vocab.json': bpeVocabJson(), 'merges.txt': '#version: 0.2\nh e\nl o\n' }), 'gpt2'),
      'merges.txt',
      /line 3: "lo" of merge "l o" is not in the vocabulary/,
    );
    await expectVocabError(
      loadTokenizer(await dirWith({ 'vocab.json': JSON.stringify({ h: 0, e: 1, he: 2 }), 'merges.txt': merges }), 'gpt2'),
      'vocab.json',
      /lacks the symbol of byte/,
    );
    await expect(loadByteLevelBpe('/nonexistent/ziplm/vocab.json', '/nonexistent/ziplm/merges.txt')).rejects.toThrow(
      /vocab\.json: file not found/,
    );
  });
});
