// Content hashes: of the run's inputs (model files, the latency table, settings) for the manifest, and
// of every artifact a run writes (member files, dense scores), checked when a resumed run reuses them.
// Atomic writes are @ziplm/core/node's (temporary file, fsync, rename, directory fsync), imported from there.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { RunDirectoryError } from '../errors.js';

/** sha256 of a file, hex. Streams, so large weight files are not read into memory twice. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The JSON value in `file`. A file that is not valid JSON raises `invalid(problem, cause)`, the caller's
 * typed error (which names the file or the directory and says what to remove); a file that cannot be read
 * raises the system error as it is.
 */
export async function readJsonFile(file: string, invalid: (problem: string, cause: unknown) => Error): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(`is not valid JSON (${(error as Error).message})`, error);
  }
}

export function hashString(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What a run records of a file it wrote: its size and its sha256 (hex). */
export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/** The size and sha256 of bytes about to be written. */
export function digestBytes(content: Uint8Array): FileDigest {
  return { bytes: content.byteLength, sha256: createHash('sha256').update(content).digest('hex') };
}

/** The size and sha256 of `file`. */
export async function digestFile(file: string): Promise<FileDigest> {
  const { size } = await stat(file);
  return { bytes: size, sha256: await hashFile(file) };
}

/**
 * Checks that `file` still has the size and hash recorded when it was written: a RunDirectoryError
 * naming the file, what differs, and `remedy` (what to remove to recompute it) otherwise. The size is
 * compared first, so a truncated file is refused without reading it.
 */
export async function checkFileDigest(file: string, expected: FileDigest, remedy: string): Promise<void> {
  let bytes: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new RunDirectoryError(file, `is not a regular file; ${remedy}`);
    bytes = info.size;
  } catch (error) {
    if (error instanceof RunDirectoryError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RunDirectoryError(file, `is missing; ${remedy}`, { cause: error });
    throw error;
  }
  if (bytes !== expected.bytes)
    throw new RunDirectoryError(file, `has ${bytes} bytes but ${expected.bytes} were written (truncated or replaced); ${remedy}`);
  const sha256 = await hashFile(file);
  if (sha256 !== expected.sha256)
    throw new RunDirectoryError(file, `has changed since it was written (sha256 ${sha256}, recorded ${expected.sha256}); ${remedy}`);
}
