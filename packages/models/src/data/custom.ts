// A user's own datasets: text classification rows from a table (tables.ts) and text corpora for
// language modelling from plain text files. Every bad row is reported by file, line and column with
// the count of rows read and skipped, so a user can find and fix it. The formats are described for
// users in guide: data formats (apps/docs/guide/data-formats.md).

import { type Dirent, readdirSync, realpathSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { resolveInside } from '@ziplm/core/node';
import { DataError } from '../errors.js';
import { readTable, readUtf8DataText, type Table, type TableFormat } from './tables.js';
import { splitWikiTextArticles } from './wikitext.js';

// ---------------------------------------------------------------------------------------------------
// Text classification

/** The columns of a text classification table. */
export interface TextClassificationColumns {
  readonly text: string;
  /** The second text of a pair task (e.g. question and sentence). */
  readonly textPair?: string;
  readonly label: string;
}

/** One row of a text classification table. */
export interface TextClassificationExample {
  /** As in the file (not trimmed). */
  readonly text: string;
  readonly textPair?: string;
  /** Trimmed. */
  readonly label: string;
  /** The 1-based file line the row starts on. */
  readonly line: number;
}

/** What reading a table did: rows read and rows skipped, with why. */
export interface RowsReport {
  /** Data rows in the file. */
  readonly rowsRead: number;
  /** Rows skipped (only with `skipBadRows`). */
  readonly skipped: number;
  /** Why, for the first {@link MAX_SKIPPED_REASONS} skipped rows, e.g. `line 7, column "text": empty text`. */
  readonly skippedReasons: readonly string[];
}

export interface ReadTextClassificationOptions {
  /** The table format; default: by the file's extension. */
  readonly format?: TableFormat;
  /** Skip bad rows (counted in the report) instead of throwing on the first. Default false. */
  readonly skipBadRows?: boolean;
  /** The allowed label values: a label outside them is a bad row ('unknown label "x" (labels: a, b)'). */
  readonly labels?: readonly string[];
}

/** How many reasons for skipped rows a report keeps. */
const MAX_SKIPPED_REASONS = 10;

/**
 * Reads text classification (or text-pair classification) examples from a CSV, TSV or JSON Lines
 * file. A bad row (an empty or whitespace-only text or text pair, an empty label, a label outside
 * `options.labels`) throws, or with `skipBadRows` is skipped and counted.
 * @throws DataError naming the file: unreadable or malformed ({@link readTable}); a column missing
 * from the header (`line 1: no column "txt" (columns: text, label)`); no rows; a bad row, e.g.
 * `line 57, column "label": empty label (56 rows read, 0 skipped)`; with `skipBadRows`, every row bad.
 */
export function readTextClassification(
  file: string,
  columns: TextClassificationColumns,
  options: ReadTextClassificationOptions = {},
): { readonly examples: TextClassificationExample[]; readonly report: RowsReport } {
  const allowed = options.labels === undefined ? undefined : checkedLabelSet(options.labels);
  const table = readTable(file, options.format);
  const text = { name: columns.text, index: columnIndex(table, columns.text) };
  const pair = columns.textPair === undefined ? undefined : { name: columns.textPair, index: columnIndex(table, columns.textPair) };
  const label = { name: columns.label, index: columnIndex(table, columns.label) };
  if (label.index === text.index || label.index === pair?.index) {
    throw new DataError(file, `column "${label.name}" is named both as a text column and as the label column`);
  }
  if (table.rows.length === 0) throw new DataError(file, table.format === 'jsonl' ? 'no rows' : 'no rows after the header');

  /** The row as an example, or why it is bad (`line 7, column "text": empty text`). */
  const judge = (row: readonly (string | undefined)[], line: number): TextClassificationExample | string => {
    const at = (column: string, problem: string) => `line ${line}, column "${column}": ${problem}`;
    const textValue = row[text.index];
    if (textValue === undefined || textValue.trim() === '') return at(text.name, emptiness(textValue, 'text'));
    const pairValue = pair === undefined ? undefined : row[pair.index];
    if (pair !== undefined && (pairValue === undefined || pairValue.trim() === '')) return at(pair.name, emptiness(pairValue, 'text pair'));
    const labelValue = row[label.index]?.trim();
    if (labelValue === undefined || labelValue === '') return at(label.name, emptiness(labelValue, 'label'));
    if (allowed !== undefined && !allowed.has(labelValue)) {
      return at(label.name, `unknown label ${JSON.stringify(labelValue)} (labels: ${[...allowed].join(', ')})`);
    }
    return pairValue === undefined
      ? { text: textValue, label: labelValue, line }
      : { text: textValue, textPair: pairValue, label: labelValue, line };
  };

  const examples: TextClassificationExample[] = [];
  const skippedReasons: string[] = [];
  let skipped = 0;
  table.rows.forEach((row, r) => {
    const judged = judge(row, table.lines[r]!);
    if (typeof judged !== 'string') {
      examples.push(judged);
      return;
    }
    if (!options.skipBadRows) throw new DataError(file, `${judged} (${r + 1} row${r === 0 ? '' : 's'} read, ${skipped} skipped)`);
    skipped++;
    if (skippedReasons.length < MAX_SKIPPED_REASONS) skippedReasons.push(judged);
  });
  if (examples.length === 0) {
    throw new DataError(file, `every row is bad (${table.rows.length} rows read, ${skipped} skipped); the first: ${skippedReasons[0]}`);
  }
  return { examples, report: { rowsRead: table.rows.length, skipped, skippedReasons } };
}

/** `empty label`, or `no label (the value is missing or null)` for an absent JSON value. */
function emptiness(value: string | undefined, what: string): string {
  return value === undefined ? `no ${what} (the value is missing or null)` : `empty ${what}`;
}

/** The index of `name` among the table's columns. */
function columnIndex(table: Table, name: string): number {
  const index = table.columns.indexOf(name);
  if (index >= 0) return index;
  // A header `Text` for --text-column text is the commonest slip: name the column that differs only by case.
  const sameButCase = table.columns.find((column) => column.toLowerCase() === name.toLowerCase());
  const hint = sameButCase === undefined ? '' : `; did you mean "${sameButCase}"?`;
  const listed = table.columns.length === 0 ? 'none' : table.columns.join(', ');
  // CSV and TSV name their columns in line 1; JSON Lines in the keys of every row.
  const problem = table.format === 'jsonl' ? `no column "${name}" in any row` : `line 1: no column "${name}"`;
  throw new DataError(table.file, `${problem} (columns: ${listed})${hint}`);
}

/** The allowed labels, trimmed; refuses an empty list, an empty label and a label given twice. */
function checkedLabelSet(labels: readonly string[]): Set<string> {
  if (labels.length === 0) throw new DataError('labels', 'must name at least one label');
  const set = new Set<string>();
  for (const raw of labels) {
    const label = raw.trim();
    if (label === '') throw new DataError('labels', `has an empty label (labels: ${labels.join(', ')})`);
    if (set.has(label)) throw new DataError('labels', `names "${label}" twice`);
    set.add(label);
  }
  return set;
}

/** Decimal integers, e.g. `0`, `-1`, `12` (the labels of most classification datasets). */
const INTEGER = /^-?\d+$/;

/** Compares strings by Unicode code point (JavaScript's `<` compares UTF-16 units, which differs above U+FFFF). */
function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const difference = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
}

