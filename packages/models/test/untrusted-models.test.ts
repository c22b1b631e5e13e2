// Model files that parse but must not be used (issue 12, items 4 and 6): token ids a tokenizer
// cannot hold, vocabularies without the special tokens every input is built from, and weights
// holding NaN or Infinity. Each is refused at load, naming the file and the token or tensor.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_LIMITS } from '../src/config.js';
import { VocabularyError, WeightsError } from '../src/errors.js';
import { builtinModelDir } from '../src/io/builtin.js';
import { checkFinite, loadCheckpoint, loadModelDir, saveCheckpoint } from '../src/io/checkpoint.js';
import { BYTE_ORDER, BYTE_TO_UNICODE } from '../src/tokenizers/bpe.js';
import { loadTokenizer } from '../src/tokenizers/index.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-untrusted-models-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

/** A fresh directory holding the given files. */
function dirWith(files: Record<string, string>): string {
  const dir = join(root, `d${count++}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

async function vocabularyError(promise: Promise<unknown>): Promise<VocabularyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VocabularyError);
  return error as VocabularyError;
}

const BERT_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world'];
const bertJson = (vocab: Record<string, unknown>, added: unknown[] = []) =>
  JSON.stringify({
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'BertPreTokenizer' },
    model: { type: 'WordPiece', unk_token: '[UNK]', vocab },
  });
const bertVocab = (extra: Record<string, unknown> = {}) => ({ ...Object.fromEntries(BERT_VOCAB.map((t, i) => [t, i])), ...extra });

const BYTES = BYTE_ORDER.map((b) => BYTE_TO_UNICODE[b]!);
const gpt2Vocab = (extra: Record<string, unknown> = {}, eos = true) => ({
  ...Object.fromEntries([...BYTES, ...(eos ? ['<|endoftext|>'] : [])].map((t, i) => [t, i])),
  ...extra,
});

describe('token ids a tokenizer cannot hold are VocabularyErrors naming the file and token', () => {
  const BAD_IDS = [2 ** 32, CONFIG_LIMITS.vocabSize, -1, 1.5, '7'];

  it.each(BAD_IDS)('tokenizer.json (BERT) model.vocab id %s', async (id) => {
    const dir = dirWith({ 'tokenizer.json': bertJson(bertVocab({ huge: id })) });
    const error = await vocabularyError(loadTokenizer(dir, 'bert'));
    expect(error.file).toBe(join(dir, 'tokenizer.json'));
    expect(error.message).toContain('model.vocab["huge"]');
  });

  it.each(BAD_IDS)('tokenizer.json added_tokens id %s', async (id) => {
    const dir = dirWith({ 'tokenizer.json': bertJson(bertVocab(), [{ id, content: '[NEW]', special: true }]) });
    const error = await vocabularyError(loadTokenizer(dir, 'bert'));
    expect(error.message).toMatch(/added_tokens\[0\]/);
  });

  it.each(BAD_IDS)('vocab.json (GPT2) id %s', async (id) => {
    const dir = dirWith({ 'vocab.json': JSON.stringify(gpt2Vocab({ huge: id })), 'merges.txt': '#version: 0.2\n' });
    const error = await vocabularyError(loadTokenizer(dir, 'gpt2'));
    expect(error.file).toBe(join(dir, 'vocab.json'));
    expect(error.message).toContain('model.vocab["huge"]');
  });

  it('ids past the vocabulary size of config.json are refused by loadModelDir', async () => {
    const dir = join(root, `d${count++}`);
    cpSync(builtinModelDir('tiny-bert'), dir, { recursive: true });
    const vocab = readFileSync(join(dir, 'vocab.txt'), 'utf8')
      .split('\n')
      .filter((t) => t !== '');
    writeFileSync(join(dir, 'tokenizer.json'), bertJson(bertVocab({ [vocab[0]!]: 0, extra: 100_000 })));
    const error = await vocabularyError(loadModelDir(dir));
    expect(error.message).toMatch(/vocab_size/);
  });
});

describe('vocabularies without the special tokens every input is built from are refused at load', () => {
  it.each([['[CLS]'], ['[SEP]']])('vocab.txt without %s', async (token) => {
    const dir = dirWith({ 'vocab.txt': `${BERT_VOCAB.filter((t) => t !== token).join('\n')}\n` });
    const error = await vocabularyError(loadTokenizer(dir, 'bert'));
    expect(error.file).toBe(join(dir, 'vocab.txt'));
    expect(error.message).toContain(`"${token}"`);
  });

  it('tokenizer.json without [SEP]', async () => {
    const vocab = Object.fromEntries(BERT_VOCAB.filter((t) => t !== '[SEP]').map((t, i) => [t, i]));
    const dir = dirWith({ 'tokenizer.json': bertJson(vocab) });
    expect((await vocabularyError(loadTokenizer(dir, 'bert'))).message).toContain('"[SEP]"');
  });

  it('GPT2 vocab.json and tokenizer.json without <|endoftext|>', async () => {
    const files = dirWith({ 'vocab.json': JSON.stringify(gpt2Vocab({}, false)), 'merges.txt': '#version: 0.2\n' });
    expect((await vocabularyError(loadTokenizer(files, 'gpt2'))).message).toContain('"<|endoftext|>"');
    const json = dirWith({
      'tokenizer.json': JSON.stringify({
        pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
        model: { type: 'BPE', vocab: gpt2Vocab({}, false), merges: [] },
      }),
    });
    const error = await vocabularyError(loadTokenizer(json, 'gpt2'));
    expect(error.file).toBe(join(json, 'tokenizer.json'));
    expect(error.message).toContain('"<|endoftext|>"');
  });
});

describe('weights holding NaN or Infinity are WeightsErrors naming the tensor', () => {
  it.each([
    ['NaN', Number.NaN, 'F32'],
    ['Infinity', Number.POSITIVE_INFINITY, 'F32'],
    ['-Infinity', Number.NEGATIVE_INFINITY, 'F16'],
    ['NaN', Number.NaN, 'BF16'],
  ] as const)('%s in an FFN weight (%s)', async (_name, value, dtype) => {
    const dense = await loadCheckpoint(builtinModelDir('tiny-bert'));
    const name = 'bert.encoder.layer.1.intermediate.dense.weight';
    const weights = new Map(dense.weights);
    const poisoned = Float32Array.from(weights.get(name)!.data);
    poisoned[17] = value;
    weights.set(name, { shape: weights.get(name)!.shape, data: poisoned });
    const dir = join(root, `d${count++}`);
    await saveCheckpoint(dir, { config: dense.config, weights }, { dtype });
    const error = await loadCheckpoint(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as WeightsError).file).toBe(join(dir, 'model.safetensors'));
    expect((error as WeightsError).message).toContain(`"${name}"`);
    expect((error as WeightsError).message).toContain('flat index 17');
  });

  it('checkFinite passes finite extremes (float32 max, subnormals, -0)', () => {
    expect(() => checkFinite(Float32Array.of(3.4028234663852886e38, -1.4e-45, -0, 0), 'x', 'f')).not.toThrow();
  });
});
