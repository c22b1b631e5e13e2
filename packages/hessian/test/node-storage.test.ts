// createFileStorage's durability: the temporary file is fsynced before the rename, and the directory
// after it (best effort). node:fs/promises is wrapped so the test can see, and inject errors into, the
// open/sync calls; everything still goes to a real temporary directory.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

const trace = vi.hoisted(() => ({
  events: [] as string[],
  /** Error code thrown by the next open() of a directory (flag 'r'), if set. */
  directoryOpenError: undefined as string | undefined,
  /** Error code thrown by the next sync() of a directory handle, if set. */
  directorySyncError: undefined as string | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const fail = (code: string): Error => Object.assign(new Error(`${code}: injected`), { code });
  return {
    ...fs,
    rename: async (from: string, to: string) => {
      trace.events.push(`rename ${to}`);
      return fs.rename(from, to);
    },
    open: async (path: string, flags: string) => {
      const isDirectory = flags === 'r' && (await fs.stat(path)).isDirectory();
      if (isDirectory && trace.directoryOpenError) throw fail(trace.directoryOpenError);
      const handle = await fs.open(path, flags);
      const label = isDirectory ? `directory ${path}` : `file ${path}`;
      return new Proxy(handle, {
        get(target, key) {
          if (key === 'sync') {
            return async () => {
              if (isDirectory && trace.directorySyncError) throw fail(trace.directorySyncError);
              trace.events.push(`sync ${label}`);
              return target.sync();
            };
          }
          const value = Reflect.get(target, key, target) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
});

// Unit projects share one module registry per worker (isolate: false): drop the modules other test files
// loaded, so the module under test is imported afresh against the mock above; and again after this file.
vi.resetModules();
const { createFileStorage } = await import('../src/node.js');
afterAll(() => {
  vi.doUnmock('node:fs/promises');
  vi.resetModules();
});

const dirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ziplm-hessian-fsync-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  trace.events.length = 0;
  trace.directoryOpenError = undefined;
  trace.directorySyncError = undefined;
});

describe('createFileStorage.writeAtomic durability', () => {
  it('fsyncs the temporary file, renames it, then fsyncs the directory', async () => {
    const dir = await scratch();
    const storage = createFileStorage(dir);
    await storage.writeAtomic('layer-00-ffn.zlmdb', new Uint8Array([1, 2, 3]));
    const file = join(dir, 'layer-00-ffn.zlmdb');
    expect(trace.events).toHaveLength(3);
    expect(trace.events[0]).toMatch(new RegExp(`^sync file ${file}\\.tmp-[0-9a-f]{12}$`));
    expect(trace.events.slice(1)).toEqual([`rename ${file}`, `sync directory ${dir}`]);
    expect(Array.from(await readFile(file))).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['layer-00-ffn.zlmdb']);
  });

  it('skips the directory fsync where the platform refuses it', async () => {
    const dir = await scratch();
    const storage = createFileStorage(dir);
    for (const code of ['EISDIR', 'EPERM', 'EACCES']) {
      trace.directoryOpenError = code; // Windows cannot open a directory
      await storage.writeAtomic('a.zlmdb', new Uint8Array([7]));
    }
    trace.directoryOpenError = undefined;
    for (const code of ['EINVAL', 'ENOTSUP']) {
      trace.directorySyncError = code; // file systems without fsync on directories
      await storage.writeAtomic('a.zlmdb', new Uint8Array([8]));
    }
    expect(Array.from(await readFile(join(dir, 'a.zlmdb')))).toEqual([8]);
    expect(trace.events.some((e) => e.startsWith('sync directory'))).toBe(false);
  });

  it('raises a real failure to persist the directory', async () => {
    const dir = await scratch();
    trace.directorySyncError = 'EIO';
    await expect(createFileStorage(dir).writeAtomic('b.zlmdb', new Uint8Array([1]))).rejects.toThrow(/EIO/);
  });
});
