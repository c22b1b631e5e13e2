// fineTune's early stops: an abort signal, early stopping on the evaluation metric (`patience`) and a time
// budget (`maxMilliseconds`), each reported as `stopReason`, each leaving a `last/` a rerun resumes from.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checkpoint } from '@ziplm/models';
import { bertConfig, randomCheckpoint } from '@ziplm/models';
import { trainableModelOptions } from '@ziplm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bestModelDir,
  fineTune,
  type FineTuneOptions,
  loadTrainingCheckpoint,
  type ProgressEvent,
  TrainingConfigError,
  type TrainingExample,
} from '../src/index.js';
import { startBackends, useBackend } from './backends.js';

await startBackends();

let dir: string;
beforeAll(async () => {
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'ziplm-stopping-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 24 examples, label = whether the second token is >= 15: 3 batches of 8 per epoch. */
const train: TrainingExample[] = Array.from({ length: 24 }, (_, i) => {
  const ids = [2, 5 + ((i * 7) % 20), 5 + ((i * 3) % 20), 3];
  return { inputIds: ids, typeIds: ids.map(() => 0), label: ids[1]! >= 15 ? 1 : 0 };
});

const student = randomCheckpoint(bertConfig({ ...trainableModelOptions(), head: { type: 'classification', labels: ['no', 'yes'] } }), {
  seed: 3,
});

/** An evaluation that reports a scripted score per step, so when the metric improves is known in advance. */
const scripted =
  (scores: Readonly<Record<number, number>>): FineTuneOptions['evaluate'] =>
  (_model, step) => ({ score: scores[step] ?? 0 });

const common = {
  task: 'classification' as const,
  student,
  train,
  batchSize: 8,
  epochs: 3, // 9 updates
  learningRate: 1e-3,
  seed: 5,
  weights: { task: 1, logit: 0, token: 0 }, // trained from scratch: no teacher
  evaluateEvery: 1,
};

function sameWeights(a: Checkpoint, b: Checkpoint): boolean {
  for (const [name, t] of a.weights) {
    const u = b.weights.get(name);
    if (!u || u.data.length !== t.data.length || t.data.some((x, i) => x !== u.data[i])) return false;
  }
  return a.weights.size === b.weights.size;
}

describe('fineTune stopping early', () => {
  it('reports a run that did every update as completed', async () => {
    const result = await fineTune({ ...common, evaluate: scripted({}), maxSteps: 2 });
    expect(result).toMatchObject({ step: 2, stopReason: 'completed', interrupted: false });
    result.model.dispose();
  });

  it('stops after `patience` evaluations without improvement, and a rerun with the same patience stops again at once', async () => {
    // Best at step 2; steps 3 and 4 do not beat it (equal is not better), so patience 2 stops after step 4.
    const scores = { 1: 0.5, 2: 0.6, 3: 0.55, 4: 0.6, 5: 0.7 };
    const checkpointDir = join(dir, 'patience');
    const events: ProgressEvent[] = [];
    const first = await fineTune({
      ...common,
      evaluate: scripted(scores),
      patience: 2,
      checkpointDir,
      onProgress: (e) => events.push(e),
    });
    expect(first).toMatchObject({ step: 4, totalSteps: 9, stopReason: 'patience', interrupted: false, best: { step: 2 } });
    expect(events.at(-1)).toEqual({ type: 'stopped', step: 4, totalSteps: 9, reason: 'patience' });
    expect((await loadTrainingCheckpoint(checkpointDir))!.state.step).toBe(4);
    expect(await bestModelDir(checkpointDir)).toBeDefined();
    first.model.dispose();

    // The count comes from the recorded history: no update is done on a rerun.
    const rerun = await fineTune({ ...common, evaluate: scripted(scores), patience: 2, checkpointDir });
    expect(rerun).toMatchObject({ step: 4, resumedFrom: 4, stopReason: 'patience' });
    expect(rerun.history).toHaveLength(4);
    rerun.model.dispose();

    // More patience continues the same run: step 5 improves, then 6..8 do not.
    const patient = await fineTune({ ...common, evaluate: scripted(scores), patience: 3, checkpointDir });
    expect(patient).toMatchObject({ step: 8, resumedFrom: 4, stopReason: 'patience', best: { step: 5 } });
    patient.model.dispose();
  });

  it('stops after the update during which the time budget ran out, evaluates it, and resumes to the same weights', async () => {
    const evaluate = scripted({ 3: 0.9 });
    const full = await fineTune({ ...common, evaluate, evaluateEvery: 3, checkpointDir: join(dir, 'full') });
    const checkpointDir = join(dir, 'budget');
    const events: ProgressEvent[] = [];
    const budgeted = await fineTune({
      ...common,
      evaluate,
      evaluateEvery: 3,
      maxMilliseconds: 1e-3, // any update takes longer: the budget runs out during the first
      checkpointDir,
      onProgress: (e) => events.push(e),
    });
    expect(budgeted).toMatchObject({ step: 1, stopReason: 'time-budget', interrupted: false });
    // The stopping update is evaluated (off the every-3 cadence), so best/ holds a model of this budget.
    expect(budgeted.history.map((r) => r.step)).toEqual([1]);
    expect(await bestModelDir(checkpointDir)).toBeDefined();
    expect(events.filter((e) => e.type === 'checkpoint' || e.type === 'stopped').map((e) => e.type)).toEqual(['checkpoint', 'stopped']);
    budgeted.model.dispose();

    const resumed = await fineTune({ ...common, evaluate, evaluateEvery: 3, checkpointDir });
    expect(resumed).toMatchObject({ step: 9, resumedFrom: 1, stopReason: 'completed' });
    expect(sameWeights(resumed.checkpoint, full.checkpoint)).toBe(true);
    for (const r of [full, resumed]) r.model.dispose();
  });

  it('stops promptly on abort with its state saved, and writes nothing when aborted before the first update', async () => {
    const checkpointDir = join(dir, 'aborted');
    const controller = new AbortController();
    const events: ProgressEvent[] = [];
    const result = await fineTune({
      ...common,
      evaluate: scripted({}),
      evaluateEvery: 4,
      checkpointDir,
      signal: controller.signal,
      onProgress: (e) => {
        events.push(e);
        if (e.type === 'step' && e.step === 2) controller.abort();
      },
    });
    expect(result).toMatchObject({ step: 2, stopReason: 'aborted', interrupted: true });
    expect(events.filter((e) => e.type !== 'step').map((e) => e.type)).toEqual(['checkpoint', 'stopped']);
    expect((await loadTrainingCheckpoint(checkpointDir))!.state.step).toBe(2);
    result.model.dispose();

    const preAborted = join(dir, 'pre-aborted');
    const none = await fineTune({ ...common, evaluate: scripted({}), checkpointDir: preAborted, signal: AbortSignal.abort() });
    expect(none).toMatchObject({ step: 0, stopReason: 'aborted' });
    expect(await loadTrainingCheckpoint(preAborted)).toBeUndefined();
    none.model.dispose();
  });

  it('refuses a patience or time budget that cannot work', async () => {
    await expect(fineTune({ ...common, evaluate: scripted({}), patience: 0 })).rejects.toThrow(TrainingConfigError);
    await expect(fineTune({ ...common, patience: 2 })).rejects.toThrow(/patience.*needs `evaluate`/);
    await expect(fineTune({ ...common, maxMilliseconds: 0 })).rejects.toThrow(/maxMilliseconds/);
  });
});
