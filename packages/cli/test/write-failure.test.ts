// A write that fails part-way, on any machine: node:fs/promises is wrapped so that writing a chosen file
// (through @ziplm/core's atomic writer: its temporary `<file>.tmp-<hex>`) raises the error a full disk
// gives, ENOSPC from write(2), which names no path. `ziplm export` must exit 6 with a one-line message
// naming the file, print no stack trace, and leave a previous export untouched. test/e2e/full-disk.test.ts
// does the same on a real full file system where it can mount one.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../src/exit-codes.js';

const injected = vi.hoisted(() => ({
  /** Writes through a handle opened on a name starting with this path fail with `code`. */
  failingPath: undefined as string | undefined,
  code: 'ENOSPC',
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  /** An error shaped as Node's own for a failed write(2): errno code and syscall, no path. */
  const writeError = (code: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`${code}: injected, write`), { code, errno: -28, syscall: 'write' });
  return {
    ...fs,
    open: async (path: string, flags?: string, mode?: number) => {
      const handle = await fs.open(path, flags, mode);
      if (injected.failingPath === undefined || !String(path).startsWith(injected.failingPath)) return handle;
      return new Proxy(handle, {
        get(target, key) {
          if (key === 'writeFile' || key === 'write') {
            return async () => {
              throw writeError(injected.code);
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
// loaded, so the CLI and @ziplm/core are imported afresh against the mock above; and again after this file.
vi.resetModules();
const { runCli } = await import('./run-cli.js');
afterAll(() => {
  vi.doUnmock('node:fs/promises');
  vi.resetModules();
});

const root = mkdtempSync(join(tmpdir(), 'ziplm-cli-write-failure-'));

describe('a write that fails (injected ENOSPC)', () => {
  it('export: exit 6 naming the file, no stack trace, the previous export left as it was', async () => {
    const dir = mkdtempSync(join(root, 'export-'));
    const out = join(dir, 'model.onnx');
    writeFileSync(out, 'previous export\n');
    injected.failingPath = out;
    try {
      const { code, stderr } = await runCli(['export', '--model', 'tiny-bert', '--out', out]);
      expect(stderr).not.toMatch(/internal error|\n\s+at /);
      expect(code, stderr).toBe(EXIT.output);
      expect(stderr).toBe(`ziplm: no space left on device while writing ${out}\n`);
    } finally {
      injected.failingPath = undefined;
    }
    expect(readFileSync(out, 'utf8')).toBe('previous export\n');
    expect(readdirSync(dir), 'the temporary file is removed').toEqual(['model.onnx']);
  });

  it.each([
    ['EDQUOT', 'disk quota exceeded while writing'],
    ['EIO', 'input/output error while writing'],
  ])('export: %s is exit 6 too', async (code, words) => {
    const out = join(mkdtempSync(join(root, 'export-')), 'model.onnx');
    injected.failingPath = out;
    injected.code = code;
    try {
      const result = await runCli(['export', '--model', 'tiny-bert', '--out', out]);
      expect(result.code, result.stderr).toBe(EXIT.output);
      expect(result.stderr).toBe(`ziplm: ${words} ${out}\n`);
    } finally {
      injected.failingPath = undefined;
      injected.code = 'ENOSPC';
    }
  });

  it('latency table: a failed write names the table file', async () => {
    // saveLatencyTable goes through the same atomic writer; the table itself comes from a quick
    // measurement of the tiny BERT (one round), so this checks the CLI names `--out` when write(2) has no path.
    const out = join(mkdtempSync(join(root, 'latency-')), 'table.json');
    injected.failingPath = out;
    try {
      const result = await runCli(['latency', '--model', 'tiny-bert', '--out', out, '--min-rounds', '1', '--max-rounds', '1']);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(result.code, result.stderr).toBe(EXIT.output);
      expect(result.stderr).toContain(`ziplm: no space left on device while writing ${out}\n`);
    } finally {
      injected.failingPath = undefined;
    }
  });
});
