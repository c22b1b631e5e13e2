// A user's own data: text classification rows (columns, bad rows, skipped rows, labels), text corpora
// (document separators, directories, links, encodings) and the seeded splits that hold part of it out.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { orderLabels, readTextClassification, readTextCorpus } from '../src/data/custom.js';
import { DEFAULT_SPLIT_FRACTIONS, describeSeededSplit, seededSplit, stratifiedSplit } from '../src/data/splits.js';
import { dataError } from './data-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const file = join(dir, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

const TEXT_LABEL = { text: 'text', label: 'label' } as const;

describe('readTextClassification', () => {
  it('reads text, pairs and trimmed labels from CSV, TSV and JSON Lines alike, with file lines', () => {
    const csv = write('pairs.csv', 'question,sentence,label\n"Is it?"," Yes, it is.", yes \nWhy?,Because.,no\n');
    const tsv = write('pairs.tsv', 'question\tsentence\tlabel\nIs it?\t Yes, it is.\t yes \nWhy?\tBecause.\tno\n');
    const jsonl = write(
      'pairs.jsonl',
      '{"question":"Is it?","sentence":" Yes, it is.","label":" yes "}\n{"question":"Why?","sentence":"Because.","label":"no"}\n',
    );
    for (const file of [csv, tsv, jsonl]) {
      const { examples, report } = readTextClassification(file, { text: 'question', textPair: 'sentence', label: 'label' });
      expect(examples).toEqual([
        { text: 'Is it?', textPair: ' Yes, it is.', label: 'yes', line: file === jsonl ? 1 : 2 },
        { text: 'Why?', textPair: 'Because.', label: 'no', line: file === jsonl ? 2 : 3 },
      ]);
      expect(report).toEqual({ rowsRead: 2, skipped: 0, skippedReasons: [] });
    }
  });

  it('reads integer labels of JSON Lines as strings', () => {
    const file = write('ints.jsonl', '{"text":"a","label":0}\n{"text":"b","label":1}\n');
    expect(readTextClassification(file, TEXT_LABEL).examples.map((e) => e.label)).toEqual(['0', '1']);
  });

  it('names a missing column with the columns there are, and the one that differs only by case', () => {
    const file = write('columns.csv', 'Text,label\nhi,1\n');
    expect(dataError(() => readTextClassification(file, { text: 'txt', label: 'label' })).message).toBe(
      `${file}: line 1: no column "txt" (columns: Text, label)`,
    );
    expect(dataError(() => readTextClassification(file, TEXT_LABEL)).problem).toBe(
      'line 1: no column "text" (columns: Text, label); did you mean "Text"?',
    );
    const jsonl = write('columns.jsonl', '{"sentence":"hi","label":1}\n');
    expect(dataError(() => readTextClassification(jsonl, TEXT_LABEL)).problem).toBe(
      'no column "text" in any row (columns: sentence, label)',
    );
  });

  it('refuses a label column that is also a text column, and a file without rows', () => {
    const file = write('same.csv', 'text,label\nhi,1\n');
    expect(dataError(() => readTextClassification(file, { text: 'text', label: 'text' })).problem).toMatch(
      /both as a text column and as the label/,
    );
    expect(dataError(() => readTextClassification(write('header-only.csv', 'text,label\n'), TEXT_LABEL)).problem).toBe(
      'no rows after the header',
    );
  });

  it('stops at the first bad row, naming line and column, with the rows read and skipped', () => {
    const rows = Array.from({ length: 55 }, (_, i) => `row ${i},pos`);
    const file = write('bad-label.csv', ['text,label', ...rows, 'no label here,  ', 'later,pos'].join('\n'));
    expect(dataError(() => readTextClassification(file, TEXT_LABEL)).message).toBe(
      `${file}: line 57, column "label": empty label (56 rows read, 0 skipped)`,
    );
    const cases: [string, string][] = [
      ['text,label\nok,a\n   ,b\n', 'line 3, column "text": empty text (2 rows read, 0 skipped)'],
      ['q,s,label\nok,fine,a\nok,\t,b\n', 'line 3, column "s": empty text pair (2 rows read, 0 skipped)'],
      ['text,label\nok,a\nfine,c\n', 'line 3, column "label": unknown label "c" (labels: a, b) (2 rows read, 0 skipped)'],
    ];
    for (const [content, problem] of cases) {
      const columns = content.startsWith('q,') ? { text: 'q', textPair: 's', label: 'label' } : TEXT_LABEL;
      expect(dataError(() => readTextClassification(write('case.csv', content), columns, { labels: ['a', 'b'] })).problem).toBe(problem);
    }
    const jsonl = write('missing.jsonl', '{"text":"a","label":"x"}\n{"text":"b"}\n');
    expect(dataError(() => readTextClassification(jsonl, TEXT_LABEL)).problem).toBe(
      'line 2, column "label": no label (the value is missing or null) (2 rows read, 0 skipped)',
    );
  });

  it('with skipBadRows, skips and counts bad rows and keeps the first ten reasons', () => {
    const lines = ['text,label'];
    for (let i = 0; i < 30; i++) lines.push(i % 3 === 0 ? `,pos` : `text ${i},${i % 3 === 1 ? 'pos' : 'neg'}`);
    const file = write('skip.csv', lines.join('\n'));
    const { examples, report } = readTextClassification(file, TEXT_LABEL, { skipBadRows: true });
    expect(examples).toHaveLength(20);
    expect(report.rowsRead).toBe(30);
    expect(report.skipped).toBe(10);
    expect(report.skippedReasons).toHaveLength(10);
    expect(report.skippedReasons[0]).toBe('line 2, column "text": empty text');
    const more = write('skip-more.csv', [...lines, ',neg', ',neg'].join('\n'));
    const skippedMore = readTextClassification(more, TEXT_LABEL, { skipBadRows: true }).report;
    expect(skippedMore.skipped).toBe(12);
    expect(skippedMore.skippedReasons).toHaveLength(10);
  });

  it('with skipBadRows, a file whose every row is bad is still an error', () => {
    const file = write('all-bad.csv', 'text,label\nx,c\ny,d\n');
    expect(dataError(() => readTextClassification(file, TEXT_LABEL, { skipBadRows: true, labels: ['a', 'b'] })).problem).toBe(
      'every row is bad (2 rows read, 2 skipped); the first: line 2, column "label": unknown label "c" (labels: a, b)',
    );
  });

  it('refuses an empty list of labels, an empty label and a repeated one', () => {
    const file = write('ok.csv', 'text,label\nx,a\n');
    expect(dataError(() => readTextClassification(file, TEXT_LABEL, { labels: [] })).file).toBe('labels');
    expect(dataError(() => readTextClassification(file, TEXT_LABEL, { labels: ['a', ' '] })).problem).toMatch(/empty label/);
    expect(dataError(() => readTextClassification(file, TEXT_LABEL, { labels: ['a', ' a'] })).problem).toBe('names "a" twice');
  });
});

