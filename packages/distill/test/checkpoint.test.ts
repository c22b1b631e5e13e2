import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertConfig, loadCheckpoint, randomCheckpoint } from '@ziplm/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFingerprint, TRAINER_STATE_FORMAT, writeDirectoryAtomically } from '../src/checkpoint.js';
import {
  bestModelDir,
  loadTrainingCheckpoint,
  saveBestModel,
  saveTrainingCheckpoint,
  TrainingStateError,
  type TrainingCheckpoint,
} from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ziplm-ckpt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sample(step: number): TrainingCheckpoint {
  const checkpoint = randomCheckpoint(
    bertConfig({ vocabSize: 16, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxPositions: 8 }),
    { seed: step },
  );
  const shapes = [...checkpoint.weights.values()].map((t) => [...t.shape]);
  const m = [...checkpoint.weights.values()].map((t) => t.data.map((x) => x * 0.5));
  const v = [...checkpoint.weights.values()].map((t) => t.data.map((x) => x * x));
  return {
    checkpoint,
    optimizer: { step, m, v, shapes },
    state: {
      format: TRAINER_STATE_FORMAT,
      step,
      totalSteps: 10,
      epoch: 0,
      batchInEpoch: step,
      epochRngState: [1, 2, 3, 4],
      tokensSeen: 100 * step,
      elapsedMs: 5,
      fingerprint: { seed: 1 },
      history: [{ step, metrics: { accuracy: 0.5 } }],
    },
  };
}

describe('training checkpoints', () => {
  it('round-trips weights, moments and state exactly, replacing the previous checkpoint', async () => {
    const target = join(dir, 'a');
    await saveTrainingCheckpoint(target, sample(2));
    const data = sample(3);
    await saveTrainingCheckpoint(target, data);
    const loaded = (await loadTrainingCheckpoint(target))!;
    expect(loaded.state).toEqual(data.state);
    expect(loaded.optimizer.step).toBe(3);
    loaded.optimizer.m.forEach((m, i) => {
      expect(Array.from(m)).toEqual(Array.from(data.optimizer.m[i]!));
    });
    loaded.optimizer.v.forEach((v, i) => {
      expect(Array.from(v)).toEqual(Array.from(data.optimizer.v[i]!));
    });
    for (const [name, t] of data.checkpoint.weights)
      expect(Array.from(loaded.checkpoint.weights.get(name)!.data)).toEqual(Array.from(t.data));
    expect(await loadTrainingCheckpoint(join(dir, 'nothing-here'))).toBeUndefined();
  });

  it('recovers from a crash between the two renames (only last.old is complete)', async () => {
    const target = join(dir, 'b');
    await saveTrainingCheckpoint(target, sample(4));
    await rename(join(target, 'last'), join(target, 'last.old'));
    expect((await loadTrainingCheckpoint(target))!.state.step).toBe(4);
    await saveTrainingCheckpoint(target, sample(5));
    expect((await loadTrainingCheckpoint(target))!.state.step).toBe(5);
  });

  it('names the file and the problem when a checkpoint is malformed', async () => {
    const target = join(dir, 'c');
    await saveTrainingCheckpoint(target, sample(6));
    const stateFile = join(target, 'last', 'trainer-state.json');
    const good = await readFile(stateFile, 'utf8');
    await writeFile(stateFile, good.replace('"step": 6', '"step": 7'));
    await expect(loadTrainingCheckpoint(target)).rejects.toThrow(/optimizer step 6 differs from trainer-state.json step 7/);
    await writeFile(stateFile, '{ not json');
    await expect(loadTrainingCheckpoint(target)).rejects.toThrow(TrainingStateError);
    await expect(loadTrainingCheckpoint(target)).rejects.toThrow(stateFile);
    await writeFile(stateFile, good.replace('"epochRngState": [', '"epochRngState": [-1, '));
    await expect(loadTrainingCheckpoint(target)).rejects.toThrow(/epochRngState/);
  });

  it('writes best/ atomically like last/: replaced by rename, best.old accepted, a failed write leaves the old one', async () => {
    const target = join(dir, 'd');
    expect(await bestModelDir(target)).toBeUndefined();
    await saveBestModel(target, sample(1).checkpoint);
    const second = sample(2).checkpoint;
    await saveBestModel(target, second);
    expect((await readdir(target)).sort()).toEqual(['best']);
    expect(await bestModelDir(target)).toBe(join(target, 'best'));
    const loaded = await loadCheckpoint(join(target, 'best'));
    for (const [name, t] of second.weights) expect(Array.from(loaded.weights.get(name)!.data)).toEqual(Array.from(t.data));
    // A crash between the two renames of the swap leaves only best.old.
    await rename(join(target, 'best'), join(target, 'best.old'));
    expect(await bestModelDir(target)).toBe(join(target, 'best.old'));
    await saveBestModel(target, sample(3).checkpoint);
    expect((await readdir(target)).sort()).toEqual(['best']);
    // A write that fails half-way never touches the complete directory and leaves no temporary one.
    await expect(
      writeDirectoryAtomically(target, 'best', async (tmp) => {
        await writeFile(join(tmp, 'config.json'), '{');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect((await readdir(target)).sort()).toEqual(['best']);
    expect((await loadCheckpoint(join(target, 'best'))).config.hiddenSize).toBe(8);
  });

  it('refuses to resume a different run', () => {
    expect(() => checkFingerprint({ seed: 1, lr: 0.1 }, { seed: 1, lr: 0.1 }, 'f')).not.toThrow();
    expect(() => checkFingerprint({ seed: 1, lr: 0.1 }, { seed: 2, lr: 0.1 }, 'f')).toThrow(/option "seed" was 1, now 2/);
  });
});