/**
 * The distinct labels in a stable order, the order of a model's label ids: when every label is an
 * integer, numeric ascending (`2` before `10`; `1` and `01` by code point); otherwise code-point order.
 */
export function orderLabels(labels: Iterable<string>): string[] {
  const distinct = [...new Set(labels)];
  if (distinct.length > 0 && distinct.every((label) => INTEGER.test(label))) {
    return distinct.sort((a, b) => {
      const difference = BigInt(a) - BigInt(b);
      return difference < 0n ? -1 : difference > 0n ? 1 : compareCodePoints(a, b);
    });
  }
  return distinct.sort(compareCodePoints);
}

// ---------------------------------------------------------------------------------------------------
// Text corpora (language modelling)

/**
 * How a text file is cut into documents: `file` (each file is one), `blank-line` (one or more blank
 * lines separate them), `line` (every non-empty line is one), `wikitext` (an article starts at a
 * top-level ` = Title = ` line), or `{ line }` (a line equal to this string, trimmed, separates them,
 * e.g. `%` in fortune files).
 */
export type DocumentSeparator = 'file' | 'blank-line' | 'line' | 'wikitext' | { readonly line: string };

/** The named document separators (besides `{ line }`). */
export const DOCUMENT_SEPARATORS: readonly ('file' | 'blank-line' | 'line' | 'wikitext')[] = ['file', 'blank-line', 'line', 'wikitext'];

