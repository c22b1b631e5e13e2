// @ziplm/hessian/node: the file-system side of the level database. The core package never imports
// node:* modules, so it runs in a browser; this entry point adds a directory-backed LevelStorage.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LevelDatabase, type LevelStorage } from './database.js';
import { DatabaseError } from './errors.js';

const TMP_MARKER = '.tmp-';

/**
 * A directory as {@link LevelStorage}. Writes go to `<name>.tmp-<random>` in the same directory, are
 * flushed to disk, and are then renamed over `<name>`: rename within a directory is atomic, so a crash
 * leaves either the old file or the new one (plus, at worst, a stray temporary that `list()` ignores
 * and the next write of that name cleans up). The directory is then fsynced too (best effort: skipped
 * where the platform cannot open or sync a directory), so the new name survives a power loss.
 */
export function createFileStorage(directory: string): LevelStorage {
  const path = (name: string): string => {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.') || name.includes(TMP_MARKER)) {
      throw new DatabaseError(join(directory, name), 'invalid entry name');
    }
    return join(directory, name);
  };
  return {
    location: directory,
    async list() {
      try {
        return (await readdir(directory)).filter((n) => !n.includes(TMP_MARKER)).sort();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
    },
    async size(name) {
      try {
        const s = await stat(path(name));
        return s.isFile() ? s.size : undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async read(name, range) {
      const file = path(name);
      if (!range) return new Uint8Array(await readFile(file));
      const handle = await open(file, 'r');
      try {
        const length = Math.max(0, range.end - range.start);
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, range.start + done);
          if (bytesRead === 0) throw new DatabaseError(file, `truncated: wanted bytes [${range.start}, ${range.end})`);
          done += bytesRead;
        }
        return out;
      } finally {
        await handle.close();
      }
    },
    async writeAtomic(name, data) {
      const file = path(name);
      await mkdir(directory, { recursive: true });
      // Remove temporaries an interrupted earlier write of this entry may have left.
      for (const n of await readdir(directory)) if (n.startsWith(name + TMP_MARKER)) await rm(join(directory, n), { force: true });
      const tmp = `${file}${TMP_MARKER}${randomBytes(6).toString('hex')}`;
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
      // The rename is only durable once the directory entry is on disk: without this, a power loss
      // shortly after a write can lose the new name (and so the whole layer) on ext4/xfs.
      await syncDirectory(directory);
    },
  };
}

/**
 * Errors of opening or fsyncing a directory that only mean "this platform does not do that" (Windows
 * cannot open a directory: EISDIR/EPERM/EACCES; some file systems refuse fsync on one: EINVAL/ENOTSUP).
 * Anything else (EIO, ENOSPC, …) is a real failure to persist and is raised.
 */
const UNSUPPORTED_DIRECTORY_SYNC = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF']);

/** fsync(2) on a directory, best effort (see {@link UNSUPPORTED_DIRECTORY_SYNC}). */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    if (!UNSUPPORTED_DIRECTORY_SYNC.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle?.close();
  }
}

/** A {@link LevelDatabase} in `directory` (created on first write). */
export function openLevelDatabase(directory: string): LevelDatabase {
  return new LevelDatabase(createFileStorage(directory));
}

export { LevelDatabase } from './database.js';
export type { LevelStorage } from './database.js';
