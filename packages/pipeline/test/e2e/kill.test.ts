// Fault test (issue 12): a one-shot run in a child process is killed with SIGKILL at N seeded random
// moments (ZIPLM_KILL_POINTS, default 3; seed ZIPLM_KILL_SEED, default 12), each in a directory of its own
// and restarted with the same command to completion. Each directory must then hold the same files as an
// uninterrupted run with the same latency table: the members' member.json, model.onnx, model.safetensors,
// config and vocabulary, the level database, results.json and report.md byte for byte, and the manifest
// but for its timestamps (what resume.test.ts compares, and why: both runs use one table and skip
// verification, so no timing enters these files). Unlike resume.test.ts, the interruption is a real kill:
// no `finally` runs, a write may be cut anywhere, and the lock holder dies with the lock held.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inferenceEnvironment, saveLatencyTable } from '@ziplm/latency';
import { buildLatencyTable } from '@ziplm/latency/measure';
import { builtinModelDir, readConfigFile } from '@ziplm/models';
import { seededRandom } from '@ziplm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PACKAGE_DIR = join(import.meta.dirname, '..', '..');
const KILL_POINTS = Number(process.env.ZIPLM_KILL_POINTS ?? 3);
const KILL_SEED = Number(process.env.ZIPLM_KILL_SEED ?? 12);

const root = mkdtempSync(join(tmpdir(), 'ziplm-kill-'));
const tablePath = join(root, 'table.json');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What a killed write may leave behind: `<file>.tmp-<hex>` (atomic file writes) and `<dir>.<pid>.tmp` (atomic directories). */
const LEFTOVER = /\.tmp-[0-9a-f]+$|\.\d+\.tmp(\/|$)/;

/** Every file below `dir` (relative path → sha256), except the manifest (compared apart) and the lock. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      const name = relative(dir, path);
      if (entry.isDirectory()) walk(path);
      else if (name !== 'manifest.json' && name !== '.lock' && !LEFTOVER.test(name))
        out[name] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Files a killed write left behind (reported, not compared). */
function leftovers(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((name) => LEFTOVER.test(name));
}

/** The manifest without what legitimately differs between two runs (timestamps). */
function manifest(dir: string): unknown {
  const { createdAt: _c, updatedAt: _u, ...rest } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  return rest;
}

interface ChildRun {
  /** Exit code, or null when killed. */
  readonly code: number | null;
  readonly killed: boolean;
  /** From the end of start-up (the child's "started" line) to its exit. */
  readonly workMs: number;
  readonly stderr: string;
}

/**
 * Runs the one-shot run on `runDir` in a child process; when `killAfterMs` is given, kills it with
 * SIGKILL that long after its start-up (module loading) is over, i.e. while it works on the run directory.
 */
function runChild(runDir: string, killAfterMs?: number): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ziplm/source', 'test/e2e/kill-child.ts', runDir, tablePath], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let started: number | undefined;
  let killed = false;
  let timer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    if (started !== undefined || !chunk.toString().includes('started')) return;
    started = performance.now();
    if (killAfterMs !== undefined) {
      timer = setTimeout(() => {
        killed = child.kill('SIGKILL');
      }, killAfterMs);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, killed: killed && code === null, workMs: performance.now() - (started ?? performance.now()), stderr });
    });
  });
}

describe('a run killed with SIGKILL at random moments resumes to the files of an uninterrupted run', () => {
  const reference = join(root, 'reference');
  /** How long an uninterrupted run works on its directory (after start-up). */
  let referenceMs = 0;

  beforeAll(async () => {
    const config = await readConfigFile(join(builtinModelDir('tiny-bert'), 'config.json'));
    await saveLatencyTable(tablePath, await buildLatencyTable(config, inferenceEnvironment({}), { minRounds: 3, maxRounds: 5 }));
    const run = await runChild(reference);
    expect(run.code, run.stderr).toBe(0);
    referenceMs = run.workMs;
  }, 120_000);

  /** The killed-and-restarted directory `dir` ended with the files of the uninterrupted run. */
  function expectSameFiles(dir: string): void {
    const files = snapshot(dir);
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining(['results.json', 'report.md', 'members/ziplm-2.50x/model.onnx', 'members/ziplm-2.50x/member.json']),
    );
    expect(files).toEqual(snapshot(reference));
    expect(manifest(dir)).toEqual(manifest(reference));
  }

  it(`killed at ${KILL_POINTS} random moments, each time restarted to completion`, async () => {
    const random = seededRandom(KILL_SEED);
    for (let i = 0; i < KILL_POINTS; i++) {
      const dir = join(root, `killed-${i}`);
      // Anywhere in an uninterrupted run's work: opening the directory, calibration, the database, a member's export.
      const moment = Math.round(random() * referenceMs);
      const killed = await runChild(dir, moment);
      const kill = killed.killed ? `killed at ${moment} ms` : `ended (code ${killed.code}) before ${moment} ms`;
      if (!killed.killed) expect(killed.code, `${kill}\n${killed.stderr}`).toBe(0);
      const rerun = await runChild(dir);
      expect(rerun.code, `${kill}, then the rerun failed:\n${rerun.stderr}`).toBe(0);
      console.log(
        `kill test ${i + 1}/${KILL_POINTS}: ${kill} of ${(referenceMs / 1000).toFixed(1)} s of work; rerun ${(rerun.workMs / 1000).toFixed(1)} s; ` +
          `files left by killed writes: ${leftovers(dir).join(', ') || 'none'}`,
      );
      expectSameFiles(dir);
    }
  }, 240_000);
});
