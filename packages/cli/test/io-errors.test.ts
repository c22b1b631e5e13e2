// File-system failures, in-process: a file that cannot be read is exit 3 and one that cannot be written
// exit 6, each with one line naming the path and the condition, never a stack trace; exit 1 (with the stack
// and a request to report it) is left for bugs. Permission checks are skipped as root, which ignores file
// modes; the read-only file system case needs root instead (it mounts a read-only tmpfs). Each skipped
// test says why in its title.

import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@ziplm/core/node';
import { builtinModelDir } from '@ziplm/models';
import { ReportWriteError, RunDirectoryError } from '@ziplm/pipeline';
import { afterAll, describe, expect, it } from 'vitest';
import { defineCommand } from '../src/command.js';
import { EXIT } from '../src/exit-codes.js';
import { exitCodeFor } from '../src/internal/error-codes.js';
import { describeSystemError } from '../src/internal/io-errors.js';
import { COMMANDS } from '../src/main.js';
import { runCli } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-cli-io-'));
const isRoot = process.getuid?.() === 0;
const mounted: string[] = [];
afterAll(() => {
  for (const dir of mounted) execFileSync('umount', [dir]);
  rmSync(root, { recursive: true, force: true });
});

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a failure'),
    (error: unknown) => error,
  );
}

async function expectOneLine(argv: string[], code: number, line: string) {
  const result = await runCli(argv);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(result.code, result.stderr).toBe(code);
  expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(`ziplm: ${line}`);
  return result;
}

describe('how a system error is reported', () => {
  it('a file that cannot be read: exit 3, "cannot read <path>: <condition>"', async () => {
    const missing = join(root, 'missing.json');
    const error = await failure(open(missing, 'r'));
    expect(describeSystemError(error)).toEqual({
      exitCode: EXIT.input,
      message: `cannot read ${missing}: no such file or directory`,
      writing: false,
    });
    expect(exitCodeFor(error)).toBe(EXIT.input);
    // A directory read as a file: read(2) names no path.
    expect(exitCodeFor(await failure(readFile(root)))).toBe(EXIT.input);
  });

  it('a parent of the output that is a file: exit 6, naming it', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const error = await failure(writeFileAtomic(join(file, 'model.onnx'), 'data'));
    expect(exitCodeFor(error)).toBe(EXIT.output);
    expect(describeSystemError(error)?.message).toMatch(new RegExp(`^cannot create directory ${file}`));
  });

  it('names the file, not the temporary name of the atomic writers', () => {
    const out = join(root, 'out', 'model.onnx');
    const atTemporary = (path: string, syscall: string, code: string) => Object.assign(new Error(code), { code, syscall, path });
    expect(describeSystemError(atTemporary(`${out}.tmp-0a1b2c3d4e5f`, 'open', 'EACCES'))?.message).toBe(`permission denied: ${out}`);
    const member = join(root, 'run', 'members', 'ziplm-2.00x');
    expect(describeSystemError(atTemporary(join(`${member}.4242.tmp`, 'model.onnx'), 'open', 'EROFS'))?.message).toBe(
      `read-only file system: ${join(member, 'model.onnx')}`,
    );
  });

  it('EACCES on opening a name that does not exist was a creation (a write); on one that exists, a read', () => {
    const existing = join(root, 'existing.json');
    writeFileSync(existing, '{}');
    const denied = (path: string) => Object.assign(new Error('EACCES'), { code: 'EACCES', syscall: 'open', path });
    expect(exitCodeFor(denied(join(root, 'run.lock')))).toBe(EXIT.output);
    expect(exitCodeFor(denied(existing))).toBe(EXIT.input);
    expect(describeSystemError(denied(existing))?.message).toBe(`cannot read ${existing}: permission denied`);
  });

  it('a write refused inside one of our errors is exit 6; a read refused inside one keeps its row', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    const report = join(root, 'run', 'report.md');
    expect(exitCodeFor(new ReportWriteError(report, 'could not be written', { cause: enospc }))).toBe(EXIT.output);
    expect(exitCodeFor(new ReportWriteError(report, 'could not be written'))).toBe(EXIT.input);
    const enoent = Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'open', path: join(root, 'run', 'manifest.json') });
    expect(exitCodeFor(new RunDirectoryError(join(root, 'run'), 'has no manifest', { cause: enoent }))).toBe(EXIT.input);
  });
});

