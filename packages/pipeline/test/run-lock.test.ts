// The run directory's lock: one process at a time, a second fails fast naming the holder, a lock left
// by a process that is gone is taken over with a warning, and the lock is released however a run ends.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { RunDirectoryError, RunLockedError } from '../src/errors.js';
import { RunDirectory, type RunIdentity } from '../src/internal/run-dir.js';
import { acquireRunLock, LOCK_FILE } from '../src/internal/run-lock.js';
import { runOneShot } from '../src/oneshot.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-lock-'));
let dirs = 0;
const freshDir = () => join(root, `run-${dirs++}`);
const identity: RunIdentity = {
  mode: 'oneshot',
  model: { sha256: 'abc', modelType: 'bert' },
  task: 'samples',
  data: [],
  calibration: { samples: 4, seed: 42 },
  environment: {},
  settings: {},
};

/** The pid of a process that has exited (and so is not alive). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('the run directory lock', () => {
  it('lets exactly one of two concurrent opens proceed; the other fails fast naming the holder', async () => {
    const dir = freshDir();
    const outcomes = await Promise.allSettled([RunDirectory.open(dir, identity), RunDirectory.open(dir, identity)]);
    const opened = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(opened).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const error = (refused[0] as PromiseRejectedResult).reason as RunLockedError;
    expect(error).toBeInstanceOf(RunLockedError);
    expect(error.code).toBe('ERR_ZIPLM_RUN_LOCKED');
    expect(error.message).toContain(`in use by process ${process.pid} on this host`);
    expect(error.holder).toMatchObject({ pid: process.pid, host: hostname() });
    const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    expect(typeof lock.startedAt).toBe('string');
    await (opened[0] as PromiseFulfilledResult<RunDirectory>).value.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    // Released: the directory opens again.
    await (await RunDirectory.open(dir, identity)).close();
  });

  it('refuses a run while another process holds the lock, naming its pid and host', async () => {
    const dir = freshDir();
    // A child process (through tsx, on the sources) takes the lock and holds it until stdin closes.
    const script = `import { acquireRunLock } from ${JSON.stringify(new URL('../src/internal/run-lock.ts', import.meta.url).pathname)};
      await acquireRunLock(${JSON.stringify(dir)}, () => {});
      process.stdout.write('locked\\n');
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));`;
    const child = spawn(process.execPath, ['--conditions=@ziplm/source', '--import', 'tsx', '--input-type=module', '--eval', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
        child.on('exit', (code) => reject(new Error(`the child exited with ${code} before taking the lock`)));
      });
      const started = performance.now();
      const error = await runOneShot({
        modelDir: builtinModelDir('tiny-bert'),
        runDir: dir,
        targets: [1.5],
        task: 'samples',
        calibrationSamples: 4,
        engine: 'js',
        spdy: false,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunLockedError);
      expect((error as Error).message).toContain(`in use by process ${child.pid} on this host`);
      expect(performance.now() - started).toBeLessThan(10_000); // fails fast: nothing is measured
      expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
    } finally {
      child.stdin.end();
      await new Promise((resolve) => child.on('exit', resolve));
    }
  }, 60_000);

  it('takes over a stale lock (same host, process gone) with a warning', async () => {
    const dir = freshDir();
    const pid = deadPid();
    await acquireRunLock(dir, () => {}); // creates the directory
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }));
    const warnings: string[] = [];
    const run = await RunDirectory.open(dir, identity, (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`taking over a stale lock: .*process ${pid} on .* no longer running`))]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await run.close();
  });

  it('never takes over a lock from another host', async () => {
    const dir = freshDir();
    await (await acquireRunLock(dir, () => {})).release();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere.example', startedAt: '2026-01-01T00:00:00.000Z' }));
    await expect(RunDirectory.open(dir, identity)).rejects.toThrow(/in use by process 1 on host elsewhere\.example .*remove .*\.lock/);
  });

  it('is released when opening fails, and when a run fails', async () => {
    const dir = freshDir();
    await (await RunDirectory.open(dir, identity)).close();
    await expect(RunDirectory.open(dir, { ...identity, task: 'other' })).rejects.toThrow(RunDirectoryError);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const runDir = freshDir();
    const options = { modelDir: builtinModelDir('tiny-bert'), runDir, targets: [1.5], task: 'samples' as const, calibrationSamples: 4 };
    await (await RunDirectory.open(runDir, identity)).close(); // a manifest for another model
    await expect(runOneShot(options)).rejects.toThrow(/a different model/);
    expect(existsSync(join(runDir, LOCK_FILE))).toBe(false);
  });
});
