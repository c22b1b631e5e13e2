// The file formats @ziplm/models reads, as fuzz targets: each takes one file's bytes, writes them
// where ziplm expects that file (next to valid companions) and reads it the way a run does, through
// the use that follows (a config with its weights, a vocabulary through a tokenizer, a dataset through
// its split and the features a task builds). Shared by the fuzz suites and the corpus replay.

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertConfig, gpt2Config } from '../../src/config.js';
import { chunkTokenIds } from '../../src/data/wikitext.js';
import { encodeGlueExamples, readGlue } from '../../src/data/glue.js';
import { prepareSquadFeatures, readSquad } from '../../src/data/squad.js';
import { squadDevSplit, wikiTextArticleSplit } from '../../src/data/splits.js';
import { readWikiText } from '../../src/data/wikitext.js';
import { builtinModelDir } from '../../src/io/builtin.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { randomCheckpoint } from '../../src/random.js';
import { loadByteLevelBpeTokenizerJson, loadTokenizer, loadWordPieceTokenizerJson } from '../../src/tokenizers/load.js';
import type { Tokenizer } from '../../src/tokenizers/types.js';
import { parameterCount } from '../../src/weights.js';
import { isTypedZiplmError, tinyBertOptions, tinyGpt2Options } from '@ziplm/test-utils';

/** The regression corpus of @ziplm/models: `corpus/<format>/<case>`. */
export const CORPUS_DIR = join(import.meta.dirname, 'corpus');

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'data');
const TINY_BERT = builtinModelDir('tiny-bert');
const TINY_GPT2 = builtinModelDir('tiny-gpt2');

/** What every use of a tokenizer in ziplm does at least: encode a pair with truncation, and decode. */
function exercise(tokenizer: Tokenizer): void {
  const encoding = tokenizer.encode('A gentle, funny little film.', 'Is it funny?', { maxLength: 24 });
  tokenizer.decode(encoding.ids);
}

/** A fresh directory holding copies of `files` (absolute paths) under their base names. */
function directoryWith(root: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, 'case-'));
  for (const [name, source] of Object.entries(files)) copyFileSync(source, join(dir, name));
  return dir;
}

export interface ModelsFuzzWorkspace {
  /** Valid seed files, by format. */
  readonly seeds: {
    readonly safetensors: Uint8Array;
    readonly bertConfig: unknown;
    readonly gpt2Config: unknown;
    readonly vocabTxt: string;
    readonly tokenizerConfig: unknown;
    readonly vocabJson: unknown;
    readonly mergesTxt: string;
    readonly wordPieceTokenizerJson: unknown;
    readonly bpeTokenizerJson: unknown;
    readonly tsv: readonly string[];
    readonly squad: unknown;
    readonly wikitext: string;
  };
  /** Format → reader of one file's bytes. */
  readonly targets: Readonly<Record<ModelsFuzzFormat, (input: Uint8Array) => Promise<unknown>>>;
  /** Removes the temporary directory. */
  dispose(): void;
}

export const MODELS_FUZZ_FORMATS = [
  'safetensors',
  'config',
  'vocab-txt',
  'tokenizer-config',
  'vocab-json',
  'merges-txt',
  'tokenizer-json',
  'tsv',
  'squad',
  'wikitext',
] as const;
export type ModelsFuzzFormat = (typeof MODELS_FUZZ_FORMATS)[number];

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Twelve articles (WikiText holds out every tenth, so a file needs at least ten) made of the fixture's lines. */
function wikiTextSeed(fixture: string): string {
  const body = fixture.split('\n').filter((line) => !/^ = [^=].* = $/.test(line));
  return Array.from({ length: 12 }, (_, k) => [' ', ` = Article ${k} = `, ...body, ` = = Part ${k} = = `, ...body].join('\n')).join('\n');
}

