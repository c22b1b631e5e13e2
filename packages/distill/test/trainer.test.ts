import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from '@ziplm/models';
import { bertConfig, createModel, gpt2Config, loadCheckpoint, randomCheckpoint } from '@ziplm/models';
import { trainableModelOptions } from '@ziplm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@ziplm/core';
import {
  evaluateClassification,
  evaluatePerplexity,
  evaluateSpans,
  fineTune,
  loadTrainingCheckpoint,
  TrainingConfigError,
  TrainingStateError,
  type ProgressEvent,
  type TrainingExample,
} from '../src/index.js';
import { startBackends, useBackend } from './backends.js';

await startBackends();

let dir: string;
beforeAll(async () => {
  // The trainer's determinism is checked on wasm, the backend training runs on here.
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'ziplm-distill-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic toy data: label 1 iff the first word is a token >= 15; lengths 3..10 so batches need padding. */
function classificationData(n: number, seed = 1): TrainingExample[] {
  const uniform = seededRandom(seed);
  const next = () => Math.floor(uniform() * 2 ** 24);
  return Array.from({ length: n }, () => {
    const len = 3 + (next() % 8);
    const ids = [2, ...Array.from({ length: len - 2 }, () => 5 + (next() % 20)), 3];
    return { inputIds: ids, typeIds: ids.map(() => 0), label: ids[1]! >= 15 ? 1 : 0 };
  });
}

const tinyBert = (layerHeads?: number[], layerIntermediate?: number[]) =>
  bertConfig({
    ...trainableModelOptions(),
    head: { type: 'classification', labels: ['no', 'yes'] },
    ...(layerHeads ? { layerHeads } : {}),
    ...(layerIntermediate ? { layerIntermediate } : {}),
  });

function sameWeights(a: Checkpoint, b: Checkpoint): boolean {
  for (const [name, t] of a.weights) {
    const u = b.weights.get(name);
    if (!u || u.data.length !== t.data.length) return false;
    for (let i = 0; i < t.data.length; i++) if (t.data[i] !== u.data[i]) return false;
  }
  return a.weights.size === b.weights.size;
}

describe('fineTune', () => {
  it('lowers the task loss of a classifier trained from scratch, without leaking tensors', async () => {
    const train = classificationData(96);
    const student = randomCheckpoint(tinyBert(), { seed: 3 });
    const before = tf.memory().numTensors;
    const initial = createModel(student);
    const start = await evaluateClassification(initial, train);
    initial.dispose();
    const steps: number[] = [];
    const result = await fineTune({
      task: 'classification',
      student,
      train,
      batchSize: 16,
      epochs: 8,
      learningRate: 1e-2,
      warmupRatio: 0.1,
      dropout: false,
      weights: { task: 1, logit: 0, token: 0 },
      onProgress: (e) => {
        if (e.type === 'step') steps.push(e.loss);
      },
    });
    expect(result.step).toBe(48);
    expect(steps).toHaveLength(48);
    const end = await evaluateClassification(result.model, train);
    expect(end.loss).toBeLessThan(start.loss / 2);
    expect(end.accuracy).toBeGreaterThan(start.accuracy);
    result.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('distils a pruned student from a teacher that stays untouched', async () => {
    const train = classificationData(64, 2);
    const teacherCheckpoint = randomCheckpoint(tinyBert(), { seed: 4, biasStd: 0.1 });
    const teacher = createModel(teacherCheckpoint);
    const before = tf.memory().numTensors;
    // The student is pruned (fewer heads and neurons) but shares hidden size and layer count.
    const student = randomCheckpoint(tinyBert([1, 2], [16, 8]), { seed: 5 });
    const events: ProgressEvent[] = [];
    const result = await fineTune({
      task: 'classification',
      student,
      teacher,
      train,
      batchSize: 16,
      epochs: 3,
      learningRate: 3e-3,
      weightDecay: 0.03,
      onProgress: (e) => events.push(e),
    });
    const losses = events.flatMap((e) => (e.type === 'step' ? [e] : []));
    // GLUE defaults: logit and token terms only.
    expect(losses[0]!.terms.task).toBeUndefined();
    expect(losses[0]!.terms.logit).toBeGreaterThan(0);
    expect(losses[0]!.terms.token).toBeGreaterThan(0);
    const firstEpoch = losses.slice(0, 4).reduce((s, e) => s + e.loss, 0);
    const lastEpoch = losses.slice(-4).reduce((s, e) => s + e.loss, 0);
    expect(lastEpoch).toBeLessThan(firstEpoch);
    expect(sameWeights(teacher.toCheckpoint(), teacherCheckpoint)).toBe(true);
    expect(result.checkpoint.config.layerHeads).toEqual([1, 2]);
    result.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    teacher.dispose();
  });

  it('rejects a teacher of another shape and a missing teacher', async () => {
    const train = classificationData(8);
    const student = randomCheckpoint(tinyBert(), { seed: 1 });
    await expect(fineTune({ task: 'classification', student, train, batchSize: 4, learningRate: 1e-3 })).rejects.toThrow(
      TrainingConfigError,
    );
    const deeper = randomCheckpoint(bertConfig({ ...tinyBert(), numLayers: 3, layerHeads: [2, 2, 2], layerIntermediate: [32, 32, 32] }), {
      seed: 1,
    });
    await expect(fineTune({ task: 'classification', student, teacher: deeper, train, batchSize: 4, learningRate: 1e-3 })).rejects.toThrow(
      /layer count/,
    );
  });

  it('resumes after an interruption to exactly the weights of an uninterrupted run', async () => {
    const train = classificationData(40, 3);
    const teacher = createModel(randomCheckpoint(tinyBert(), { seed: 6 }));
    const common = {
      task: 'classification' as const,
      student: randomCheckpoint(tinyBert([2, 1], [32, 16]), { seed: 7 }),
      teacher,
      train,
      batchSize: 8, // 5 batches per epoch: the interruption falls inside the second epoch
      epochs: 2,
      learningRate: 2e-3,
      warmupSteps: 2,
      weightDecay: 0.03,
      seed: 11,
      bucketBatches: 2,
      evaluate: async (model: Parameters<typeof evaluateClassification>[0]) => ({
        accuracy: (await evaluateClassification(model, train)).accuracy,
      }),
      evaluateEvery: 3,
    };
    const full = await fineTune({ ...common, checkpointDir: join(dir, 'full') });
    expect(full.step).toBe(10);
    expect(full.interrupted).toBe(false);

    // Interrupted by a signal after 7 updates, then resumed.
    const controller = new AbortController();
    const part = await fineTune({
      ...common,
      checkpointDir: join(dir, 'resumed'),
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'step' && e.step === 7) controller.abort();
      },
    });
    expect(part.interrupted).toBe(true);
    expect(part.step).toBe(7);
    expect(sameWeights(part.checkpoint, full.checkpoint)).toBe(false);
    part.model.dispose();
    const events: ProgressEvent[] = [];
    const resumed = await fineTune({ ...common, checkpointDir: join(dir, 'resumed'), onProgress: (e) => events.push(e) });
    expect(resumed.resumedFrom).toBe(7);
    expect(events[0]).toMatchObject({ type: 'resumed', step: 7 });
    expect(sameWeights(resumed.checkpoint, full.checkpoint)).toBe(true);
    expect(resumed.history).toEqual(full.history);

    // A crash (an exception, no final checkpoint): resumes from the last periodic checkpoint (step 6).
    await expect(
      fineTune({
        ...common,
        checkpointDir: join(dir, 'crashed'),
        checkpointEvery: 2,
        onProgress: (e) => {
          if (e.type === 'step' && e.step === 7) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect((await loadTrainingCheckpoint(join(dir, 'crashed')))!.state.step).toBe(6);
    const afterCrash = await fineTune({ ...common, checkpointDir: join(dir, 'crashed'), checkpointEvery: 2 });
    expect(afterCrash.resumedFrom).toBe(6);
    expect(sameWeights(afterCrash.checkpoint, full.checkpoint)).toBe(true);

    // The best model directory holds a loadable checkpoint; no temporary directories are left.
    const best = await loadCheckpoint(join(dir, 'full', 'best'));
    expect(best.config.layerHeads).toEqual([2, 1]);
    expect((await readdir(join(dir, 'resumed'))).sort()).toEqual(['best', 'last']);

    // Another run's options do not resume from this directory.
    await expect(fineTune({ ...common, learningRate: 1e-3, checkpointDir: join(dir, 'full') })).rejects.toThrow(TrainingStateError);
    const otherStudent = randomCheckpoint(tinyBert([2, 1], [32, 16]), { seed: 8 });
    await expect(fineTune({ ...common, student: otherStudent, checkpointDir: join(dir, 'full') })).rejects.toThrow(/option "student"/);
    for (const r of [full, resumed, afterCrash]) r.model.dispose();
    teacher.dispose();
  });

  it('trains a causal LM (perplexity falls) and a span-QA model', async () => {
    const config = gpt2Config({
      vocabSize: 24,
      hiddenSize: 16,
      numLayers: 2,
      numHeads: 2,
      maxPositions: 16,
      bosTokenId: 23,
      eosTokenId: 23,
    });
    // A periodic sequence is easy to learn.
    const seqs: TrainingExample[] = Array.from({ length: 24 }, (_, i) => ({
      inputIds: Array.from({ length: 12 }, (_, t) => (i + t * 3) % 11),
    }));
    const initial = createModel(randomCheckpoint(config, { seed: 8 }));
    const start = await evaluatePerplexity(initial, seqs);
    initial.dispose();
    const lm = await fineTune({
      task: 'causal-lm',
      student: randomCheckpoint(config, { seed: 8 }),
      train: seqs,
      batchSize: 8,
      epochs: 8,
      learningRate: 1e-2,
    });
    const end = await evaluatePerplexity(lm.model, seqs);
    expect(end.perplexity).toBeLessThan(start.perplexity / 2);
    lm.model.dispose();

    const qaConfig = bertConfig({ ...tinyBert(), head: { type: 'span-qa' } });
    // The answer is the span between token 8 and token 9.
    const qa: TrainingExample[] = Array.from({ length: 32 }, (_, i) => {
      const ids = [2, 5 + (i % 3), 6, 8, 10 + (i % 5), 9, 11, 3].slice(0, 6 + (i % 3));
      return { inputIds: ids, typeIds: ids.map(() => 0), startPosition: 3, endPosition: 5 };
    });
    const teacher = randomCheckpoint(qaConfig, { seed: 9 });
    const span = await fineTune({
      task: 'span-qa',
      student: randomCheckpoint(qaConfig, { seed: 10 }),
      teacher,
      train: qa,
      batchSize: 8,
      epochs: 6,
      learningRate: 1e-2,
      weights: { task: 1, logit: 0.5, token: 0.5 },
    });
    const metrics = await evaluateSpans(span.model, qa);
    expect(metrics.exactMatch).toBeGreaterThan(0.5);
    span.model.dispose();
  });
});
