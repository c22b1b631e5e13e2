// Text files read within bounds (issue 12, items 4 and 5): only regular files (a symlink to
// /dev/zero grew without bound, a FIFO blocked forever), at most ZIPLM_MAX_INPUT_BYTES per file and
// ZIPLM_MAX_LINE_BYTES per line (a 50 MB TSV line exhausted the heap), and CRLF line endings and a
// BOM accepted everywhere text is read (WikiText with CRLF overflowed the stack).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { readConfigFile } from '../src/io/checkpoint.js';
import { readGlue } from '../src/data/glue.js';
import { DEFAULT_INPUT_LIMITS, inputLimits, MAX_INPUT_BYTES_ENV, MAX_LINE_BYTES_ENV, setInputLimits } from '../src/data/limits.js';
import { readSquad } from '../src/data/squad.js';
import { wikiTextArticleSplit, WIKITEXT_MIN_ARTICLES } from '../src/data/splits.js';
import { readWikiText, splitWikiTextArticles } from '../src/data/wikitext.js';
import { ConfigError, DataError, VocabularyError } from '../src/errors.js';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { BYTE_ORDER, BYTE_TO_UNICODE } from '../src/tokenizers/bpe.js';
import { dataError } from './data-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-untrusted-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
  setInputLimits({});
});
let count = 0;
const fresh = (name: string) => {
  const dir = join(root, `d${count++}`);
  mkdirSync(dir);
  return join(dir, name);
};
const write = (name: string, content: string | Buffer) => {
  const file = fresh(name);
  writeFileSync(file, content);
  return file;
};

const SST2 = 'sentence\tlabel\na fine film\t1\na dull film\t0\n';

/** WikiText with `n` articles, lines joined by `eol`. */
function wikiText(n: number, eol = '\n'): string {
  const lines = [' '];
  for (let k = 0; k < n; k++) lines.push(` = Article ${k} = `, '', ` Text of article ${k} . `, '', ' = = Part = = ', '', ' More . ', '');
  return lines.join(eol);
}

describe('only regular files are read', () => {
  it('a symlink to /dev/zero is refused without reading it', () => {
    const link = fresh('dev.tsv');
    symlinkSync('/dev/zero', link);
    const error = dataError(() => readGlue(link, 'sst2'));
    expect(error.file).toBe(link);
    expect(error.message).toContain('a character device');
    expect(error.message).toContain('not a regular file');
  });

  it.skipIf(process.platform === 'win32')('a FIFO is refused at once instead of blocking', () => {
    const fifo = fresh('wiki.test.raw');
    execFileSync('mkfifo', [fifo]);
    const started = performance.now();
    expect(dataError(() => readWikiText(fifo)).message).toContain('a FIFO');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a directory, for a data file, a tokenizer file and config.json', async () => {
    const dir = fresh('squad');
    mkdirSync(dir);
    expect(dataError(() => readSquad(dir)).message).toContain('a directory');
    const modelDir = fresh('model');
    mkdirSync(join(modelDir, 'vocab.txt'), { recursive: true });
    mkdirSync(join(modelDir, 'tokenizer.json'));
    // loadTokenizer only picks regular files, so a directory named tokenizer.json reads as missing.
    await expect(loadTokenizer(modelDir, 'bert')).rejects.toThrow(VocabularyError);
    mkdirSync(join(modelDir, 'config.json'));
    await expect(readConfigFile(join(modelDir, 'config.json'))).rejects.toThrow(ConfigError);
    await expect(readConfigFile(join(modelDir, 'config.json'))).rejects.toThrow(/a directory/);
  });
});

