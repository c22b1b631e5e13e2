// Tables of a user's own data: CSV, TSV and JSON Lines, read into one shape (named columns, rows of
// optional strings, the file line of every row) so the readers above them (custom.ts) never know which
// format a file was in. Every refusal is a DataError naming the file and the line (and the column,
// where there is one): a user fixes a 50,000-row file by its line numbers. The formats are described
// for users in guide: data formats (apps/docs/guide/data-formats.md).

import { DataError } from '../errors.js';
import { readTextFile } from '../internal/text-file.js';

/** A table file's format. */
export type TableFormat = 'csv' | 'tsv' | 'jsonl';

/** Every table format, in the order messages list them. */
export const TABLE_FORMATS: readonly TableFormat[] = ['csv', 'tsv', 'jsonl'];

/** File extensions (lower case) and the format each means. */
const FORMAT_OF_EXTENSION: ReadonlyMap<string, TableFormat> = new Map([
  ['.csv', 'csv'],
  ['.tsv', 'tsv'],
  ['.tab', 'tsv'],
  ['.jsonl', 'jsonl'],
  ['.ndjson', 'jsonl'],
]);

/**
 * The format of a table file by its extension (case-insensitive): `.csv` → csv; `.tsv`, `.tab` →
 * tsv; `.jsonl`, `.ndjson` → jsonl.
 * @throws DataError naming the file, the extensions known and that a format can be given explicitly.
 */
export function tableFormatOf(file: string): TableFormat {
  const name = file.replaceAll('\\', '/').split('/').pop() ?? file;
  const dot = name.lastIndexOf('.');
  const format = dot > 0 ? FORMAT_OF_EXTENSION.get(name.slice(dot).toLowerCase()) : undefined;
  if (format === undefined) {
    throw new DataError(
      file,
      `cannot tell the table format from the file name (known extensions: ${[...FORMAT_OF_EXTENSION.keys()].join(', ')}); ` +
        `give the format explicitly (${TABLE_FORMATS.join(', ')}; ziplm's --format)`,
    );
  }
  return format;
}

/** A table read from a file: a header of column names and the data rows. */
export interface Table {
  readonly file: string;
  readonly format: TableFormat;
  /** Column names: the header row (CSV, TSV; names trimmed), or every key of the JSON objects in first-seen order. */
  readonly columns: readonly string[];
  /** One entry per data row, values in `columns` order; undefined = absent / JSON null. */
  readonly rows: readonly (readonly (string | undefined)[])[];
  /** 1-based line in the file where each row starts (for messages). */
  readonly lines: readonly number[];
}

/**
 * Parses the text of a table file. Blank lines between rows are skipped in every format (a final
 * newline is allowed). A BOM and CRLF line endings are accepted.
 * - `csv`: RFC 4180: a header row, comma-separated fields, fields in double quotes may hold commas,
 *   newlines and quotes written `""`. A quote inside an unquoted field is an ordinary character.
 * - `tsv`: a header row, tab-separated fields, no quoting (the GLUE / Hugging Face `csv.QUOTE_NONE`
 *   convention: `"` is an ordinary character and no field holds a tab or a newline).
 * - `jsonl`: one JSON object per line; strings are kept, numbers and booleans become strings, null
 *   and missing keys are undefined.
 * @throws DataError naming `file` and the line: an empty file, a header with an empty or repeated
 * name, a row with another number of columns than the header, an unterminated quote, a line that is
 * not a JSON object, a value that is an object or array.
 */
export function parseTable(text: string, file: string, format: TableFormat): Table {
  // The same text a file read gives (readTextFile drops the BOM and turns CRLF into LF), so a test or a
  // caller with text in hand gets the same table as one reading the file.
  let normalized = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (normalized.includes('\r\n')) normalized = normalized.replace(/\r\n/g, '\n');
  if (normalized.trim() === '') throw new DataError(file, 'empty file (expected a header row and rows)');
  switch (format) {
    case 'csv':
      return delimitedTable(file, format, parseCsvRecords(normalized, file), ',', 'comma-separated');
    case 'tsv':
      return delimitedTable(file, format, splitTsvRecords(normalized), '\t', 'tab-separated');
    case 'jsonl':
      return parseJsonLines(normalized, file);
    default:
      throw new DataError(file, `unknown table format ${JSON.stringify(format)} (formats: ${TABLE_FORMATS.join(', ')})`);
  }
}

/**
 * Reads a table file within the input limits (as every data file: a regular file, at most
 * `ZIPLM_MAX_INPUT_BYTES`, no line over `ZIPLM_MAX_LINE_BYTES`), as UTF-8 only; `format` defaults to
 * the one its extension names ({@link tableFormatOf}).
 * @throws DataError naming the file: missing, over a limit, not UTF-8, or malformed ({@link parseTable}).
 */
export function readTable(file: string, format: TableFormat = tableFormatOf(file)): Table {
  return parseTable(readUtf8DataText(file), file, format);
}

/**
 * Reads a user's data file as UTF-8 text within the input limits: a UTF-16 file or invalid UTF-8 is a
 * DataError saying how to convert it (the text would otherwise reach the tokenizer as U+FFFD). Shared by
 * the readers of a user's own tables and corpora; not public.
 */
export function readUtf8DataText(file: string): string {
  return readTextFile(file, { lineBased: true, requireUtf8: true }, (problem, cause) => {
    throw new DataError(file, problem, cause === undefined ? undefined : { cause });
  });
}

/** One record of a delimited file: its cells and the line it starts on. */
interface RawRecord {
  readonly cells: string[];
  readonly line: number;
}