describe('orderLabels', () => {
  it('orders integer labels numerically, anything else by code point, each label once', () => {
    expect(orderLabels(['10', '2', '-1', '2', '0'])).toEqual(['-1', '0', '2', '10']);
    expect(orderLabels(['1', '01', '1'])).toEqual(['01', '1']);
    expect(orderLabels(['spam', 'ham', 'Spam', '10', '9'])).toEqual(['10', '9', 'Spam', 'ham', 'spam']);
    // U+FF5E (one UTF-16 unit) sorts before U+1F600 (a surrogate pair) by code point, not by UTF-16 unit.
    expect(orderLabels(['\u{1f600}', '\uff5e'])).toEqual(['\uff5e', '\u{1f600}']);
    expect(orderLabels([])).toEqual([]);
  });
});

describe('readTextCorpus', () => {
  const corpus = write('corpus.txt', '\n\nFirst doc line one.\nline two.\n\n\n  \nSecond doc.\n%\nThird.\n');

  it('cuts by file, blank line, line and a separator line, with the line each document starts on', () => {
    const docs = (separator: Parameters<typeof readTextCorpus>[1]) =>
      readTextCorpus(corpus, separator).documents.map(({ text, line }) => [text, line]);
    expect(docs('file')).toEqual([['\n\nFirst doc line one.\nline two.\n\n\n  \nSecond doc.\n%\nThird.\n', 1]]);
    expect(docs('blank-line')).toEqual([
      ['First doc line one.\nline two.', 3],
      ['Second doc.\n%\nThird.', 8],
    ]);
    expect(docs('line')).toEqual([
      ['First doc line one.', 3],
      ['line two.', 4],
      ['Second doc.', 8],
      ['%', 9],
      ['Third.', 10],
    ]);
    expect(docs({ line: ' % ' })).toEqual([
      ['First doc line one.\nline two.\n\n\n  \nSecond doc.', 3],
      ['Third.', 10],
    ]);
    expect(readTextCorpus(corpus, 'line').documents[0]!.file).toBe(corpus);
  });

  it('cuts WikiText-style text into articles by the WikiText splitter, with their first lines', () => {
    const file = write('wiki.raw', '\n = A = \n\n text a \n = = Section = = \n = B = \n text b \n');
    expect(readTextCorpus(file, 'wikitext').documents.map(({ text, line }) => [text, line])).toEqual([
      [' = A = \n\n text a \n = = Section = = ', 2],
      [' = B = \n text b \n', 6],
    ]);
  });

  it('drops whitespace-only documents and refuses a corpus with none, naming the path', () => {
    expect(readTextCorpus(write('sparse.txt', '%\n%\n  \nonly\n%\n'), { line: '%' }).documents.map((d) => d.text)).toEqual(['only']);
    const empty = write('empty.txt', ' \n\n\t\n');
    const error = dataError(() => readTextCorpus(empty, 'blank-line'));
    expect(error.file).toBe(empty);
    expect(error.problem).toMatch(/^no documents/);
  });

  it('refuses an unknown separator and an empty separator line', () => {
    expect(dataError(() => readTextCorpus(corpus, 'paragraph' as 'line')).problem).toMatch(
      /must be one of file, blank-line, line, wikitext/,
    );
    expect(dataError(() => readTextCorpus(corpus, { line: '  ' })).file).toBe('document separator');
  });

  it('reads a directory recursively in sorted path order, skipping hidden entries and other extensions', () => {
    const root = join(dir, 'tree');
    write('tree/b.txt', 'b');
    write('tree/a/z.md', 'a/z');
    write('tree/a.txt', 'a');
    write('tree/C.TEXT', 'C');
    write('tree/notes.csv', 'not text');
    write('tree/.hidden.txt', 'hidden');
    write('tree/.git/x.txt', 'hidden dir');
    const { documents, files } = readTextCorpus(root, 'file');
    expect(files.map((f) => f.slice(root.length + 1))).toEqual(['C.TEXT', 'a.txt', 'a/z.md', 'b.txt']);
    expect(documents.map((d) => d.text)).toEqual(['C', 'a', 'a/z', 'b']);
    expect(readTextCorpus(root, 'file', { extensions: ['csv'] }).files).toEqual([join(root, 'notes.csv')]);
    expect(dataError(() => readTextCorpus(root, 'file', { maxFiles: 3 })).problem).toMatch(/^holds more than 3 text files/);
    expect(dataError(() => readTextCorpus(root, 'file', { extensions: ['.rst'] })).problem).toMatch(
      /^has no files with the extensions \.rst/,
    );
    expect(dataError(() => readTextCorpus(join(dir, 'no-such-dir'), 'file')).problem).toBe('not found');
  });

  it('follows a link inside the directory once, and refuses one that leads outside', () => {
    const root = join(dir, 'linked');
    write('linked/real/doc.txt', 'doc');
    symlinkSync(join(root, 'real'), join(root, 'alias'));
    symlinkSync(root, join(root, 'real', 'loop'));
    const { files } = readTextCorpus(root, 'file');
    // `alias/doc.txt` sorts first and is the same file as `real/doc.txt`: read once.
    expect(files.map((f) => f.slice(root.length + 1))).toEqual(['alias/doc.txt']);

    const outside = write('outside/secret.txt', 'secret');
    write('escape/doc.txt', 'doc');
    symlinkSync(outside, join(dir, 'escape', 'secret.txt'));
    const error = dataError(() => readTextCorpus(join(dir, 'escape'), 'file'));
    expect(error.file).toBe(join(dir, 'escape', 'secret.txt'));
    expect(error.problem).toMatch(/^is a symbolic link to .*outside the corpus directory/);
  });

  it('refuses UTF-16 and invalid UTF-8 text, saying to convert to UTF-8', () => {
    const utf16 = write('utf16.txt', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('hi', 'utf16le').swap16()]));
    expect(dataError(() => readTextCorpus(utf16, 'file')).problem).toMatch(
      /^is UTF-16 \(big-endian byte order mark\).*convert it to UTF-8/,
    );
    const invalid = write('invalid.txt', Buffer.from([0x68, 0x69, 0x0a, 0xc3, 0x28]));
    expect(dataError(() => readTextCorpus(invalid, 'file')).problem).toMatch(/^is not valid UTF-8 \(first at line 2\)/);
    // A UTF-8 BOM is dropped and CRLF read as LF.
    expect(readTextCorpus(write('bom.txt', '\ufeffone\r\n\r\ntwo\r\n'), 'blank-line').documents.map((d) => d.text)).toEqual(['one', 'two']);
  });
});