describe('file and line limits', () => {
  it('defaults: 256 MiB per file, 1 MiB per line', () => {
    expect(inputLimits()).toEqual({ maxInputBytes: 256 * 1024 * 1024, maxLineBytes: 1024 * 1024 });
    expect(DEFAULT_INPUT_LIMITS).toEqual(inputLimits());
  });

  it('a TSV line over the line limit is refused naming the line, the limit and how to raise it', () => {
    const long = `sentence\tlabel\nshort\t1\n${'x'.repeat(DEFAULT_INPUT_LIMITS.maxLineBytes + 1)}\t0\n`;
    const file = write('dev.tsv', long);
    const error = dataError(() => readGlue(file, 'sst2'));
    expect(error.file).toBe(file);
    expect(error.message).toContain('line 3 is 1048579 bytes');
    expect(error.message).toContain('line limit of 1048576 bytes');
    expect(error.message).toContain(MAX_LINE_BYTES_ENV);
    vi.stubEnv(MAX_LINE_BYTES_ENV, String(2 * 1024 * 1024));
    expect(readGlue(file, 'sst2')).toHaveLength(2);
  });

  it('a file over the input limit is refused before it is read; the environment and setInputLimits raise it', () => {
    const file = write('dev.tsv', SST2);
    vi.stubEnv(MAX_INPUT_BYTES_ENV, '16');
    const error = dataError(() => readGlue(file, 'sst2'));
    expect(error.message).toContain(`is ${SST2.length} bytes, more than the input limit of 16 bytes`);
    expect(error.message).toContain(MAX_INPUT_BYTES_ENV);
    expect(error.message).toContain('--max-input-mb');
    setInputLimits({ maxInputBytes: 1024 });
    expect(readGlue(file, 'sst2')).toHaveLength(2);
  });

  it('JSON files have no line limit (GPT2 vocab.json is one 1 MB line), only the file limit', () => {
    vi.stubEnv(MAX_LINE_BYTES_ENV, '8');
    const squad = {
      version: '1.1',
      data: [
        { title: 'T', paragraphs: [{ context: 'a b c', qas: [{ id: 'q', question: 'b?', answers: [{ text: 'b', answer_start: 2 }] }] }] },
      ],
    };
    expect(readSquad(write('dev.json', JSON.stringify(squad)))).toHaveLength(1);
  });

  it('a bad limit in the environment is a DataError naming the variable', () => {
    vi.stubEnv(MAX_INPUT_BYTES_ENV, 'lots');
    const error = dataError(() => readGlue(write('dev.tsv', SST2), 'sst2'));
    expect(error.file).toBe(`$${MAX_INPUT_BYTES_ENV}`);
    expect(() => setInputLimits({ maxInputBytes: 0 })).toThrow(DataError);
  });
});

describe('CRLF line endings and a BOM', () => {
  it('WikiText with CRLF splits into the same articles as with LF (it used to be one article)', () => {
    const lf = wikiText(12);
    const file = write('wiki.test.raw', `\ufeff${wikiText(12, '\r\n')}`);
    const text = readWikiText(file);
    expect(text).toBe(lf);
    expect(splitWikiTextArticles(wikiText(12, '\r\n'))).toEqual(splitWikiTextArticles(lf));
    expect(wikiTextArticleSplit(text, file).heldout).toHaveLength(1);
  });

  it('TSV, config.json, vocab.txt and merges.txt with a BOM and CRLF read like the plain files', async () => {
    expect(readGlue(write('dev.tsv', `\ufeff${SST2.replaceAll('\n', '\r\n')}`), 'sst2')).toEqual(readGlue(write('dev.tsv', SST2), 'sst2'));
    const config = { model_type: 'gpt2', n_embd: 8, n_layer: 1, n_head: 2, vocab_size: 300, bos_token_id: 0, eos_token_id: 0 };
    const crlfConfig = write('config.json', `\ufeff${JSON.stringify(config, null, 2).replaceAll('\n', '\r\n')}`);
    expect((await readConfigFile(crlfConfig)).numLayers).toBe(1);

    const bert = fresh('bert');
    mkdirSync(bert);
    writeFileSync(join(bert, 'vocab.txt'), '\ufeff[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\n');
    expect((await loadTokenizer(bert, 'bert')).encode('hello').ids).toEqual([2, 5, 3]);

    const gpt2 = fresh('gpt2');
    mkdirSync(gpt2);
    const bytes = BYTE_ORDER.map((b) => BYTE_TO_UNICODE[b]!);
    writeFileSync(
      join(gpt2, 'vocab.json'),
      `\ufeff${JSON.stringify(Object.fromEntries([...bytes, 'he', '<|endoftext|>'].map((t, i) => [t, i])))}`,
    );
    writeFileSync(join(gpt2, 'merges.txt'), '\ufeff#version: 0.2\r\nh e\r\n');
    expect((await loadTokenizer(gpt2, 'gpt2')).encode('he').ids).toEqual([256]);
  });
});

describe('WikiText with too few articles', () => {
  it.each([
    ['no headings', 'just some text\nand more text\n'],
    ['3 articles', wikiText(3)],
  ])('%s: a DataError naming the file and the minimum', (_name, text) => {
    const file = write('wiki.test.raw', text);
    const error = dataError(() => wikiTextArticleSplit(readWikiText(file), file));
    expect(error.file).toBe(file);
    expect(error.message).toContain(`at least ${WIKITEXT_MIN_ARTICLES}`);
  });

  it('10 articles hold out one', () => {
    expect(wikiTextArticleSplit(wikiText(10)).heldout).toHaveLength(1);
    expect(existsSync(root)).toBe(true);
  });
});
