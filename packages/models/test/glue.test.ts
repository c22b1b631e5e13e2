import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTsv } from '../src/data/glue.js';
import { GLUE_TASKS, dataPath, encodeGlueExamples, hasData, readGlue } from '../src/data/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { dataError } from './data-helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/data/${name}`, import.meta.url));

describe('GLUE TSV reader (fixtures)', () => {
  it('reads single-sentence SST-2 rows', () => {
    const ex = readGlue(fixture('sst2-small.tsv'), 'sst2');
    expect(ex.map((e) => e.label)).toEqual([1, 0, 1]);
    expect(ex[0]).toEqual({ index: 0, textA: 'a gentle , funny little film ', label: 1 });
    // No CSV quoting in GLUE: quotes are text.
    expect(ex[2]!.textA).toBe('"quoted" words stay as they are');
    expect(ex[0]!.textB).toBeUndefined();
  });

  it('reads QNLI pairs with string labels and the index column', () => {
    const ex = readGlue(fixture('qnli-small.tsv'), 'qnli');
    expect(ex.map((e) => [e.index, e.label])).toEqual([
      [0, 0],
      [1, 1],
      [7, 0],
    ]);
    expect(ex[1]).toEqual({ index: 1, textA: 'Who wrote the report?', textB: 'The weather was cold in March.', label: 1 });
    expect(GLUE_TASKS.qnli.labels[ex[1]!.label]).toBe('not_entailment');
  });

  it('accepts Windows line endings', () => {
    expect(readGlue(fixture('qnli-crlf.tsv'), 'qnli')).toEqual([{ index: 0, textA: 'Is this CRLF?', textB: 'Yes it is.', label: 0 }]);
  });

  it('names file and line of malformed rows', () => {
    const cols = dataError(() => readGlue(fixture('sst2-bad-columns.tsv'), 'sst2'));
    expect(cols.file).toBe(fixture('sst2-bad-columns.tsv'));
    expect(cols.message).toMatch(/sst2-bad-columns\.tsv: line 3: expected 2 tab-separated columns \(sentence, label\), found 3/);
    const label = dataError(() => readGlue(fixture('sst2-bad-label.tsv'), 'sst2'));
    expect(label.message).toMatch(/sst2-bad-label\.tsv: line 3: label "positive" is not one of "0", "1"/);
    const column = dataError(() => readGlue(fixture('sst2-small.tsv'), 'qnli'));
    expect(column.message).toMatch(/line 1: header has no "question" column/);
    expect(dataError(() => parseTsv('a\tb\n1\t2\n\n3\t4\n', 'mem.tsv')).message).toMatch(/mem\.tsv: line 3: empty line/);
  });

  it('rejects empty files, header-only files and missing files', () => {
    expect(dataError(() => readGlue(fixture('empty.tsv'), 'sst2')).message).toMatch(/empty\.tsv: empty file/);
    expect(dataError(() => readGlue(fixture('header-only.tsv'), 'sst2')).message).toMatch(/header-only\.tsv: no examples/);
    expect(dataError(() => readGlue(fixture('does-not-exist.tsv'), 'sst2')).message).toMatch(/does-not-exist\.tsv: file not found/);
  });

  it('encodes pairs as sentence pairs with truncation', () => {
    const t = new WordPieceTokenizer({ vocab: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'what', 'color', 'is', 'the', 'sky', '?'] });
    const [first] = encodeGlueExamples(readGlue(fixture('qnli-small.tsv'), 'qnli'), t, 8);
    expect(first!.ids).toHaveLength(8);
    // 5 + 9 tokens into a budget of 5: longest_first leaves 2 and 3.
    expect(first!.typeIds).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(first!.ids.slice(0, 4)).toEqual([2, 5, 6, 3]);
  });
});

const FILES = ['glue/sst2/train.tsv', 'glue/sst2/train-holdout.tsv', 'glue/sst2/dev.tsv', 'glue/qnli/dev.tsv'];
const haveGlue = hasData(...FILES);
if (!haveGlue) console.warn(`glue.test: skipping real-data tests, GLUE files not found under ZIPLM_DATA_DIR (${dataPath()})`);

describe.skipIf(!haveGlue)('GLUE (real files)', () => {
  it('reads the SST-2 splits with the documented sizes and both labels', () => {
    const sizes = { 'glue/sst2/train.tsv': 60614, 'glue/sst2/train-holdout.tsv': 6735, 'glue/sst2/dev.tsv': 872 };
    for (const [file, n] of Object.entries(sizes)) {
      const ex = readGlue(dataPath(file), 'sst2');
      expect(ex, file).toHaveLength(n);
      const positives = ex.filter((e) => e.label === 1).length;
      expect(positives / n, file).toBeGreaterThan(0.4);
      expect(positives / n, file).toBeLessThan(0.6);
      expect(ex.every((e) => e.textA.length > 0)).toBe(true);
    }
  });

  it('reads QNLI dev pairs', () => {
    const ex = readGlue(dataPath('glue/qnli/dev.tsv'), 'qnli');
    expect(ex).toHaveLength(5463);
    expect(ex.map((e) => e.index)).toEqual(ex.map((_, i) => i));
    expect(new Set(ex.map((e) => e.label))).toEqual(new Set([0, 1]));
    expect(ex.every((e) => (e.textB ?? '').length > 0)).toBe(true);
  });
});
