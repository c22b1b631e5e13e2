// The run directory's lock: one process at a time. Two runs writing one directory would each save
// members, tables and the manifest from their own view of it (issue: both exited 0 and left a
// manifest whose table hash matched neither table). The lock is a file created with O_EXCL (`wx`),
// which exactly one process can do; it holds the holder's pid, host and start time so that a second
// process can say who holds it, and so that a lock left by a killed run can be recognised.

import { hostname } from 'node:os';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RunDirectoryError, RunLockedError } from '../errors.js';

/** The lock file's name inside a run directory. */
export const LOCK_FILE = '.lock';

/** What the lock file holds. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/** A held lock; `release` removes the lock file (only while it is still this holder's). */
export interface RunLock {
  readonly file: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/**
 * A lock file that cannot be parsed was caught between its creation and its first write (or was
 * damaged). Younger than this, it is taken to be another process that is starting; older, it is stale.
 */
const UNWRITTEN_LOCK_GRACE_MS = 10_000;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Whether process `pid` exists on this host: signal 0 checks without signalling (EPERM: it exists, owned by another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, host, startedAt } = value as Record<string, unknown>;
    if (!Number.isSafeInteger(pid) || (pid as number) <= 0 || typeof host !== 'string' || typeof startedAt !== 'string') return undefined;
    return { pid: pid as number, host, startedAt };
  } catch {
    return undefined;
  }
}

async function readLock(file: string): Promise<{ text: string; ageMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { text, ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Takes the lock of run directory `dir` (creating the directory): a RunLockedError when a live process
 * holds it. A lock left by a process that is gone (same host, and `kill(pid, 0)` says ESRCH) is taken
 * over after `warn` reports it; a lock from another host is never taken over (its pid means nothing
 * here), and the message says to remove the file once that run is known to have ended.
 */
export async function acquireRunLock(dir: string, warn: (message: string) => void): Promise<RunLock> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const text = `${JSON.stringify(holder)}\n`;
  // Two tries: the second follows the removal of a stale lock (another process may win that race).
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return {
        file,
        holder,
        async release() {
          // Remove only our own lock: after a takeover by another process (ours was judged stale),
          // the file is theirs.
          const current = await readLock(file);
          if (current?.text === text)
            await unlink(file).catch((error) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(error)));
        },
      };
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const found = await readLock(file);
    if (!found) continue; // released between our open and our read
    const other = parseHolder(found.text);
    let stale: string | undefined;
    if (!other) {
      if (found.ageMs < UNWRITTEN_LOCK_GRACE_MS) {
        throw new RunLockedError(
          dir,
          { pid: 0, host: 'unknown', startedAt: 'unknown' },
          `${file} is being created by another process (not yet readable); wait for that run or choose another run directory`,
        );
      }
      stale = `${file} is unreadable and ${Math.round(found.ageMs / 1000)} s old`;
    } else if (other.host === holder.host && !processAlive(other.pid)) {
      stale = `${file} was left by process ${other.pid} on ${other.host} (started ${other.startedAt}), which is no longer running`;
    } else {
      const where = other.host === holder.host ? 'on this host' : `on host ${other.host}`;
      const hint =
        other.host === holder.host
          ? 'wait for it to finish or choose another run directory'
          : `wait for it to finish or choose another run directory; if you know that run has ended, remove ${file}`;
      throw new RunLockedError(dir, other, `is in use by process ${other.pid} ${where} (started ${other.startedAt}); ${hint}`);
    }
    warn(`taking over a stale lock: ${stale}`);
    // Remove it only if it is still the stale one we judged (another process may have taken it over meanwhile).
    const again = await readLock(file);
    if (again?.text === found.text)
      await unlink(file).catch((error) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(error)));
  }
  throw new RunDirectoryError(dir, `could not take the lock ${file}: another process took it over at the same time; try again`);
}
