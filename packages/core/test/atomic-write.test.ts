import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ATOMIC_TEMP_MARKER, writeDirectoryAtomic, writeFileAtomic, writeFileAtomicWith, writeJsonAtomic } from '../src/node.js';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ziplm-core-'));
  roots.push(dir);
  return dir;
}

describe('writeFileAtomic', () => {
  it('writes strings, bytes and JSON, creating the directory, and replaces an existing file', async () => {
    const dir = join(await tempDir(), 'a', 'b');
    await writeFileAtomic(join(dir, 'x.txt'), 'héllo');
    expect(await readFile(join(dir, 'x.txt'), 'utf8')).toBe('héllo');
    await writeFileAtomic(join(dir, 'x.txt'), new Uint8Array([1, 2, 3]));
    expect([...(await readFile(join(dir, 'x.txt')))]).toEqual([1, 2, 3]);
    await writeJsonAtomic(join(dir, 'v.json'), { a: [1, 2] });
    expect(await readFile(join(dir, 'v.json'), 'utf8')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}\n');
    expect((await readdir(dir)).sort()).toEqual(['v.json', 'x.txt']);
  });

  it('leaves no temporary file and the old contents when the write fails', async () => {
    const dir = await tempDir();
    const file = join(dir, 'table.json');
    await writeFile(file, 'old');
    await expect(
      writeFileAtomicWith(file, async (handle) => {
        await handle.write('partial new contents');
        throw new Error('disk on fire');
      }),
    ).rejects.toThrow('disk on fire');
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['table.json']);
  });

  it('names the file being written in a system error that names none (a failed write on a handle)', async () => {
    const dir = await tempDir();
    const file = join(dir, 'model.onnx');
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    const error = await writeFileAtomicWith(file, async () => {
      throw enospc;
    }).catch((e: unknown) => e);
    expect(error).toBe(enospc);
    expect((error as NodeJS.ErrnoException).path).toBe(file);
    // An error that already names a path keeps it; an error without a code is not a system error.
    const named = Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/elsewhere' });
    await writeFileAtomicWith(file, async () => {
      throw named;
    }).catch(() => undefined);
    expect(named.path).toBe('/elsewhere');
    const plain = new Error('disk on fire');
    await writeFileAtomicWith(file, async () => {
      throw plain;
    }).catch(() => undefined);
    expect('path' in plain).toBe(false);
  });

  it('leaves no temporary file when the rename fails', async () => {
    const dir = await tempDir();
    // A non-empty directory cannot be replaced by a file.
    await mkdir(join(dir, 'taken', 'child'), { recursive: true });
    await expect(writeFileAtomic(join(dir, 'taken'), 'x')).rejects.toThrow();
    expect((await readdir(dir)).filter((n) => n.includes(ATOMIC_TEMP_MARKER))).toEqual([]);
  });

  it('writes parts in order through the handle', async () => {
    const file = join(await tempDir(), 'parts.bin');
    await writeFileAtomicWith(file, async (handle) => {
      await handle.write(new Uint8Array([1, 2]));
      await handle.write(new Uint8Array([3]));
    });
    expect([...(await readFile(file))]).toEqual([1, 2, 3]);
  });

  it('keeps concurrent writers of one file from sharing a temporary name', async () => {
    const file = join(await tempDir(), 'busy.txt');
    await Promise.all(Array.from({ length: 8 }, (_, i) => writeFileAtomic(file, `writer ${i}`)));
    expect(await readFile(file, 'utf8')).toMatch(/^writer \d$/);
  });
});

describe('writeDirectoryAtomic', () => {
  it('publishes a complete directory and replaces the previous one', async () => {
    const parent = await tempDir();
    const dir = join(parent, 'last');
    expect(await writeDirectoryAtomic(dir, async (tmp) => writeFile(join(tmp, 'a.txt'), 'one'))).toBe(dir);
    await writeDirectoryAtomic(dir, async (tmp) => {
      await mkdir(join(tmp, 'sub'));
      await writeFile(join(tmp, 'sub', 'b.txt'), 'two');
    });
    expect(await readdir(parent)).toEqual(['last']);
    expect(await readdir(dir)).toEqual(['sub']);
    expect(await readFile(join(dir, 'sub', 'b.txt'), 'utf8')).toBe('two');
  });

  it('leaves the previous directory and no temporary one when filling fails', async () => {
    const parent = await tempDir();
    const dir = join(parent, 'best');
    await writeDirectoryAtomic(dir, async (tmp) => writeFile(join(tmp, 'a.txt'), 'kept'));
    await expect(
      writeDirectoryAtomic(dir, async (tmp) => {
        await writeFile(join(tmp, 'a.txt'), 'half');
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    expect(await readdir(parent)).toEqual(['best']);
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('kept');
  });

  it('removes a temporary directory an interrupted earlier publish of this process left', async () => {
    const parent = await tempDir();
    await mkdir(join(parent, `m.${process.pid}.tmp`));
    await writeFile(join(parent, `m.${process.pid}.tmp`, 'stale.txt'), 'stale');
    await writeDirectoryAtomic(join(parent, 'm'), async (tmp) => writeFile(join(tmp, 'fresh.txt'), 'fresh'));
    expect(await readdir(parent)).toEqual(['m']);
    expect(await readdir(join(parent, 'm'))).toEqual(['fresh.txt']);
  });
});
