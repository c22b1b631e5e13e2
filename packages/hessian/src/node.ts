// @ziplm/hessian/node: the file-system side of the level database. The core package never imports
// node:* modules, so it runs in a browser; this entry point adds a directory-backed LevelStorage.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LevelDatabase, type LevelStorage } from './database.js';
import { DatabaseError } from './errors.js';

const TMP_MARKER = '.tmp-';

/** Options of {@link createFileStorage}. */
export interface FileStorageOptions {
  /**
   * Keep a sha256 of every entry in `<directory>.sha256`, the file beside the directory (one
   * `sha256sum` line per entry, `<hex>  <directory name>/<entry>`, so `sha256sum -c` checks it too),
   * updated before each entry is written, and check an entry the first time this storage reads it (the
   * whole entry is hashed once: a ~94 MB BERT-base FFN module takes about 0.2 s). A changed entry, or
   * one without a checksum, is a DatabaseError naming the file and telling the user to remove it (the
   * module is then rebuilt). The checksums live outside the directory, so the directory holds exactly
   * the entries. Default false: no checksums, as in earlier releases.
   */
  readonly checksums?: boolean;
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes `data` to `file` through a fsynced temporary file renamed over it (the caller fsyncs the directory). */
async function writeAndRename(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}${TMP_MARKER}${randomBytes(6).toString('hex')}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

/**
 * A directory as {@link LevelStorage}. Writes go to `<name>.tmp-<random>` in the same directory, are
 * flushed to disk, and are then renamed over `<name>`: rename within a directory is atomic, so a crash
 * leaves either the old file or the new one (plus, at worst, a stray temporary that `list()` ignores
 * and the next write of that name cleans up). The directory is then fsynced too (best effort: skipped
 * where the platform cannot open or sync a directory), so the new name survives a power loss.
 */
export function createFileStorage(directory: string, options: FileStorageOptions = {}): LevelStorage {
  const checksums = options.checksums ?? false;
  const checksumFile = `${directory.replace(/[\\/]+$/, '')}.sha256`;
  const prefix = `${basename(directory)}/`;
  /**
   * The checksums of `checksumFile`, by entry name, read afresh each time: several storages (or processes,
   * one after another) may write entries of one directory, and an update from a stale copy would drop the
   * others' lines, leaving entries without a checksum. The file holds two short lines per layer.
   */
  const loadChecksums = async (): Promise<Map<string, string>> => {
    const recorded = new Map<string, string>();
    let text = '';
    try {
      text = await readFile(checksumFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
      if (match?.[2]?.startsWith(prefix)) recorded.set(match[2].slice(prefix.length), match[1]!);
    }
    return recorded;
  };
  /** Entries whose checksum this storage has checked (or written): each is hashed at most once. */
  const checked = new Set<string>();
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
      if (checksums && !checked.has(name)) {
        const remedy = `remove ${file} to rebuild this module`;
        const expected = (await loadChecksums()).get(name);
        if (expected === undefined) throw new DatabaseError(file, `has no checksum in ${checksumFile}, so it cannot be checked; ${remedy}`);
        const actual = await hashFile(file);
        if (actual !== expected)
          throw new DatabaseError(
            file,
            `has changed since it was written (sha256 ${actual}, recorded ${expected} in ${checksumFile}); ${remedy}`,
          );
        checked.add(name);
      }
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
      if (checksums) {
        // The checksum goes first: a crash between the two renames leaves a checksum without its entry
        // (the entry is missing, so it is rebuilt), never an entry without its checksum.
        const parent = dirname(checksumFile);
        const stray = `${basename(checksumFile)}${TMP_MARKER}`;
        for (const n of await readdir(parent)) if (n.startsWith(stray)) await rm(join(parent, n), { force: true });
        const sums = await loadChecksums();
        sums.set(name, createHash('sha256').update(data).digest('hex'));
        const lines = [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, sha]) => `${sha}  ${prefix}${n}\n`);
        await writeAndRename(checksumFile, lines.join(''));
        await syncDirectory(parent);
      }
      await writeAndRename(file, data);
      if (checksums) checked.add(name);
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

/** A {@link LevelDatabase} in `directory` (created on first write); `options` as in {@link createFileStorage}. */
export function openLevelDatabase(directory: string, options: FileStorageOptions = {}): LevelDatabase {
  return new LevelDatabase(createFileStorage(directory, options));
}

export { LevelDatabase } from './database.js';
export type { LevelStorage } from './database.js';
