// One full training step of a whole model (embeddings, every layer, the head) on every tfjs backend present
// here: the gradients of the complete objective (task + logit + token distillation) reach every trainable
// variable and are finite, and fineTune's update leaves finite, changed weights. The trainer's determinism
// tests run on wasm only; this is the check that cpu (and tfjs-node when installed) train too.
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint, ModelConfig } from '@ziplm/models';
import { createModel, randomCheckpoint } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import {
  disposeBatch,
  distillationObjective,
  fineTune,
  makeBatch,
  type ProgressEvent,
  type TaskKind,
  type TrainingExample,
} from '../src/index.js';
import { padIdOf } from '../src/model.js';
import { startBackends, useBackend } from './backends.js';
import { tinyBert, tinyGpt2 } from './tiny-models.js';

const backends = await startBackends();

const bert = tinyBert;
const gpt2 = tinyGpt2;

/** Sequences of lengths 3..8 (so the batch is padded), labels for classification. */
const examples: TrainingExample[] = Array.from({ length: 6 }, (_, i) => {
  const ids = [2, ...Array.from({ length: 1 + i }, (_, t) => 5 + ((i * 7 + t * 3) % 20)), 3];
  return { inputIds: ids, typeIds: ids.map(() => 0), label: i % 2 };
});

const cases: Array<{ name: string; task: TaskKind; student: ModelConfig; teacher: ModelConfig }> = [
  // Pruned students (fewer heads and neurons in one layer) of a dense teacher, as in ZipLM's recovery.
  { name: 'BERT classifier', task: 'classification', student: bert([1, 2], [16, 32]), teacher: bert() },
  { name: 'GPT2 LM', task: 'causal-lm', student: gpt2([2, 1], [32, 8]), teacher: gpt2() },
];

function finiteAndChanged(before: Checkpoint, after: Checkpoint): { finite: boolean; changed: number } {
  let finite = true;
  let changed = 0;
  for (const [name, t] of after.weights) {
    const u = before.weights.get(name)!;
    if (!t.data.every(Number.isFinite)) finite = false;
    if (t.data.some((x, i) => x !== u.data[i])) changed += 1;
  }
  return { finite, changed };
}

for (const backend of backends) {
  describe(`one full-model training step on ${backend}`, () => {
    for (const c of cases) {
      it(`${c.name}: every trainable variable gets a finite gradient from task + logit + token distillation`, async () => {
        await useBackend(backend);
        expect(tf.getBackend()).toBe(backend);
        const student = createModel(randomCheckpoint(c.student, { seed: 1 }));
        const teacher = createModel(randomCheckpoint(c.teacher, { seed: 2, biasStd: 0.1 }));
        const before = tf.memory().numTensors;
        const batch = makeBatch(examples, [0, 1, 2, 3, 4, 5], {
          task: c.task,
          padId: padIdOf(c.student),
          tokenTypes: c.student.modelType === 'bert',
        });
        const teacherOut = tf.tidy(() => {
          const out = teacher.forward(batch.inputs, { training: false });
          return { logits: out.logits, hiddenStates: [...out.hiddenStates] };
        });
        const variables = student.trainableVariables();
        const weights = { task: 1, logit: 0.5, token: 0.5 };
        const { value, grads } = tf.variableGrads(() => {
          const out = student.forward(batch.inputs, { training: true, seed: 7 });
          return distillationObjective(out, teacherOut, batch.targets, batch.inputs.attentionMask, { weights, temperature: 2 }).total;
        }, variables);
        expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
        const missing = variables.filter((v) => grads[v.name] === undefined).map((v) => v.name);
        expect(missing).toEqual([]);
        const notFinite = variables.filter((v) => !grads[v.name]!.dataSync().every(Number.isFinite)).map((v) => v.name);
        expect(notFinite).toEqual([]);
        const nonZero = variables.filter((v) => grads[v.name]!.dataSync().some((g) => g !== 0)).length;
        expect(nonZero).toBeGreaterThan(variables.length / 2);
        tf.dispose([value, ...Object.values(grads), teacherOut.logits, ...teacherOut.hiddenStates]);
        disposeBatch(batch);
        expect(tf.memory().numTensors).toBe(before);
        student.dispose();
        teacher.dispose();
      });

      it(`${c.name}: fineTune's update leaves finite, changed weights`, async () => {
        await useBackend(backend);
        const initial = randomCheckpoint(c.student, { seed: 3 });
        const events: ProgressEvent[] = [];
        const result = await fineTune({
          task: c.task,
          student: initial,
          teacher: randomCheckpoint(c.teacher, { seed: 4 }),
          train: examples,
          batchSize: 6,
          maxSteps: 1,
          learningRate: 1e-2,
          weightDecay: 0.01,
          weights: { task: 1, logit: 0.5, token: 0.5 },
          onProgress: (e) => events.push(e),
        });
        expect(tf.getBackend()).toBe(backend);
        const step = events.find((e) => e.type === 'step');
        expect(step && step.type === 'step' && Number.isFinite(step.loss) && Number.isFinite(step.gradNorm) && step.gradNorm > 0).toBe(
          true,
        );
        const { finite, changed } = finiteAndChanged(initial, result.checkpoint);
        expect(finite).toBe(true);
        expect(changed).toBe(result.checkpoint.weights.size);
        result.model.dispose();
      });
    }
  });
}

describe('backends', () => {
  it('cpu and wasm are both present here', () => {
    expect(backends).toEqual(expect.arrayContaining(['cpu', 'wasm']));
  });
});
