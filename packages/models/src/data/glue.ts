// GLUE TSV files as distributed by the GLUE benchmark: a header row, tab-separated columns, no
// quoting (HF datasets reads them with csv.QUOTE_NONE, so a `"` is an ordinary character).

import { DataError } from '../errors.js';
import type { Encoding, Tokenizer } from '../tokenizers/types.js';
import { readDataText } from './paths.js';

/** A parsed TSV file: header, rows, and the 1-based file line of each row (for error messages). */
export interface TsvTable {
  file: string;
  header: string[];
  rows: string[][];
  lines: number[];
}

/**
 * Parses TSV text. Every row must have as many columns as the header; a final newline is allowed,
 * other empty lines are errors. Windows line endings are accepted.
 */
export function parseTsv(text: string, file: string): TsvTable {
  if (text.trim().length === 0) throw new DataError(file, 'empty file (expected a header row and examples)');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const strip = (l: string) => (l.endsWith('\r') ? l.slice(0, -1) : l);
  const header = strip(lines[0]!).split('\t');
  const rows: string[][] = [];
  const rowLines: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = strip(lines[i]!);
    if (line.length === 0) throw new DataError(file, `line ${i + 1}: empty line`);
    const cells = line.split('\t');
    if (cells.length !== header.length) {
      throw new DataError(
        file,
        `line ${i + 1}: expected ${header.length} tab-separated columns (${header.join(', ')}), found ${cells.length}`,
      );
    }
    rows.push(cells);
    rowLines.push(i + 1);
  }
  return { file, header, rows, lines: rowLines };
}

/** Reads and parses a TSV file (DataError when missing, empty or malformed). */
export function readTsv(file: string): TsvTable {
  return parseTsv(readDataText(file), file);
}

/** How one GLUE task's TSV maps to examples. */
export interface GlueTaskSpec {
  readonly name: string;
  /** One column (single sentence) or two (pair). */
  readonly textColumns: readonly [string] | readonly [string, string];
  readonly labelColumn: string;
  /** Label strings in id order (the id is the index). HF `datasets` order. */
  readonly labels: readonly string[];
  /** Human-readable label names in id order. */
  readonly labelNames: readonly string[];
}

/** The GLUE tasks whose data ziplm has. */
export const GLUE_TASKS = {
  sst2: {
    name: 'sst2',
    textColumns: ['sentence'],
    labelColumn: 'label',
    labels: ['0', '1'],
    labelNames: ['negative', 'positive'],
  },
  qnli: {
    name: 'qnli',
    textColumns: ['question', 'sentence'],
    labelColumn: 'label',
    labels: ['entailment', 'not_entailment'],
    labelNames: ['entailment', 'not_entailment'],
  },
} as const satisfies Record<string, GlueTaskSpec>;

export type GlueTaskName = keyof typeof GLUE_TASKS;

/** One GLUE example. */
export interface GlueExample {
  /** Row number among the examples (0-based), or the file's `index` column when it has one. */
  index: number;
  textA: string;
  /** Second sentence of pair tasks. */
  textB?: string;
  /** Label id (index into the task's `labels`). */
  label: number;
}

/** Reads a GLUE TSV file of `task` (a name or a custom spec) into examples. */
export function readGlue(file: string, task: GlueTaskName | GlueTaskSpec): GlueExample[] {
  const spec: GlueTaskSpec = typeof task === 'string' ? GLUE_TASKS[task] : task;
  if (spec === undefined) throw new DataError(file, `unknown GLUE task ${JSON.stringify(task)}`);
  const table = readTsv(file);
  const column = (name: string) => {
    const i = table.header.indexOf(name);
    if (i < 0) throw new DataError(file, `line 1: header has no "${name}" column (found: ${table.header.join(', ')})`);
    return i;
  };
  const textCols = spec.textColumns.map(column);
  const labelCol = column(spec.labelColumn);
  const indexCol = table.header.indexOf('index');
  const labelIds = new Map(spec.labels.map((l, i) => [l, i]));
  if (table.rows.length === 0) throw new DataError(file, 'no examples after the header');
  return table.rows.map((row, r) => {
    const line = table.lines[r]!;
    const raw = row[labelCol]!.trim();
    const label = labelIds.get(raw);
    if (label === undefined) {
      throw new DataError(
        file,
        `line ${line}: label ${JSON.stringify(raw)} is not one of ${spec.labels.map((l) => JSON.stringify(l)).join(', ')}`,
      );
    }
    let index = r;
    if (indexCol >= 0) {
      index = Number(row[indexCol]);
      if (!Number.isInteger(index)) throw new DataError(file, `line ${line}: index ${JSON.stringify(row[indexCol])} is not an integer`);
    }
    const example: GlueExample = { index, textA: row[textCols[0]!]!, label };
    if (textCols.length === 2) example.textB = row[textCols[1]!]!;
    return example;
  });
}

/** Tokenizes GLUE examples (pairs as sentence pairs), truncating to `maxLength` with `longest_first`. */
export function encodeGlueExamples(examples: readonly GlueExample[], tokenizer: Tokenizer, maxLength: number): Encoding[] {
  return examples.map((e) => tokenizer.encode(e.textA, e.textB, { maxLength, truncation: 'longest_first' }));
}
