// How much of a file ziplm reads: the one place the input limits are decided. Every text file ziplm
// reads (datasets, tokenizer files, config.json) comes from a user, so a file or a line without
// bound is refused before it is read whole: a data file that is a symlink to /dev/zero used to grow
// without bound, and a 50 MB TSV line exhausted the heap. The defaults are far above the real data
// (the largest dataset, SQuAD's dev-v1.1.json, is 4.8 MB; the longest line of a line-based file,
// in QNLI's dev.tsv, is 1.2 KB); a user with larger files raises them with the environment
// variables below or, in the CLI, `--max-input-mb`. Documented in the package README ("Limits").

import { DataError } from '../errors.js';

/** Environment variable: the largest file read, in bytes. */
export const MAX_INPUT_BYTES_ENV = 'ZIPLM_MAX_INPUT_BYTES';
/** Environment variable: the longest line of a line-based file (TSV, raw text, vocab.txt, merges.txt), in bytes. */
export const MAX_LINE_BYTES_ENV = 'ZIPLM_MAX_LINE_BYTES';

/** Bounds on what one read of a text file may take. */
export interface InputLimits {
  /** The largest file read, in bytes. */
  readonly maxInputBytes: number;
  /** The longest line of a line-based file, in bytes (JSON files, often one line, have no line limit). */
  readonly maxLineBytes: number;
}

/** 256 MiB per file (a JavaScript string holds at most 512 Mi UTF-16 units), 1 MiB per line. */
export const DEFAULT_INPUT_LIMITS: InputLimits = { maxInputBytes: 256 * 1024 * 1024, maxLineBytes: 1024 * 1024 };

let processLimits: Partial<InputLimits> = {};

function checkLimit(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new DataError(name, `must be a positive whole number of bytes, got ${value}`);
}

/**
 * Sets the limits for this process (the CLI's `--max-input-mb`); they take precedence over the
 * environment variables. A field left undefined falls back to its variable, then to the default.
 * @throws DataError when a limit is not a positive whole number of bytes.
 */
export function setInputLimits(limits: Partial<InputLimits>): void {
  if (limits.maxInputBytes !== undefined) checkLimit(limits.maxInputBytes, 'maxInputBytes');
  if (limits.maxLineBytes !== undefined) checkLimit(limits.maxLineBytes, 'maxLineBytes');
  processLimits = { ...limits };
}

function fromEnvironment(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DataError(`$${name}`, `must be a positive whole number of bytes, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * The limits in force: those set by {@link setInputLimits}, else `$ZIPLM_MAX_INPUT_BYTES` /
 * `$ZIPLM_MAX_LINE_BYTES`, else {@link DEFAULT_INPUT_LIMITS}. Read at every file, so a change of the
 * environment applies to the next read.
 * @throws DataError naming the variable when it is not a positive whole number.
 */
export function inputLimits(): InputLimits {
  return {
    maxInputBytes: processLimits.maxInputBytes ?? fromEnvironment(MAX_INPUT_BYTES_ENV) ?? DEFAULT_INPUT_LIMITS.maxInputBytes,
    maxLineBytes: processLimits.maxLineBytes ?? fromEnvironment(MAX_LINE_BYTES_ENV) ?? DEFAULT_INPUT_LIMITS.maxLineBytes,
  };
}

/** How a user raises the file limit, for messages. */
export const RAISE_INPUT_LIMIT = `raise it with ${MAX_INPUT_BYTES_ENV}=<bytes> or ziplm's --max-input-mb`;
/** How a user raises the line limit, for messages. */
export const RAISE_LINE_LIMIT = `raise it with ${MAX_LINE_BYTES_ENV}=<bytes>`;
