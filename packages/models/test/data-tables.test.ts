// Tables of a user's own data (CSV, TSV, JSON Lines): the parsing edge cases of each format, and every
// refusal naming the file, the line and (where there is one) the column.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { parseTable, readTable, type Table, tableFormatOf } from '../src/data/tables.js';
import { dataError } from './data-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ziplm-tables-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

const plain = (table: Table) => ({ columns: table.columns, rows: table.rows, lines: table.lines });

describe('tableFormatOf', () => {
  it('tells the format by the extension, in any case', () => {
    expect(tableFormatOf('a/b.csv')).toBe('csv');
    expect(tableFormatOf('DATA.TSV')).toBe('tsv');
    expect(tableFormatOf('x.tab')).toBe('tsv');
    expect(tableFormatOf('x.jsonl')).toBe('jsonl');
    expect(tableFormatOf('C:\\data\\x.ndjson')).toBe('jsonl');
  });

  it('names the file, the extensions and the way out for anything else', () => {
    for (const file of ['spam.txt', 'noext', '.csv', 'dir.csv/file']) {
      const error = dataError(() => tableFormatOf(file));
      expect(error.file).toBe(file);
      expect(error.problem).toContain('.csv, .tsv, .tab, .jsonl, .ndjson');
      expect(error.problem).toContain('--format');
    }
  });
});

describe('CSV', () => {
  it('reads RFC 4180: quotes, doubled quotes, commas and newlines inside quotes, CRLF', () => {
    const text = 'text,label\r\n"hello, world",1\r\n"she said ""hi""",0\r\n"two\r\nlines",1\r\nplain,0\r\n';
    expect(plain(parseTable(text, 'x.csv', 'csv'))).toEqual({
      columns: ['text', 'label'],
      rows: [
        ['hello, world', '1'],
        ['she said "hi"', '0'],
        ['two\nlines', '1'],
        ['plain', '0'],
      ],
      lines: [2, 3, 4, 6],
    });
  });

  it('keeps empty fields, a quoted empty field, a quote inside an unquoted field, and a last line without newline', () => {
    const table = parseTable('a,b,c\n,,\n"",x,5" screen\n1,2,3', 'x.csv', 'csv');
    expect(table.rows).toEqual([
      ['', '', ''],
      ['', 'x', '5" screen'],
      ['1', '2', '3'],
    ]);
    expect(table.lines).toEqual([2, 3, 4]);
  });

  it('skips blank lines (counting them in line numbers), drops a BOM and trims header names', () => {
    const table = parseTable('\ufeff text , label\n\nfoo,1\n   \nbar,0\n\n', 'x.csv', 'csv');
    expect(plain(table)).toEqual({
      columns: ['text', 'label'],
      rows: [
        ['foo', '1'],
        ['bar', '0'],
      ],
      lines: [3, 5],
    });
  });

  it('a one-column file: a quoted empty field is a row, a blank line is not', () => {
    expect(parseTable('text\n""\n\nx\n', 'x.csv', 'csv').rows).toEqual([[''], ['x']]);
  });

  it('refuses a row with another number of columns, naming the line where the row starts', () => {
    const error = dataError(() => parseTable('text,label\n"a\nb",1\nc,1,extra\n', 'spam.csv', 'csv'));
    expect(error.message).toBe('spam.csv: line 4: expected 2 comma-separated columns (text, label), found 3');
    expect(dataError(() => parseTable('text,label\nno comma here\n', 'x.csv', 'csv')).problem).toBe(
      'line 2: expected 2 comma-separated columns (text, label), found 1 (no "," on the line)',
    );
  });

  it('names the line an unterminated quote starts on', () => {
    const error = dataError(() => parseTable('text,label\nok,1\n"never closed,1\nmore,0\n', 'x.csv', 'csv'));
    expect(error.problem).toMatch(/^line 3: a quoted field is never closed/);
  });

  it('refuses text after a closing quote', () => {
    expect(dataError(() => parseTable('text,label\n"a"b,1\n', 'x.csv', 'csv')).problem).toMatch(/^line 2: "b" after the closing quote/);
  });

  it('refuses an empty or repeated header name', () => {
    expect(dataError(() => parseTable('text,,label\n', 'x.csv', 'csv')).problem).toBe('line 1: column 2 of the header has no name');
    expect(dataError(() => parseTable('text,label,text\n', 'x.csv', 'csv')).problem).toBe(
      'line 1: column "text" appears twice in the header (columns 1 and 3)',
    );
  });

  it('refuses an empty file and reads a header-only file as no rows', () => {
    expect(dataError(() => parseTable(' \n\n', 'x.csv', 'csv')).problem).toMatch(/^empty file/);
    expect(plain(parseTable('text,label\n', 'x.csv', 'csv'))).toEqual({ columns: ['text', 'label'], rows: [], lines: [] });
  });
});

describe('TSV', () => {
  it('splits at tabs without quoting: a quote is an ordinary character', () => {
    const table = parseTable('sentence\tlabel\r\n"quoted" text\t1\r\nit\'s "half\t0\r\n', 'x.tsv', 'tsv');
    expect(plain(table)).toEqual({
      columns: ['sentence', 'label'],
      rows: [
        ['"quoted" text', '1'],
        ['it\'s "half', '0'],
      ],
      lines: [2, 3],
    });
  });

  it('skips blank lines but keeps a line of tabs as a row of empty cells', () => {
    const table = parseTable('a\tb\n\nx\ty\n\t\n', 'x.tsv', 'tsv');
    expect(table.rows).toEqual([
      ['x', 'y'],
      ['', ''],
    ]);
    expect(table.lines).toEqual([3, 4]);
  });

  it('refuses a ragged row, naming the line', () => {
    expect(dataError(() => parseTable('a\tb\nx\ty\nz\n', 'x.tsv', 'tsv')).problem).toBe(
      'line 3: expected 2 tab-separated columns (a, b), found 1 (no "\\t" on the line)',
    );
  });
});