/** One document of a corpus. */
export interface TextDocument {
  readonly text: string;
  /** The file it came from. */
  readonly file: string;
  /** The 1-based line of the file it starts on. */
  readonly line: number;
}

export interface ReadTextCorpusOptions {
  /** The extensions of the files read from a directory (case-insensitive). Default `.txt .text .raw .md`. */
  readonly extensions?: readonly string[];
  /** The most files read from a directory; more is a DataError. Default 10,000. */
  readonly maxFiles?: number;
}

const DEFAULT_CORPUS_EXTENSIONS: readonly string[] = ['.txt', '.text', '.raw', '.md'];
const DEFAULT_MAX_CORPUS_FILES = 10_000;

/**
 * Reads a text corpus: a file, or a directory read recursively. From a directory, the regular files
 * with one of the extensions are read in sorted path order (code points of the path relative to the
 * directory, `/`-separated), hidden entries (`.name`) skipped; a symbolic link is followed when its
 * target is inside the directory (a file reached twice is read once). Each file is cut into documents
 * by `separator`; whitespace-only documents are dropped. Files must be UTF-8.
 * @throws DataError naming the path: missing; a symbolic link out of the directory; no files with the
 * extensions or more than `maxFiles`; a file that is unreadable, over the input limits or not UTF-8;
 * no documents at all.
 */
export function readTextCorpus(
  path: string,
  separator: DocumentSeparator,
  options: ReadTextCorpusOptions = {},
): { readonly documents: TextDocument[]; readonly files: string[] } {
  const cut = documentCutter(separator);
  const files = corpusFiles(path, options);
  const documents: TextDocument[] = [];
  for (const file of files) {
    for (const piece of cut(readUtf8DataText(file))) {
      if (piece.text.trim() !== '') documents.push({ text: piece.text, file, line: piece.line });
    }
  }
  if (documents.length === 0) {
    const what = files.length === 1 ? 'the file holds' : `its ${files.length} files hold`;
    throw new DataError(path, `no documents: ${what} only whitespace (documents separated by ${describeSeparator(separator)})`);
  }
  return { documents, files };
}

/** A separator in words, for messages. */
function describeSeparator(separator: DocumentSeparator): string {
  return typeof separator === 'string' ? separator : `lines equal to ${JSON.stringify(separator.line.trim())}`;
}

/** A document before whitespace-only ones are dropped. */
interface Piece {
  readonly text: string;
  readonly line: number;
}

/** The function that cuts one file's text into documents by `separator` (checked here, before any file is read). */
function documentCutter(separator: DocumentSeparator): (text: string) => Piece[] {
  if (typeof separator === 'object' && separator !== null) {
    const marker = typeof separator.line === 'string' ? separator.line.trim() : '';
    if (marker === '') throw new DataError('document separator', 'must be a line with some text (for blank lines use blank-line)');
    return (text) => linesBetween(text, (line) => line.trim() === marker);
  }
  switch (separator) {
    case 'file':
      return (text) => [{ text, line: 1 }];
    case 'blank-line':
      return (text) => linesBetween(text, (line) => line.trim() === '');
    case 'line':
      return (text) => text.split('\n').map((line, i) => ({ text: line, line: i + 1 }));
    case 'wikitext':
      return wikiTextPieces;
    default:
      throw new DataError(
        'document separator',
        `must be one of ${DOCUMENT_SEPARATORS.join(', ')} or { line: "..." }, got ${JSON.stringify(separator)}`,
      );
  }
}

/** The runs of lines between separator lines, without their leading and trailing blank lines. */
function linesBetween(text: string, isSeparator: (line: string) => boolean): Piece[] {
  const pieces: Piece[] = [];
  let current: string[] = [];
  let start = 0;
  const flush = () => {
    // Blank lines at the edges belong to no document, so `line` points at its first line of text.
    let first = 0;
    let last = current.length;
    while (first < last && current[first]!.trim() === '') first++;
    while (last > first && current[last - 1]!.trim() === '') last--;
    if (first < last) pieces.push({ text: current.slice(first, last).join('\n'), line: start + first + 1 });
  };
  text.split('\n').forEach((line, i) => {
    if (isSeparator(line)) {
      flush();
      current = [];
      start = i + 1;
    } else {
      current.push(line);
    }
  });
  flush();
  return pieces;
}

