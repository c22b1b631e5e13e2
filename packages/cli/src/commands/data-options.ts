// The flags that name the user's own data (docs site: guide/data-formats.md), shared by `train`,
// `prune`, `gradual` and `eval`, and their translation into a @ziplm/pipeline task spec. A table file
// (.csv, .tsv, .jsonl, or --format) is a classification task; a text file or a directory of them is
// a language-modelling task.

import { statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { TaskChoice, TaskName, TaskSpec } from '@ziplm/pipeline';
import { type OptionsSpec, type ParsedOptions, UsageError } from '../command.js';

const TABLE_EXTENSIONS: Readonly<Record<string, 'csv' | 'tsv' | 'jsonl'>> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

export const DATA_OPTIONS = {
  data: {
    type: 'string',
    description:
      'Your own data instead of a built-in task: a CSV, TSV or JSON Lines file (text classification) or a text file or directory of them (language modelling)',
    valueName: 'PATH',
  },
  validationData: { type: 'string', description: 'Validation data (default: split from --data)', valueName: 'PATH' },
  testData: { type: 'string', description: 'Test data, what every metric is measured on (default: split from --data)', valueName: 'PATH' },
  format: { type: 'string', description: 'Table format (default: from the file extension)', choices: ['csv', 'tsv', 'jsonl'] },
  textColumn: { type: 'string', description: 'Column holding the text (default: text)', valueName: 'NAME' },
  textPairColumn: { type: 'string', description: 'Column holding the second text of text-pair tasks', valueName: 'NAME' },
  labelColumn: { type: 'string', description: 'Column holding the label (default: label)', valueName: 'NAME' },
  labels: {
    type: 'list',
    description: "The labels in id order (default: the model's labels by name; `train`: integers ascending, else sorted)",
    valueName: 'A,B,...',
  },
  documents: {
    type: 'string',
    description: 'How text files divide into documents (default: file for a directory, blank-line for a file)',
    choices: ['file', 'blank-line', 'line', 'wikitext'],
  },
  documentSeparator: { type: 'string', description: 'A line that separates documents (e.g. %), instead of --documents', valueName: 'LINE' },
  split: {
    type: 'list',
    description: 'Validation and test fractions split from --data when no file gives them (default: 0.1,0.1)',
    valueName: 'V,T',
  },
  splitSeed: { type: 'number', description: 'Seed of that split (default: 42)', valueName: 'N' },
  taskName: { type: 'string', description: "The task's name in every output (default: the data file's name)", valueName: 'NAME' },
  skipBadRows: {
    type: 'boolean',
    description: 'Skip rows with a missing text or label (counted) instead of stopping at the first',
    default: false,
  },
} as const satisfies OptionsSpec;

export type DataFlags = ParsedOptions<typeof DATA_OPTIONS>;

const DEPENDENT_FLAGS = [
  ['validationData', '--validation-data'],
  ['testData', '--test-data'],
  ['format', '--format'],
  ['textColumn', '--text-column'],
  ['textPairColumn', '--text-pair-column'],
  ['labelColumn', '--label-column'],
  ['labels', '--labels'],
  ['documents', '--documents'],
  ['documentSeparator', '--document-separator'],
  ['split', '--split'],
  ['splitSeed', '--split-seed'],
  ['taskName', '--task-name'],
] as const;

/** Whether `path` is a directory (a missing path is not; the reader reports it, naming it). */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The kind of task of a data path: a table by --format or its extension, else text. */
function kindOf(format: string | undefined, path: string, directory: boolean): 'classification' | 'language-modeling' {
  if (format !== undefined) return 'classification';
  return !directory && TABLE_EXTENSIONS[extname(path).toLowerCase()] !== undefined ? 'classification' : 'language-modeling';
}

/** What kind of task the data flags describe, from the format or the data path. */
export function dataKind(o: DataFlags, cwd: string): 'classification' | 'language-modeling' | undefined {
  if (o.data === undefined) return undefined;
  const path = resolve(cwd, o.data);
  return kindOf(o.format, path, isDirectory(path));
}

/**
 * The task spec the data flags describe, or undefined without --data. A flag that needs --data given
 * without it, or a flag of the other kind of task, is a UsageError.
 */
export function taskSpecFromFlags(o: DataFlags & { readonly task?: string | undefined }, cwd: string): TaskSpec | undefined {
  if (o.data === undefined) {
    const stray = DEPENDENT_FLAGS.find(([key]) => o[key] !== undefined);
    if (stray) throw new UsageError(`${stray[1]} describes your own data and needs --data`);
    if (o.skipBadRows) throw new UsageError('--skip-bad-rows describes your own data and needs --data');
    return undefined;
  }
  if (o.task !== undefined) throw new UsageError(`--task ${o.task} and --data are alternatives: give one`);
  const data = resolve(cwd, o.data);
  const directory = isDirectory(data);
  const kind = kindOf(o.format, data, directory);
  const name = o.taskName ?? basename(data).replace(/\.[^.]+$/, '');
  if (name.trim() === '') throw new UsageError('--task-name must not be empty');
  let fractions = { validation: 0.1, test: 0.1 };
  if (o.split !== undefined) {
    const values = o.split.map(Number);
    if (values.length !== 2 || values.some((v) => !(v >= 0 && v < 1)) || !(values[0]! + values[1]! < 1))
      throw new UsageError(`--split needs two fractions in [0, 1) that sum to less than 1 (validation,test), got "${o.split.join(',')}"`);
    fractions = { validation: values[0]!, test: values[1]! };
  }
  const seed = o.splitSeed ?? 42;
  if (!(Number.isInteger(seed) && seed >= 0)) throw new UsageError(`--split-seed must be a whole number >= 0, got ${seed}`);
  const common = {
    name,
    data,
    ...(o.validationData !== undefined ? { validationData: resolve(cwd, o.validationData) } : {}),
    ...(o.testData !== undefined ? { testData: resolve(cwd, o.testData) } : {}),
    split: { kind: 'seeded', ...fractions, seed } as const,
  };
  if (kind === 'classification') {
    for (const [key, flag] of [
      ['documents', '--documents'],
      ['documentSeparator', '--document-separator'],
    ] as const) {
      if (o[key] !== undefined) throw new UsageError(`${flag} applies to text corpora (language modelling), and ${o.data} is a table`);
    }
    return {
      kind: 'classification',
      ...common,
      ...(o.format !== undefined ? { format: o.format } : {}),
      columns: {
        text: o.textColumn ?? 'text',
        ...(o.textPairColumn !== undefined ? { textPair: o.textPairColumn } : {}),
        label: o.labelColumn ?? 'label',
      },
      ...(o.labels !== undefined ? { labels: o.labels } : {}),
      ...(o.skipBadRows ? { skipBadRows: true } : {}),
    };
  }
  for (const [key, flag] of [
    ['textColumn', '--text-column'],
    ['textPairColumn', '--text-pair-column'],
    ['labelColumn', '--label-column'],
    ['labels', '--labels'],
  ] as const) {
    if (o[key] !== undefined)
      throw new UsageError(`${flag} applies to tables (classification), and ${o.data} is read as text (language modelling)`);
  }
  if (o.documents !== undefined && o.documentSeparator !== undefined)
    throw new UsageError('--documents and --document-separator are alternatives: give one');
  if (o.documentSeparator !== undefined && o.documentSeparator.trim() === '')
    throw new UsageError('--document-separator must be a non-empty line (blank lines: --documents blank-line)');
  const documents =
    o.documentSeparator !== undefined ? { line: o.documentSeparator } : (o.documents ?? (directory ? 'file' : 'blank-line'));
  return { kind: 'language-modeling', ...common, documents };
}

/** The `task` run option from `--task` or the data flags (absent: the model's default task). */
export function taskChoice(o: DataFlags & { readonly task?: string | undefined }, cwd: string): { task?: TaskChoice } {
  const spec = taskSpecFromFlags(o, cwd);
  if (spec) return { task: spec };
  return o.task !== undefined ? { task: o.task as TaskName } : {};
}