describe('JSON Lines', () => {
  it('takes every key in first-seen order; numbers and booleans become strings; null and missing are undefined', () => {
    const text = '{"text":"a","label":1}\n\n{"label":"neg","text":"b","extra":true}\n{"text":null,"label":2.5}\n';
    expect(plain(parseTable(text, 'x.jsonl', 'jsonl'))).toEqual({
      columns: ['text', 'label', 'extra'],
      rows: [
        ['a', '1', undefined],
        ['b', 'neg', 'true'],
        [undefined, '2.5', undefined],
      ],
      lines: [1, 3, 4],
    });
  });

  it('keeps a key that is null in every row as a column', () => {
    expect(parseTable('{"text":"a","note":null}\n', 'x.jsonl', 'jsonl').columns).toEqual(['text', 'note']);
  });

  it('refuses an object or array value, naming line and column', () => {
    expect(dataError(() => parseTable('{"text":"a"}\n{"text":{"x":1}}\n', 'x.jsonl', 'jsonl')).message).toBe(
      'x.jsonl: line 2, column "text": expected a string, number or boolean, found an object',
    );
    expect(dataError(() => parseTable('{"label":[1]}\n', 'x.jsonl', 'jsonl')).problem).toBe(
      'line 1, column "label": expected a string, number or boolean, found an array',
    );
  });

  it('refuses a line that is not JSON, or not an object, with the line and the reason', () => {
    const error = dataError(() => parseTable('{"text":"a"}\n{"text": "b",}\n', 'x.jsonl', 'jsonl'));
    expect(error.problem).toMatch(/^line 2: not valid JSON \(.+\)$/);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(dataError(() => parseTable('["a", 1]\n', 'x.jsonl', 'jsonl')).problem).toMatch(
      /^line 1: expected a JSON object .*found an array$/,
    );
    expect(dataError(() => parseTable('{"":"a"}\n', 'x.jsonl', 'jsonl')).problem).toMatch(/^line 1: a key is empty/);
  });
});

describe('parseTable on generated input', () => {
  /** A cell: any text, including commas, quotes, newlines and tabs. */
  const cell = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\t', 'é', '😀'), maxLength: 6 });
  /** RFC 4180 writing: a cell with a comma, quote, newline or edge space (or an empty one) is quoted, its quotes doubled. */
  const csvCell = (value: string) => (/[,"\n]|^\s|\s$/.test(value) || value === '' ? `"${value.replaceAll('"', '""')}"` : value);

  it('reads back every CSV table written by RFC 4180 (seeded)', () => {
    const tables = fc
      .integer({ min: 1, max: 4 })
      .chain((width) => fc.tuple(fc.constant(width), fc.array(fc.array(cell, { minLength: width, maxLength: width }), { maxLength: 6 })));
    fc.assert(
      fc.property(tables, fc.boolean(), ([width, rows], crlf) => {
        const header = Array.from({ length: width }, (_, i) => `c${i}`);
        const newline = crlf ? '\r\n' : '\n';
        const text = [header, ...rows].map((row) => row.map(csvCell).join(',')).join(newline) + newline;
        expect(parseTable(text, 'gen.csv', 'csv').rows).toEqual(rows);
      }),
      { seed: 14, numRuns: 300 },
    );
  });

  it('ends in a table or a DataError for any text, in every format (seeded)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', '\t', '{', '}', ':', '[', '1', ' '), maxLength: 40 });
    fc.assert(
      fc.property(text, fc.constantFrom('csv', 'tsv', 'jsonl'), (input, format) => {
        try {
          const table = parseTable(input, 'gen', format);
          for (const row of table.rows) expect(row).toHaveLength(table.columns.length);
          expect(table.lines).toHaveLength(table.rows.length);
        } catch (error) {
          expect(error).toBeInstanceOf(DataError);
        }
      }),
      { seed: 14, numRuns: 500 },
    );
  });
});

describe('readTable', () => {
  it('reads by extension, or by the format given', () => {
    const csv = write('by-extension.csv', '\ufefftext,label\r\nhi,1\r\n');
    expect(plain(readTable(csv))).toEqual({ columns: ['text', 'label'], rows: [['hi', '1']], lines: [2] });
    const tsvInTxt = write('tsv-in.txt', 'text\tlabel\nhi\t1\n');
    expect(readTable(tsvInTxt, 'tsv').rows).toEqual([['hi', '1']]);
    expect(readTable(tsvInTxt, 'tsv').format).toBe('tsv');
  });

  it('refuses a missing file, UTF-16 and invalid UTF-8, saying to convert to UTF-8', () => {
    expect(dataError(() => readTable(join(dir, 'missing.csv'))).problem).toBe('file not found');
    const utf16 = write('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('text,label\nhi,1\n', 'utf16le')]));
    expect(dataError(() => readTable(utf16)).problem).toMatch(
      /^is UTF-16 \(little-endian byte order mark\), not UTF-8; convert it to UTF-8/,
    );
    const utf16NoBom = write('utf16-nobom.csv', Buffer.from('text,label\nhi,1\n', 'utf16le'));
    expect(dataError(() => readTable(utf16NoBom)).problem).toMatch(/NUL byte at byte 1: a UTF-16 file without a byte order mark/);
    const latin1 = write('latin1.csv', Buffer.from('text,label\nok,1\ncaf\xe9,0\n', 'latin1'));
    const error = dataError(() => readTable(latin1));
    expect(error.file).toBe(latin1);
    expect(error.problem).toMatch(/^is not valid UTF-8 \(first at line 3\); .*convert it to UTF-8/);
  });
});
