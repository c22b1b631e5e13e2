// Durable atomic writes. A long job (a level database, a latency table, a training checkpoint, a run's
// results) is killed or loses power at any moment, and a later run trusts what it finds on disk. So a
// file is written to a temporary name in its own directory, flushed (fsync), and renamed over the final
// name: rename within a directory is atomic, so readers see the old file or the new one, never half of
// one. The rename itself is only durable once the directory entry is flushed too: without the directory
// fsync a power loss shortly after the write can lose the new name on ext4/xfs.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * What a temporary file name holds between the final name and a random suffix: `<name>.tmp-<hex>`.
 * Code that lists a directory written with {@link writeFileAtomic} skips names containing it.
 */
export const ATOMIC_TEMP_MARKER = '.tmp-';

/**
 * Errors of opening or fsyncing a directory that only mean "this platform does not do that" (Windows
 * cannot open a directory: EISDIR/EPERM/EACCES; some file systems refuse fsync on one: EINVAL/ENOTSUP).
 * Anything else (EIO, ENOSPC, …) is a real failure to persist and is raised.
 */
const UNSUPPORTED_DIRECTORY_SYNC = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF']);

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? '';
}

/** fsync(2) on a directory, so that the entries created or renamed in it survive a power loss (best effort, see above). */
export async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    if (!UNSUPPORTED_DIRECTORY_SYNC.has(errorCode(error))) throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `file` atomically and durably with `write`, which gets an open handle on a fresh temporary file
 * in the same directory (for data written in parts, e.g. tensors one by one). The parent directory is
 * created when missing. The temporary file is fsynced and renamed over `file`, then the directory is
 * fsynced. On any failure the temporary file is removed and `file` is left as it was.
 */
export async function writeFileAtomicWith(file: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  const directory = dirname(file);
  await mkdir(directory, { recursive: true });
  const tmp = `${file}${ATOMIC_TEMP_MARKER}${randomBytes(6).toString('hex')}`;
  try {
    const handle = await open(tmp, 'wx');
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw withPath(error, file);
  }
  await syncDirectory(directory);
}

/**
 * A system error from writing through an open handle (`write`, `fsync`: ENOSPC, EDQUOT, EIO) names no file;
 * give it the file being written, so whoever reports it can say which one. Errors that name a path keep it.
 */
function withPath(error: unknown, file: string): unknown {
  if (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    (error as NodeJS.ErrnoException).path === undefined
  ) {
    (error as NodeJS.ErrnoException).path = file;
  }
  return error;
}

/** Writes `data` (a string as UTF-8) to `file` atomically and durably (see {@link writeFileAtomicWith}). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomicWith(file, async (handle) => {
    await handle.writeFile(data);
  });
}

/** Writes `value` as JSON (two-space indent, final newline) to `file` atomically and durably. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** fsyncs every file below `directory` and every directory itself, so a renamed tree is on disk as a whole. */
async function syncTree(directory: string): Promise<void> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else if (entry.isFile()) {
      const handle = await open(path, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }
  await syncDirectory(directory);
}

/**
 * Publishes the directory `dir` atomically: `fill` writes the complete contents into `<dir>.<pid>.tmp`,
 * which is fsynced (every file and directory in it) and then replaces `dir` by two renames: the previous
 * `dir` goes to `<dir>.old` in between and is removed at the end; the parent directory is fsynced after
 * the swap. A crash at any point leaves `dir` or `<dir>.old` complete (a reader that must survive a crash
 * during the swap also accepts `<dir>.old`); a failure inside `fill` removes the temporary directory and
 * leaves `dir` as it was; a crash inside `fill` leaves the temporary directory, which the next publish of
 * `dir` by this process id removes. Returns `dir`.
 */
export async function writeDirectoryAtomic(dir: string, fill: (tmp: string) => Promise<void>): Promise<string> {
  const parent = dirname(dir);
  const name = basename(dir);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `${name}.${process.pid}.tmp`);
  const old = join(parent, `${name}.old`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  try {
    await fill(tmp);
    await syncTree(tmp);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  if (await exists(dir)) {
    await rm(old, { recursive: true, force: true });
    await rename(dir, old);
  }
  await rename(tmp, dir);
  await syncDirectory(parent);
  await rm(old, { recursive: true, force: true });
  return dir;
}