/** WikiText articles ({@link splitWikiTextArticles}, the one splitter of that format) with their first lines. */
function wikiTextPieces(text: string): Piece[] {
  // splitWikiTextArticles drops the blank lines before the first article; each article is a run of whole lines.
  const lines = text.split('\n');
  let line = 1;
  while (line <= lines.length && lines[line - 1]!.trim() === '') line++;
  return splitWikiTextArticles(text).map((article) => {
    const piece = { text: article, line };
    line += article.split('\n').length;
    return piece;
  });
}

/** Normalizes the extensions option: lower case, with a leading dot. */
function corpusExtensions(extensions: readonly string[]): Set<string> {
  if (extensions.length === 0) throw new DataError('extensions', 'must name at least one file extension');
  return new Set(extensions.map((extension) => (extension.startsWith('.') ? extension : `.${extension}`).toLowerCase()));
}

/** The files of a corpus: `path` itself, or the matching files under it, sorted. */
function corpusFiles(path: string, options: ReadTextCorpusOptions): string[] {
  const maxFiles = options.maxFiles ?? DEFAULT_MAX_CORPUS_FILES;
  if (!Number.isSafeInteger(maxFiles) || maxFiles < 1) throw new DataError('maxFiles', `must be a positive whole number, got ${maxFiles}`);
  const extensions = corpusExtensions(options.extensions ?? DEFAULT_CORPUS_EXTENSIONS);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'not found' : `cannot read (${code ?? String(error)})`, { cause: error });
  }
  // A file named on its own is read whatever its extension (and refused by the reader if not a regular file).
  if (!isDirectory) return [path];

  const root = realpathSync(path);
  const found = new Map<string, string>(); // relative path → real path
  // The real paths of the directories being walked, root first: a link to one of them is a loop.
  const ancestors: string[] = [root];
  const walk = (directory: string, relativeDirectory: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(directory, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new DataError(directory, `cannot list the directory (${code})`, { cause: error });
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const relativePath = relativeDirectory === '' ? entry.name : `${relativeDirectory}/${entry.name}`;
      let real = join(directory, entry.name);
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        real = realTargetInside(root, real, path);
        if (real === '') continue; // a dangling link names no file
        const target = statSync(real);
        isDirectory = target.isDirectory();
        isFile = target.isFile();
      }
      if (isDirectory) {
        if (ancestors.includes(real)) continue;
        // A directory reached twice (itself and through a link) is walked both times; its files are
        // kept once, below, so which path reads them does not depend on the order readdir lists them.
        ancestors.push(real);
        walk(real, relativePath);
        ancestors.pop();
      } else if (isFile && extensions.has(extname(entry.name).toLowerCase())) {
        found.set(relativePath, real);
        if (found.size > maxFiles) {
          throw new DataError(path, `holds more than ${maxFiles} text files (${[...extensions].join(' ')}); read fewer, or raise maxFiles`);
        }
      }
    }
  };
  walk(root, '');
  if (found.size === 0) {
    throw new DataError(path, `has no files with the extensions ${[...extensions].join(' ')} (hidden files and directories are skipped)`);
  }
  // Sorted by code point of the relative path, the same order on every platform; a file reached
  // twice (through a link) is read once, at its first path, or its text would be counted twice and
  // could land in both the training and the held-out part.
  const seenReal = new Set<string>();
  const files: string[] = [];
  for (const relativePath of [...found.keys()].sort(compareCodePoints)) {
    const real = found.get(relativePath)!;
    if (seenReal.has(real)) continue;
    seenReal.add(real);
    files.push(join(path, ...relativePath.split('/')));
  }
  return files;
}

/**
 * The real path a symbolic link under the corpus directory points to, or '' when it dangles.
 * @throws DataError naming the link when its target is outside the directory (`root`, a real path).
 */
function realTargetInside(root: string, link: string, corpus: string): string {
  let target: string;
  try {
    target = realpathSync(link);
  } catch {
    return '';
  }
  // A link to the directory itself is a loop, not an escape: the walk skips it as a visited directory.
  if (target === root) return root;
  // The one containment rule (@ziplm/core): the target, relative to the directory, must stay inside it.
  return resolveInside(root, relative(root, target), () => {
    return new DataError(
      link,
      `is a symbolic link to ${target}, outside the corpus directory ${corpus}; ziplm reads only files inside the directory it is given (copy the file in instead)`,
    );
  });
}
