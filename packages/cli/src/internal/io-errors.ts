// Failures of the file system, as `ziplm` reports them: one line naming the path and the condition, never
// a stack trace. A Node system error (an Error with an errno `code` such as ENOSPC and the `syscall` that
// failed) raised while writing an output is exit 6 (`EXIT.output`): the disk is full, the directory is
// not writable, the file system is read-only — the user's machine, not the input, is at fault. One raised
// while reading is exit 3 (`EXIT.input`): the user named a file that is missing, a directory, unreadable.
// Only node:fs and node:path are imported: main.ts loads this module for every command, `ziplm --help` included.

import { statSync } from 'node:fs';
import { sep } from 'node:path';
import { EXIT, type ExitCode } from '../exit-codes.js';

/** A Node system error: what node:fs (and other node:* modules) throw when a system call fails. */
export interface SystemError extends Error {
  /** The errno name: ENOSPC, EACCES, ... */
  readonly code: string;
  /** The system call that failed: open, write, rename, ... */
  readonly syscall: string;
  /** The file it was about; a failed write(2) on an open handle has none. */
  readonly path?: string;
  /** The destination of a rename, link or copy. */
  readonly dest?: string;
}

export function isSystemError(error: unknown): error is SystemError {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    /^E[A-Z0-9]+$/.test(error.code) &&
    'syscall' in error &&
    typeof error.syscall === 'string'
  );
}

/** What each errno means, in the words `ziplm` prints (strerror's, lower case). */
const CONDITION: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  EBUSY: 'resource busy',
  ETXTBSY: 'text file busy',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
};

/** Conditions no read can raise: an error with one of them is a failed write whatever its system call. */
const WRITE_ONLY_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS']);

/** System calls that change the file system: failing in one of them is failing to write. */
const WRITE_SYSCALLS = new Set([
  'write',
  'writev',
  'mkdir',
  'mkdtemp',
  'rename',
  'fsync',
  'fdatasync',
  'ftruncate',
  'truncate',
  'copyfile',
  'link',
  'symlink',
  'unlink',
  'rmdir',
  'rm',
  'utime',
  'futime',
  'chmod',
  'fchmod',
  'chown',
  'fchown',
]);

/**
 * The temporary names of @ziplm/core's atomic writers, mapped back to the name the user knows:
 * `<file>.tmp-<hex>` (writeFileAtomic) and `<dir>.<pid>.tmp` (writeDirectoryAtomic, and any path inside it).
 * An `open` of such a name is always the creation of an output (open(2) cannot tell reading from writing).
 */
const TEMPORARY_FILE = /\.tmp-[0-9a-f]+$/;
const TEMPORARY_DIRECTORY = /\.\d+\.tmp$/;

function userVisiblePath(path: string): { path: string; temporary: boolean } {
  if (TEMPORARY_FILE.test(path)) return { path: path.replace(TEMPORARY_FILE, ''), temporary: true };
  const parts = path.split(sep);
  const index = parts.findIndex((part) => TEMPORARY_DIRECTORY.test(part));
  if (index < 0) return { path, temporary: false };
  parts[index] = parts[index]!.replace(TEMPORARY_DIRECTORY, '');
  return { path: parts.join(sep), temporary: true };
}

/**
 * Whether an `open` refused with `code` was creating `path`: a permission error on a name that does not
 * exist cannot come from opening it for reading (that gives ENOENT), so the open was creating a file (a
 * lock file, say) in a directory it may not write. When the name cannot even be looked up (an ancestor
 * directory is not searchable), it counts as a read.
 */
function isRefusedCreation(code: string, path: string): boolean {
  if (code !== 'EACCES' && code !== 'EPERM') return false;
  try {
    return statSync(path, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

/**
 * Where a failure that names no file was writing to, by error (a failed write(2) on an open handle has no
 * path): set by {@link namingOutput}. A WeakMap rather than a field on the error: the error is not ours.
 */
const OUTPUT_OF_ERROR = new WeakMap<Error, string>();

/**
 * Runs `task`, which writes the output `location` (a file, or a run directory it writes into); a system
 * error it raises that names no file is reported as writing `location`. Errors pass through unchanged.
 */
export async function namingOutput<T>(location: string, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    if (isSystemError(error) && error.path === undefined && !OUTPUT_OF_ERROR.has(error)) OUTPUT_OF_ERROR.set(error, location);
    throw error;
  }
}

/** A system error as `ziplm` reports it: exit code, one-line message, and whether it was a write. */
export interface SystemFailure {
  readonly exitCode: ExitCode;
  readonly message: string;
  readonly writing: boolean;
}

/** How `ziplm` reports a system error; undefined for anything else. */
export function describeSystemError(error: unknown): SystemFailure | undefined {
  if (!isSystemError(error)) return undefined;
  const raw = error.dest ?? error.path;
  const named = raw === undefined ? undefined : userVisiblePath(raw);
  const writing =
    WRITE_ONLY_CODES.has(error.code) ||
    WRITE_SYSCALLS.has(error.syscall) ||
    named?.temporary === true ||
    (error.syscall === 'open' && raw !== undefined && isRefusedCreation(error.code, raw));
  const path = named?.path ?? (writing ? OUTPUT_OF_ERROR.get(error) : undefined);
  const condition = CONDITION[error.code] ?? `${error.code} in ${error.syscall}`;
  if (!writing) {
    const what = path === undefined ? `${error.syscall} failed` : `cannot read ${path}`;
    return { exitCode: EXIT.input, message: `${what}: ${condition}`, writing };
  }
  const where = path ?? 'an output file';
  let message: string;
  if (error.syscall === 'mkdir' && (error.code === 'EEXIST' || error.code === 'ENOTDIR')) {
    // mkdir -p of an output directory, where the name or one of its parents is a file.
    const file = error.code === 'EEXIST' ? 'a file of that name exists' : 'a parent of it is a file';
    return { exitCode: EXIT.output, message: `cannot create directory ${where}: ${file}`, writing };
  }
  switch (error.code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
    case 'EMFILE':
    case 'ENFILE':
    case 'EIO':
      message = `${condition} while writing ${where}`;
      break;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      message = `${condition}: ${where}`;
      break;
    default:
      // ENOENT, ENOTDIR: the directory the file goes into is missing or a parent is a file.
      message = `cannot write ${where}: ${condition}`;
  }
  return { exitCode: EXIT.output, message, writing };
}

/** The first system error in `error`'s chain of causes (itself included), at most `depth` levels down. */
export function systemErrorIn(error: unknown, depth = 8): SystemError | undefined {
  let current: unknown = error;
  for (let level = 0; level <= depth && current instanceof Error; level++) {
    if (isSystemError(current)) return current;
    current = current.cause;
  }
  return undefined;
}