/**
 * Whether a record is a blank line, skipped: one unquoted cell of nothing or spaces only. A quoted
 * empty field (`""`) or a line of delimiters (`,,` or tabs) is a row, with empty cells.
 */
function isBlank(record: RawRecord, quoted: boolean): boolean {
  return !quoted && record.cells.length === 1 && record.cells[0]!.trim() === '';
}

/** The header and rows of a CSV or TSV file from its records (the first is the header). */
function delimitedTable(file: string, format: TableFormat, records: RawRecord[], delimiter: string, kind: string): Table {
  const [header, ...data] = records;
  const columns = checkedColumns(
    file,
    header!.cells.map((name) => name.trim()),
    header!.line,
  );
  const rows: string[][] = [];
  const lines: number[] = [];
  for (const record of data) {
    if (record.cells.length !== columns.length) {
      const found =
        record.cells.length === 1 && columns.length > 1
          ? `found 1 (no ${JSON.stringify(delimiter)} on the line)`
          : `found ${record.cells.length}`;
      throw new DataError(file, `line ${record.line}: expected ${columns.length} ${kind} columns (${columns.join(', ')}), ${found}`);
    }
    rows.push(record.cells);
    lines.push(record.line);
  }
  return { file, format, columns, rows, lines };
}

/** Refuses an empty or repeated column name; returns the names. */
function checkedColumns(file: string, names: string[], line: number): string[] {
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === '') throw new DataError(file, `line ${line}: column ${i + 1} of the header has no name`);
    const first = seen.get(name);
    if (first !== undefined) {
      throw new DataError(file, `line ${line}: column "${name}" appears twice in the header (columns ${first + 1} and ${i + 1})`);
    }
    seen.set(name, i);
  });
  return names;
}

/** TSV records: one per non-blank line, cells split at tabs (no quoting). */
function splitTsvRecords(text: string): RawRecord[] {
  const records: RawRecord[] = [];
  text.split('\n').forEach((line, i) => {
    const record = { cells: line.split('\t'), line: i + 1 };
    if (!isBlank(record, false)) records.push(record);
  });
  return records;
}

/**
 * CSV records by RFC 4180, blank lines skipped. A field that starts with `"` is quoted: it runs to
 * the next `"` not doubled, and must be followed by a comma, a newline or the end of the text.
 */
function parseCsvRecords(text: string, file: string): RawRecord[] {
  const records: RawRecord[] = [];
  let cells: string[] = [];
  let recordLine = 1;
  let recordQuoted = false;
  let line = 1;
  let i = 0;
  const endRecord = () => {
    const record = { cells, line: recordLine };
    if (!isBlank(record, recordQuoted)) records.push(record);
    cells = [];
    recordQuoted = false;
    recordLine = line;
  };
  for (;;) {
    // At the start of a field.
    if (text[i] === '"') {
      recordQuoted = true;
      const openedOn = line;
      let value = '';
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) {
          throw new DataError(file, `line ${openedOn}: a quoted field is never closed (a quote inside a quoted field is written "")`);
        }
        const chunk = text.slice(i, quote);
        value += chunk;
        line += countNewlines(chunk);
        if (text[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      cells.push(value);
      const next = text[i];
      if (next !== ',' && next !== '\n' && next !== undefined) {
        throw new DataError(
          file,
          `line ${line}: ${JSON.stringify(next)} after the closing quote of a field (a quote inside a quoted field is written "", and a quoted field ends at a comma or the end of the line)`,
        );
      }
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
      cells.push(text.slice(i, end));
      i = end;
    }
    // After a field: a comma starts the next field, a newline or the end of the text ends the record.
    const separator = text[i];
    i++;
    if (separator === ',') continue;
    if (separator === '\n') {
      line++;
      endRecord();
      // A final newline ends the last record; it does not start an empty one.
      if (i >= text.length) break;
      continue;
    }
    endRecord();
    break;
  }
  return records;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

/** What a JSON value is, for messages. */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** JSON Lines: one object per non-blank line; the columns are every key in first-seen order. */
function parseJsonLines(text: string, file: string): Table {
  const columnIndex = new Map<string, number>();
  const records: { readonly values: Map<number, string>; readonly line: number }[] = [];
  text.split('\n').forEach((source, i) => {
    const line = i + 1;
    if (source.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(source);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new DataError(file, `line ${line}: not valid JSON (${reason})`, { cause: error });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new DataError(file, `line ${line}: expected a JSON object ({"column": value, ...}), found ${jsonKind(parsed)}`);
    }
    const values = new Map<number, string>();
    for (const [key, value] of Object.entries(parsed)) {
      if (key.trim() === '') throw new DataError(file, `line ${line}: a key is empty (every key names a column)`);
      // A key whose value is null is still a column (its value absent here), like a missing key.
      let column = columnIndex.get(key);
      if (column === undefined) {
        column = columnIndex.size;
        columnIndex.set(key, column);
      }
      if (value === null) continue;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new DataError(
          file,
          `line ${line}, column ${JSON.stringify(key)}: expected a string, number or boolean, found ${jsonKind(value)}`,
        );
      }
      values.set(column, typeof value === 'string' ? value : String(value));
    }
    records.push({ values, line });
  });
  const width = columnIndex.size;
  return {
    file,
    format: 'jsonl',
    columns: [...columnIndex.keys()],
    rows: records.map(({ values }) => Array.from({ length: width }, (_, column) => values.get(column))),
    lines: records.map(({ line }) => line),
  };
}
