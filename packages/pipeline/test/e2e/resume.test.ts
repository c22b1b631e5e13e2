// A killed run restarted with the same call resumes where it stopped and ends with exactly the files
// of an uninterrupted run: the interruption is simulated by throwing from the event callback (after
// a member was written, in the middle of the level database, in the middle of fine-tuning). Both
// runs use one latency table and skip verification, so no timing enters the compared files.

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { inferenceEnvironment, saveLatencyTable } from '@ziplm/latency';
import { buildLatencyTable } from '@ziplm/latency/measure';
import { builtinModelDir, readConfigFile } from '@ziplm/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGradual, type GradualOptions } from '../../src/gradual.js';
import { runOneShot, type OneShotOptions } from '../../src/oneshot.js';
import type { PipelineEvent } from '../../src/context.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-resume-'));
const modelDir = builtinModelDir('tiny-bert');
const tablePath = join(root, 'table.json');

class Interrupt extends Error {}

/** Every file below `dir` (relative path → sha256), except those `skip` matches. */
function snapshot(dir: string, skip: (path: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!skip(relative(dir, path))) out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Modification times of the files below `dir`. */
function mtimes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const path of Object.keys(snapshot(dir))) out[path] = statSync(join(dir, path)).mtimeMs;
  return out;
}

/** The manifest without what legitimately differs between two runs (timestamps). */
function manifest(dir: string): unknown {
  const { createdAt: _c, updatedAt: _u, ...rest } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  return rest;
}

/** What may differ between an interrupted-then-resumed run and an uninterrupted one (compared apart, or timings). */
const notCompared = (path: string) => path === 'manifest.json' || path.endsWith('trainer-state.json');

/** The run in `dir` ended with the same files as the uninterrupted `reference` (members, databases, results, report). */
function expectSameFiles(dir: string, reference: string, lastMember: string): void {
  const files = snapshot(dir, notCompared);
  expect(Object.keys(files)).toEqual(
    expect.arrayContaining(['results.json', 'report.md', `members/${lastMember}/model.safetensors`, `members/${lastMember}/member.json`]),
  );
  expect(files).toEqual(snapshot(reference, notCompared));
  expect(manifest(dir)).toEqual(manifest(reference));
}

/** Runs `run` with an event callback that throws at the first event `stopAt` accepts. */
async function interrupted(
  run: (onEvent: (e: PipelineEvent) => void) => Promise<unknown>,
  stopAt: (e: PipelineEvent) => boolean,
): Promise<void> {
  await expect(
    run((e) => {
      if (stopAt(e)) throw new Interrupt('killed');
    }),
  ).rejects.toBeInstanceOf(Interrupt);
}

beforeAll(async () => {
  const config = await readConfigFile(join(modelDir, 'config.json'));
  await saveLatencyTable(tablePath, await buildLatencyTable(config, inferenceEnvironment({}), { minRounds: 3, maxRounds: 5 }));
}, 120_000);

