// Reading one text file a user gave us, with bounds: only a regular file (a FIFO would block
// forever, /dev/zero would never end), at most the input limit in bytes, and, for line-based
// formats, no line longer than the line limit. The text comes back without a BOM and with CRLF
// line endings turned into LF, so no parser downstream has to know about either.

import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { constants as bufferConstants, isUtf8 } from 'node:buffer';
import { inputLimits, RAISE_INPUT_LIMIT, RAISE_LINE_LIMIT } from '../data/limits.js';

/** Throws the caller's typed error (DataError, VocabularyError, ConfigError) for `file`. */
export type FailReading = (problem: string, cause?: unknown) => never;

export interface ReadTextFileOptions {
  /** Check every line against the line limit (line-based formats; not JSON, which is often one line). */
  readonly lineBased: boolean;
  /**
   * Refuse a file that is not UTF-8 (a UTF-16 byte order mark, a NUL byte, an invalid byte sequence)
   * instead of decoding it with replacement characters. User datasets ask for it: a spreadsheet saved
   * as "Unicode text" is UTF-16, and its text would otherwise reach the tokenizer as U+FFFD and NULs.
   * Default false (the built-in formats keep the behaviour they always had).
   */
  readonly requireUtf8?: boolean;
}

/** What a path names when it is not a regular file, for messages. */
function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** An error of a system call (ENOENT, EACCES, EISDIR, ...), as opposed to a typed error thrown by `fail`. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** `N bytes`, with its size in MiB when that is at least 1 MiB. */
function bytesText(bytes: number): string {
  const mebibytes = bytes / (1024 * 1024);
  return mebibytes >= 1 ? `${bytes} bytes (${Number.isInteger(mebibytes) ? mebibytes : mebibytes.toFixed(1)} MiB)` : `${bytes} bytes`;
}

function notRegular(info: Stats): string {
  return `is ${kindOf(info)} (after following symlinks), not a regular file; ziplm reads only regular files`;
}

/**
 * Reads `file` as UTF-8 text within the input limits (`inputLimits()`), BOM dropped and CRLF turned
 * into LF. Every refusal goes through `fail`, which names the file: a missing or unreadable file, one
 * that is not a regular file, one larger than the limit, or (line-based formats) a line longer than
 * the line limit.
 */
export function readTextFile(file: string, options: ReadTextFileOptions, fail: FailReading): string {
  const { maxInputBytes, maxLineBytes } = inputLimits();
  let fd: number;
  try {
    // stat follows symlinks: a link to /dev/zero is a character device. Checked before opening, since
    // opening a FIFO blocks until a writer appears; O_NONBLOCK covers a swap between stat and open.
    const info = statSync(file);
    if (!info.isFile()) return fail(notRegular(info));
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (!isSystemError(error)) throw error; // the typed error of `fail`
    return fail(error.code === 'ENOENT' ? 'file not found' : `cannot read file (${error.code})`, error);
  }
  let bytes: Buffer;
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return fail(notRegular(info));
    const limit = Math.min(maxInputBytes, bufferConstants.MAX_STRING_LENGTH);
    const tooLarge = (size: string) =>
      maxInputBytes <= bufferConstants.MAX_STRING_LENGTH
        ? `is ${size}, more than the input limit of ${bytesText(maxInputBytes)}; ${RAISE_INPUT_LIMIT}`
        : `is ${size}, more than the ${limit} bytes a JavaScript string can hold`;
    if (info.size > limit) return fail(tooLarge(`${info.size} bytes`));
    // Read at most limit + 1 bytes whatever the size said: the file may grow while it is read.
    bytes = Buffer.allocUnsafe(Math.min(info.size, limit) + 1);
    let length = 0;
    for (;;) {
      if (length === bytes.length) {
        if (length > limit) return fail(tooLarge(`over ${limit} bytes (it grew while being read)`));
        const bigger = Buffer.allocUnsafe(Math.min(2 * bytes.length, limit + 1));
        bytes.copy(bigger, 0, 0, length);
        bytes = bigger;
      }
      const read = readSync(fd, bytes, length, bytes.length - length, null);
      if (read === 0) break;
      length += read;
    }
    bytes = bytes.subarray(0, length);
  } catch (error) {
    if (!isSystemError(error)) throw error;
    return fail(`cannot read file (${error.code})`, error);
  } finally {
    closeSync(fd);
  }
  if (options.requireUtf8) checkUtf8(bytes, fail);
  if (options.lineBased) checkLineLengths(bytes, maxLineBytes, fail);
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.includes('\r\n') ? text.replace(/\r\n/g, '\n') : text;
}

/** How to convert a file in encoding `from` (an iconv name) to what ziplm reads. */
const convertToUtf8 = (from: string) => `convert it to UTF-8, e.g. iconv -f ${from} -t UTF-8 FILE > FILE.utf8`;

/** Refuses bytes that are not UTF-8 text, saying what they look like and how to convert them. */
function checkUtf8(bytes: Buffer, fail: FailReading): void {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    const order = bytes[0] === 0xff ? 'little-endian' : 'big-endian';
    fail(`is UTF-16 (${order} byte order mark), not UTF-8; ${convertToUtf8('UTF-16')}`);
  }
  // NUL is valid UTF-8 but no text dataset holds one: it is UTF-16 without a byte order mark, or a binary file.
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    fail(`has a NUL byte at byte ${nul}: a UTF-16 file without a byte order mark, or not a text file; ${convertToUtf8('UTF-16')}`);
  if (!isUtf8(bytes))
    fail(`is not valid UTF-8 (${firstInvalidUtf8(bytes)}); if it is Latin-1 or Windows text, ${convertToUtf8('WINDOWS-1252')}`);
}

/** The line holding the first invalid UTF-8 sequence (only called on invalid input). */
function firstInvalidUtf8(bytes: Buffer): string {
  // A multi-byte sequence never contains 0x0a, so checking line by line finds the same fault.
  let start = 0;
  for (let line = 1; start < bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    if (!isUtf8(bytes.subarray(start, end))) return `first at line ${line}`;
    start = end + 1;
  }
  return 'first at the end';
}

/** Refuses the first line longer than `maxLineBytes` (its line ending not counted). */
function checkLineLengths(bytes: Buffer, maxLineBytes: number, fail: FailReading): void {
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const length = end > start && bytes[end - 1] === 0x0d ? end - start - 1 : end - start;
    if (length > maxLineBytes) {
      fail(`line ${line} is ${length} bytes, more than the line limit of ${bytesText(maxLineBytes)}; ${RAISE_LINE_LIMIT}`);
    }
    start = end + 1;
    line++;
  }
}
