// A full disk, for real: `ziplm export` and `ziplm prune` write into a tmpfs of 512 KiB, smaller than the
// tiny BERT's ONNX file (about 690 KB). Each must exit 6 with a one-line "no space left on device while
// writing <path>", no stack trace, and leave a previous output file as it was (the writes are atomic).
// Mounting needs root (and a container that allows mount(2)); otherwise the tests are skipped, and their
// titles say why. test/write-failure.test.ts covers the same paths everywhere with an injected ENOSPC.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import { runCli } from '../run-cli.js';

const TMPFS_SIZE = '512k';
const root = mkdtempSync(join(tmpdir(), 'ziplm-cli-full-disk-'));
const mounted: string[] = [];

/** A fresh tmpfs of TMPFS_SIZE, or why there is none. */
function mountSmallTmpfs(name: string): { dir: string } | { skipped: string } {
  if (process.getuid?.() !== 0) return { skipped: 'not root: mounting a tmpfs needs root' };
  const dir = join(root, name);
  try {
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { skipped: `mount -t tmpfs failed (${stderr || (error as Error).message})` };
  }
  mounted.push(dir);
  return { dir };
}

afterAll(() => {
  for (const dir of mounted) execFileSync('umount', [dir]);
  rmSync(root, { recursive: true, force: true });
});

/** The test's title, with the reason when it is skipped (vitest prints the title of a skipped test). */
function titled(title: string, disk: { dir: string } | { skipped: string }): string {
  if ('skipped' in disk) console.warn(`full-disk test skipped: ${disk.skipped}`);
  return 'skipped' in disk ? `${title} (skipped: ${disk.skipped})` : title;
}

function expectNoStackTrace(stderr: string) {
  expect(stderr).not.toContain('internal error');
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe(`a full disk (tmpfs of ${TMPFS_SIZE})`, () => {
  const exportDisk = mountSmallTmpfs('export');
  it.skipIf('skipped' in exportDisk)(
    titled('export: exit 6 naming the file, and the previous export is left as it was', exportDisk),
    async () => {
      const dir = (exportDisk as { dir: string }).dir;
      const out = join(dir, 'model.onnx');
      writeFileSync(out, 'previous export\n');
      const { code, stderr } = await runCli(['export', '--model', 'tiny-bert', '--out', out]);
      expectNoStackTrace(stderr);
      expect(code, stderr).toBe(EXIT.output);
      expect(stderr).toBe(`ziplm: no space left on device while writing ${out}\n`);
      expect(readFileSync(out, 'utf8')).toBe('previous export\n');
      // The temporary file of the atomic write is removed again: the disk is not left full.
      expect(readdirSync(dir)).toEqual(['model.onnx']);
    },
  );

  const pruneDisk = mountSmallTmpfs('prune');
  it.skipIf('skipped' in pruneDisk)(titled('prune: exit 6 naming the run directory or a file in it', pruneDisk), async () => {
    const run = join((pruneDisk as { dir: string }).dir, 'run');
    const { code, stderr } = await runCli([
      'prune',
      '--model',
      'tiny-bert',
      '--task',
      'samples',
      '--targets',
      '2',
      '--calibration-samples',
      '4',
      '--no-spdy',
      '--no-evaluate',
      '--no-verify',
      '--engine',
      'js',
      '--run',
      run,
    ]);
    expectNoStackTrace(stderr);
    expect(code, stderr).toBe(EXIT.output);
    const lastLine = stderr.trimEnd().split('\n').at(-1);
    expect(lastLine).toMatch(new RegExp(`^ziplm: no space left on device while writing ${run}`));
  });
});