describe('a killed one-shot run resumes and produces identical results', () => {
  const options = (runDir: string): OneShotOptions => ({
    modelDir,
    runDir,
    tablePath,
    targets: [1.5, 2, 2.5],
    task: 'samples',
    methods: ['ziplm'],
    calibrationSamples: 16,
    engine: 'js',
    spdy: { randomInits: 1, steps: 1 },
    verify: false,
  });
  const reference = join(root, 'oneshot-reference');

  beforeAll(async () => {
    await runOneShot(options(reference));
  }, 120_000);

  it('after the first member: keeps it untouched and computes only the rest', async () => {
    const dir = join(root, 'oneshot-after-member');
    await interrupted(
      (onEvent) => runOneShot({ ...options(dir), onEvent }),
      (e) => e.kind === 'member',
    );
    const first = join(dir, 'members', 'ziplm-1.50x');
    const before = { member: mtimes(first), database: mtimes(join(dir, 'database')) };
    expect(Object.keys(before.member)).toContain('model.onnx');
    expect(Object.keys(before.database)).toHaveLength(8);

    const events: PipelineEvent[] = [];
    await runOneShot({ ...options(dir), onEvent: (e) => events.push(e) });
    const members = events.filter((e) => e.kind === 'member');
    expect(members.map((e) => [e.member.target, e.resumed ?? false])).toEqual([
      [1.5, true],
      [2, false],
      [2.5, false],
    ]);
    const stages = events.filter((e) => e.kind === 'stage').map((e) => e.stage);
    expect(stages).not.toContain('calibrate');
    expect(stages).not.toContain('evaluate');
    expect(mtimes(first)).toEqual(before.member);
    expect(mtimes(join(dir, 'database'))).toEqual(before.database);

    expectSameFiles(dir, reference, 'ziplm-2.50x');
  }, 120_000);

  it('in the middle of the level database: keeps the finished modules and calibrates only the missing ones', async () => {
    const dir = join(root, 'oneshot-in-database');
    await interrupted(
      (onEvent) => runOneShot({ ...options(dir), onEvent }),
      (e) => e.kind === 'progress' && e.stage === 'database' && e.done === 3,
    );
    const before = mtimes(join(dir, 'database'));
    expect(Object.keys(before)).toHaveLength(3);

    const messages: string[] = [];
    await runOneShot({ ...options(dir), onEvent: (e) => e.kind === 'stage' && messages.push(e.message) });
    expect(messages.filter((m) => m.startsWith('calibrating'))).toEqual([expect.stringMatching(/^calibrating 5 modules on \d+ sequences/)]);
    const after = mtimes(join(dir, 'database'));
    for (const [file, mtime] of Object.entries(before)) expect(after[file]).toBe(mtime);

    expectSameFiles(dir, reference, 'ziplm-2.50x');
  }, 120_000);
});

describe('a killed gradual run resumes and produces identical results', () => {
  const options = (runDir: string): GradualOptions => ({
    modelDir,
    runDir,
    tablePath,
    targets: [1.5, 2],
    task: 'samples',
    calibrationSamples: 16,
    engine: 'js',
    spdy: false,
    verify: false,
    // 8 sequences in batches of 4: 2 updates per epoch, a training checkpoint after each epoch.
    fineTune: { epochs: 2, batchSize: 4, learningRate: 1e-3, trainSamples: 8 },
  });
  const reference = join(root, 'gradual-reference');

  beforeAll(async () => {
    await runGradual(options(reference));
  }, 180_000);

  it('in the middle of fine-tuning, then after the first member: resumes training from its checkpoint and never redoes a member', async () => {
    const dir = join(root, 'gradual-interrupted');
    // Killed in the second epoch of the first step: the checkpoint of epoch 1 is on disk.
    await interrupted(
      (onEvent) => runGradual({ ...options(dir), onEvent }),
      (e) => e.kind === 'progress' && e.stage === 'fine-tune 1.5x' && e.done === 3,
    );
    const database = mtimes(join(dir, 'steps', 'ziplm-1.50x', 'database'));

    const messages: string[] = [];
    const stopAtMember = (e: PipelineEvent) => {
      if (e.kind === 'stage') messages.push(e.message);
      return e.kind === 'member';
    };
    await interrupted((onEvent) => runGradual({ ...options(dir), onEvent }), stopAtMember);
    expect(messages).toContain('ziplm 1.5x: resuming fine-tuning from the checkpoint at step 2');
    expect(messages.some((m) => m.startsWith('calibrating'))).toBe(false);
    expect(mtimes(join(dir, 'steps', 'ziplm-1.50x', 'database'))).toEqual(database);
    const first = mtimes(join(dir, 'members', 'ziplm-1.50x'));

    const events: PipelineEvent[] = [];
    await runGradual({ ...options(dir), onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.kind === 'member').map((e) => [e.member.target, e.resumed ?? false])).toEqual([
      [1.5, true],
      [2, false],
    ]);
    expect(mtimes(join(dir, 'members', 'ziplm-1.50x'))).toEqual(first);

    expectSameFiles(dir, reference, 'ziplm-2.00x');
  }, 240_000);
});