describe('ziplm on a file it cannot read: exit 3 naming the file', () => {
  it('EISDIR: a directory given as the latency table', async () => {
    const dir = mkdtempSync(join(root, 'table-'));
    const result = await runCli(['prune', '--model', 'tiny-bert', '--task', 'samples', '--table', dir, '--run', join(root, 'never')]);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(result.code, result.stderr).toBe(EXIT.input);
    expect(result.stderr).toContain(dir);
  });

  it('EISDIR: a directory where the model weights should be', async () => {
    const model = mkdtempSync(join(root, 'model-'));
    cpSync(builtinModelDir('tiny-bert'), model, { recursive: true });
    rmSync(join(model, 'model.safetensors'));
    mkdirSync(join(model, 'model.safetensors'));
    const result = await runCli(['export', '--model', model, '--out', join(root, 'never.onnx')]);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(result.code, result.stderr).toBe(EXIT.input);
    expect(result.stderr).toContain(join(model, 'model.safetensors'));
  });

  it.skipIf(isRoot)(
    `EACCES: a model file without read permission${isRoot ? ' (skipped: root reads any file whatever its mode)' : ''}`,
    async () => {
      const model = mkdtempSync(join(root, 'model-'));
      cpSync(builtinModelDir('tiny-bert'), model, { recursive: true });
      chmodSync(join(model, 'model.safetensors'), 0o000);
      const result = await runCli(['export', '--model', model, '--out', join(root, 'never.onnx')]);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(result.code, result.stderr).toBe(EXIT.input);
      expect(result.stderr).toContain(join(model, 'model.safetensors'));
      // @ziplm/models types this read error itself (a WeightsError): its words may name the errno instead.
      expect(result.stderr).toMatch(/permission denied|EACCES/i);
    },
  );
});

describe('ziplm on an output it cannot write: exit 6 naming the path, the previous output left as it was', () => {
  it.skipIf(isRoot)(
    `permission denied: export into a read-only directory (chmod 0555) over an existing file${isRoot ? ' (skipped: root writes any directory whatever its mode)' : ''}`,
    async () => {
      const dir = mkdtempSync(join(root, 'read-only-'));
      const out = join(dir, 'model.onnx');
      writeFileSync(out, 'previous export\n');
      chmodSync(dir, 0o555);
      try {
        await expectOneLine(['export', '--model', 'tiny-bert', '--out', out], EXIT.output, `permission denied: ${out}`);
      } finally {
        chmodSync(dir, 0o755);
      }
      expect(readFileSync(out, 'utf8')).toBe('previous export\n');
      expect(readdirSync(dir)).toEqual(['model.onnx']);
    },
  );

  /** A tmpfs holding `out` with `text`, remounted read-only (root only: root ignores file modes, not EROFS). */
  function readOnlyFileSystem(name: string, text: string): { out: string } | { skipped: string } {
    if (!isRoot) return { skipped: 'not root: mounting a tmpfs needs root' };
    const dir = join(root, name);
    mkdirSync(dir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (error) {
      return { skipped: `mount -t tmpfs failed (${(error as { stderr?: Buffer }).stderr?.toString().trim() || String(error)})` };
    }
    mounted.push(dir);
    writeFileSync(join(dir, 'model.onnx'), text);
    execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'pipe' });
    return { out: join(dir, 'model.onnx') };
  }

  const readOnly = readOnlyFileSystem('read-only-fs', 'previous export\n');
  it.skipIf('skipped' in readOnly)(
    `read-only file system: export over an existing file on a read-only tmpfs${'skipped' in readOnly ? ` (skipped: ${readOnly.skipped})` : ''}`,
    async () => {
      const { out } = readOnly as { out: string };
      await expectOneLine(['export', '--model', 'tiny-bert', '--out', out], EXIT.output, `read-only file system: ${out}`);
      expect(readFileSync(out, 'utf8')).toBe('previous export\n');
    },
  );

  it('--out naming a directory', async () => {
    const dir = mkdtempSync(join(root, 'out-dir-'));
    await expectOneLine(['export', '--model', 'tiny-bert', '--out', dir], EXIT.output, `cannot write ${dir}: is a directory`);
  });

  it('--out under a file, and --run naming a file', async () => {
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    await expectOneLine(
      ['export', '--model', 'tiny-bert', '--out', join(file, 'model.onnx')],
      EXIT.output,
      `cannot create directory ${file}: a file of that name exists`,
    );
    const result = await runCli(['prune', '--model', 'tiny-bert', '--task', 'samples', '--run', file]);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(result.code, result.stderr).toBe(EXIT.output);
    expect(result.stderr).toContain(file);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('exit 1 is for bugs', () => {
  it('prints the stack and asks for a report', async () => {
    COMMANDS.bug = async () =>
      defineCommand({
        name: 'bug',
        summary: 'throws a bug',
        options: {},
        run: async () => {
          throw new RangeError('an index out of range');
        },
      });
    try {
      const { code, stderr } = await runCli(['bug']);
      expect(code).toBe(EXIT.internal);
      expect(stderr).toMatch(/^ziplm: internal error: RangeError: an index out of range\n\s+at /);
      expect(stderr).toContain('please report it');
    } finally {
      delete COMMANDS.bug;
    }
  });
});