describe('seeded splits', () => {
  const items = Array.from({ length: 200 }, (_, i) => ({ id: i, label: i % 4 === 0 ? 'spam' : 'ham' }));

  it('split the same way for a seed, differently for another', () => {
    const a = stratifiedSplit(items, (i) => i.label, DEFAULT_SPLIT_FRACTIONS, 42);
    expect(stratifiedSplit(items, (i) => i.label, DEFAULT_SPLIT_FRACTIONS, 42)).toEqual(a);
    expect(stratifiedSplit(items, (i) => i.label, DEFAULT_SPLIT_FRACTIONS, 43).test).not.toEqual(a.test);
    expect(seededSplit(items, DEFAULT_SPLIT_FRACTIONS, 7)).toEqual(seededSplit(items, DEFAULT_SPLIT_FRACTIONS, 7));
  });

  it('are disjoint, complete and in input order', () => {
    const fractions = { validation: 0.1, test: 0.2 };
    for (const split of [stratifiedSplit(items, (i) => i.label, fractions, 1), seededSplit(items, fractions, 1)]) {
      const ids = [...split.train, ...split.validation, ...split.test].map((i) => i.id).sort((x, y) => x - y);
      expect(ids).toEqual(items.map((i) => i.id));
      for (const part of [split.train, split.validation, split.test]) {
        expect(part.map((i) => i.id)).toEqual([...part.map((i) => i.id)].sort((x, y) => x - y));
      }
      expect(split.test).toHaveLength(40);
      expect(split.validation).toHaveLength(20);
    }
  });

  it('keep the label proportions in every part (stratified)', () => {
    const split = stratifiedSplit(items, (i) => i.label, DEFAULT_SPLIT_FRACTIONS, 42);
    const count = (part: typeof items, label: string) => part.filter((i) => i.label === label).length;
    expect([count(split.test, 'spam'), count(split.test, 'ham')]).toEqual([5, 15]);
    expect([count(split.validation, 'spam'), count(split.validation, 'ham')]).toEqual([5, 15]);
    expect([count(split.train, 'spam'), count(split.train, 'ham')]).toEqual([40, 120]);
  });

  it("split a label's items the same whatever rows of other labels are added", () => {
    const spamOnly = items.filter((i) => i.label === 'spam');
    const withOthers = stratifiedSplit(items, (i) => i.label, DEFAULT_SPLIT_FRACTIONS, 9);
    const alone = stratifiedSplit(spamOnly, (i) => i.label, DEFAULT_SPLIT_FRACTIONS, 9);
    expect(withOthers.test.filter((i) => i.label === 'spam')).toEqual(alone.test);
  });

  it('keep a training item for every label with two or more items', () => {
    const tiny = [
      { id: 0, label: 'a' },
      { id: 1, label: 'a' },
      { id: 2, label: 'b' },
      { id: 3, label: 'c' },
      { id: 4, label: 'c' },
      { id: 5, label: 'c' },
    ];
    const split = stratifiedSplit(tiny, (i) => i.label, { validation: 0.45, test: 0.45 }, 3);
    expect(split.train.filter((i) => i.label === 'a')).toHaveLength(1);
    expect(split.train.filter((i) => i.label === 'c')).toHaveLength(1);
    expect(split.train.length + split.validation.length + split.test.length).toBe(6);
    expect(seededSplit([1, 2], { validation: 0.5, test: 0.49 }, 5).train).toHaveLength(1);
    expect(seededSplit([], DEFAULT_SPLIT_FRACTIONS, 5)).toEqual({ train: [], validation: [], test: [] });
  });

  it('refuse fractions outside [0, 1) or summing to 1 or more, and a fractional seed', () => {
    for (const fractions of [
      { validation: -0.1, test: 0.1 },
      { validation: 0.1, test: 1 },
      { validation: 0.5, test: 0.5 },
      { validation: Number.NaN, test: 0 },
    ]) {
      expect(dataError(() => seededSplit(items, fractions, 1)).file).toBe('split');
    }
    expect(dataError(() => stratifiedSplit(items, (i) => i.label, DEFAULT_SPLIT_FRACTIONS, 1.5)).problem).toMatch(/seed/);
  });

  it('describe themselves in one sentence', () => {
    expect(describeSeededSplit(DEFAULT_SPLIT_FRACTIONS, 42, true)).toBe(
      'seeded split (seed 42, stratified by label): 80% train, 10% validation, 10% test',
    );
    expect(describeSeededSplit({ validation: 0.05, test: 0.125 }, 7, false)).toBe(
      'seeded split (seed 7): 82.5% train, 5% validation, 12.5% test',
    );
  });
});