/** A tokenizer.json of the tiny BERT's first 160 WordPiece tokens (the specials among them), in the Hugging Face layout. */
function wordPieceTokenizerJson(vocabTxt: string): unknown {
  const tokens = vocabTxt
    .split('\n')
    .filter((t) => t.length > 0)
    .slice(0, 160);
  const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => t in vocab);
  return {
    version: '1.0',
    added_tokens: specials.map((content) => ({ id: vocab[content], content, special: true })),
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
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/** A tokenizer.json of the tiny GPT2's byte-level BPE: its 256 byte symbols, first 40 merges and end-of-text token. */
function bpeTokenizerJson(fullVocab: Record<string, number>, mergesTxt: string): unknown {
  const merges = mergesTxt
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#version'))
    .slice(0, 40);
  const vocab = Object.fromEntries(Object.entries(fullVocab).filter(([, id]) => id < 256 + 40 || id === 1023));
  return {
    version: '1.0',
    added_tokens: [{ id: 1023, content: '<|endoftext|>', special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
    model: { type: 'BPE', vocab, merges },
  };
}

/** Builds the seeds and targets in a fresh temporary directory. */
export async function modelsFuzzWorkspace(): Promise<ModelsFuzzWorkspace> {
  const root = mkdtempSync(join(tmpdir(), 'ziplm-fuzz-models-'));
  // Small checkpoints (a few KB, with per-layer shapes in their config's ziplm block) keep 1,000 cases fast.
  const small = join(root, 'small-bert');
  const smallGpt2 = join(root, 'small-gpt2');
  await saveCheckpoint(
    small,
    randomCheckpoint(bertConfig({ ...tinyBertOptions(), head: { type: 'classification', labels: ['a', 'b'] } }), { seed: 3 }),
  );
  await saveCheckpoint(smallGpt2, randomCheckpoint(gpt2Config(tinyGpt2Options()), { seed: 4 }));
  const vocabTxt = readFileSync(join(TINY_BERT, 'vocab.txt'), 'utf8');
  const vocabJson = readJson(join(TINY_GPT2, 'vocab.json')) as Record<string, number>;
  const mergesTxt = readFileSync(join(TINY_GPT2, 'merges.txt'), 'utf8');
  const bertTokenizer = await loadTokenizer(TINY_BERT, 'bert');
  const gpt2Tokenizer = await loadTokenizer(TINY_GPT2, 'gpt2');

  /** Writes `bytes` as `name` into a fresh copy of `companions` and returns the directory. */
  const caseDir = (companions: Record<string, string>, name: string, bytes: Uint8Array): string => {
    const dir = directoryWith(root, companions);
    writeFileSync(join(dir, name), bytes);
    return dir;
  };
  const cleanUp = async <T>(dir: string, read: (dir: string) => Promise<T>): Promise<T> => {
    try {
      return await read(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const targets: ModelsFuzzWorkspace['targets'] = {
    async safetensors(input) {
      // In memory (the decoder of buffers) and from disk with its config: both must end well.
      try {
        decodeSafetensors(input);
      } catch (error) {
        if (!isTypedZiplmError(error)) throw error;
      }
      return cleanUp(caseDir({ 'config.json': join(small, 'config.json') }, 'model.safetensors', input), async (dir) => {
        const checkpoint = await loadCheckpoint(dir);
        return parameterCount(checkpoint.config);
      });
    },
    async config(input) {
      // Paired with the weights of the model type it names, as `ziplm` pairs a config with its directory.
      const text = new TextDecoder().decode(input);
      const source = /"model_type"\s*:\s*"gpt2"/.test(text) ? smallGpt2 : small;
      return cleanUp(caseDir({ 'model.safetensors': join(source, 'model.safetensors') }, 'config.json', input), async (dir) => {
        const checkpoint = await loadCheckpoint(dir);
        return parameterCount(checkpoint.config);
      });
    },
    async 'vocab-txt'(input) {
      const companions = { 'tokenizer_config.json': join(TINY_BERT, 'tokenizer_config.json') };
      return cleanUp(caseDir(companions, 'vocab.txt', input), async (dir) => exercise(await loadTokenizer(dir, 'bert')));
    },
    async 'tokenizer-config'(input) {
      const companions = { 'vocab.txt': join(TINY_BERT, 'vocab.txt') };
      return cleanUp(caseDir(companions, 'tokenizer_config.json', input), async (dir) => exercise(await loadTokenizer(dir, 'bert')));
    },
    async 'vocab-json'(input) {
      const companions = { 'merges.txt': join(TINY_GPT2, 'merges.txt') };
      return cleanUp(caseDir(companions, 'vocab.json', input), async (dir) => exercise(await loadTokenizer(dir, 'gpt2')));
    },
    async 'merges-txt'(input) {
      const companions = { 'vocab.json': join(TINY_GPT2, 'vocab.json') };
      return cleanUp(caseDir(companions, 'merges.txt', input), async (dir) => exercise(await loadTokenizer(dir, 'gpt2')));
    },
    async 'tokenizer-json'(input) {
      // The same file name serves both models: a BPE file goes to the GPT2 loader, anything else to BERT's.
      const bpe = /"type"\s*:\s*"BPE"/.test(new TextDecoder().decode(input));
      return cleanUp(caseDir({}, 'tokenizer.json', input), async (dir) => {
        const file = join(dir, 'tokenizer.json');
        exercise(bpe ? await loadByteLevelBpeTokenizerJson(file) : await loadWordPieceTokenizerJson(file));
      });
    },
    async tsv(input) {
      const file = join(root, 'case.tsv');
      writeFileSync(file, input);
      const text = new TextDecoder().decode(input);
      const examples = readGlue(file, text.startsWith('question') ? 'qnli' : 'sst2');
      return encodeGlueExamples(examples, bertTokenizer, 32);
    },
    async squad(input) {
      const file = join(root, 'case.json');
      writeFileSync(file, input);
      const examples = readSquad(file);
      for (const part of ['train', 'heldout'] as const) {
        prepareSquadFeatures(squadDevSplit(examples, part), bertTokenizer, { maxLength: 48, docStride: 12 });
      }
    },
    async wikitext(input) {
      const file = join(root, 'case.raw');
      writeFileSync(file, input);
      const { train, heldout } = wikiTextArticleSplit(readWikiText(file), file);
      let chunks = 0;
      for (const article of [...train, ...heldout])
        chunks += chunkTokenIds(gpt2Tokenizer.encode(article).ids, 32, { keepRemainder: true }).length;
      return chunks;
    },
  };

  return {
    seeds: {
      safetensors: new Uint8Array(readFileSync(join(small, 'model.safetensors'))),
      bertConfig: readJson(join(small, 'config.json')),
      gpt2Config: readJson(join(smallGpt2, 'config.json')),
      vocabTxt,
      tokenizerConfig: readJson(join(TINY_BERT, 'tokenizer_config.json')),
      vocabJson,
      mergesTxt,
      wordPieceTokenizerJson: wordPieceTokenizerJson(vocabTxt),
      bpeTokenizerJson: bpeTokenizerJson(vocabJson, mergesTxt),
      tsv: ['sst2-small.tsv', 'qnli-small.tsv', 'qnli-crlf.tsv'].map((name) => readFileSync(join(FIXTURES, name), 'utf8')),
      squad: readJson(join(FIXTURES, 'squad-small.json')),
      wikitext: wikiTextSeed(readFileSync(join(FIXTURES, 'wiki-small.raw'), 'utf8')),
    },
    targets,
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}
