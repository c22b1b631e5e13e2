import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@ziplm/core';
import {
  causalLmLoss,
  classificationLogitDistillation,
  classificationLoss,
  DEFAULT_TEMPERATURE,
  distillationObjective,
  lmLogitDistillation,
  LossShapeError,
  lossWeightsFor,
  spanLogitDistillation,
  spanQaLoss,
  TABLE7_LOSS_WEIGHTS,
  tokenDistillationLoss,
} from '../src/index.js';
import { startBackends, useBackend } from './backends.js';

const backends = await startBackends();

// ---- plain-JS references (double precision) --------------------------------------------------------------

function logSoftmax(row: number[]): number[] {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
  return row.map((v) => v - lse);
}

function kl(teacherLogits: number[], studentLogits: number[], T: number): number {
  const lt = logSoftmax(teacherLogits.map((v) => v / T));
  const ls = logSoftmax(studentLogits.map((v) => v / T));
  return lt.reduce((s, v, i) => s + Math.exp(v) * (v - ls[i]!), 0);
}

/** Deterministic pseudo-random values in [-2, 2). */
function values(n: number, seed: number): number[] {
  const uniform = seededRandom(seed);
  return Array.from({ length: n }, () => uniform() * 4 - 2);
}

const scalar = (t: tf.Scalar) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

for (const backend of backends) {
  describe(`losses on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    describe('tokenDistillationLoss', () => {
      // hidden states: [embedding, layer 1, layer 2], batch 1, seq 2, hidden 2
      const make = (rows: number[][][]) => rows.map((r) => tf.tensor3d([r]));

      it('matches hand-computed masked MSE, summed or averaged over layers', () => {
        const s = make([
          [
            [9, 9],
            [9, 9],
          ],
          [
            [1, 2],
            [3, 4],
          ],
          [
            [0, 0],
            [0, 0],
          ],
        ]);
        const t = make([
          [
            [0, 0],
            [0, 0],
          ],
          [
            [0, 2],
            [3, 2],
          ],
          [
            [1, 1],
            [1, 1],
          ],
        ]);
        // layer 1: (1 + 0 + 0 + 4) / (2 tokens · 2) = 1.25; layer 2: 4 / 4 = 1
        expect(scalar(tokenDistillationLoss(s, t))).toBeCloseTo(2.25, 6);
        expect(scalar(tokenDistillationLoss(s, t, undefined, { layerReduction: 'mean' }))).toBeCloseTo(1.125, 6);
        // the embedding state adds 4·81 / 4 = 81
        expect(scalar(tokenDistillationLoss(s, t, undefined, { includeEmbeddings: true }))).toBeCloseTo(83.25, 4);
        // only token 0 is real: layer 1 → 1 / 2, layer 2 → 2 / 2
        const mask = tf.tensor2d([[1, 0]], [1, 2], 'int32');
        expect(scalar(tokenDistillationLoss(s, t, mask))).toBeCloseTo(1.5, 6);
        tf.dispose([...s, ...t, mask]);
      });

      it('normalises each layer by the teacher energy (SquareHead)', () => {
        const s = make([
          [
            [0, 0],
            [0, 0],
          ],
          [
            [1, 2],
            [3, 4],
          ],
        ]);
        const t = make([
          [
            [0, 0],
            [0, 0],
          ],
          [
            [0, 2],
            [3, 2],
          ],
        ]);
        // MSE 1.25, teacher energy (0 + 4 + 9 + 4) / 4 = 4.25
        expect(scalar(tokenDistillationLoss(s, t, undefined, { normalize: 'teacher-energy' }))).toBeCloseTo(1.25 / 4.25, 6);
        tf.dispose([...s, ...t]);
      });

      it('is zero for identical student and teacher, and ignores padded positions', () => {
        const h = [tf.tensor3d(values(2 * 3 * 4, 1), [2, 3, 4]), tf.tensor3d(values(2 * 3 * 4, 2), [2, 3, 4])];
        expect(scalar(tokenDistillationLoss(h, h))).toBe(0);
        const mask = tf.tensor2d(
          [
            [1, 1, 0],
            [1, 0, 0],
          ],
          [2, 3],
          'int32',
        );
        const s = [h[0]!, tf.tensor3d(values(24, 3), [2, 3, 4])];
        const base = scalar(tokenDistillationLoss(s, h, mask, { normalize: 'teacher-energy' }));
        // Change the padded positions of both student and teacher: the loss must not move.
        const keep = tf.tensor3d([
          [[1], [1], [0]],
          [[1], [0], [0]],
        ]);
        const noise = tf.tensor3d(
          values(24, 4).map((v) => v * 100),
          [2, 3, 4],
        );
        const s2 = [s[0]!, s[1]!.add(noise.mul(tf.scalar(1).sub(keep))) as tf.Tensor3D];
        const t2 = [h[0]!, h[1]!.sub(noise.mul(tf.scalar(1).sub(keep))) as tf.Tensor3D];
        expect(scalar(tokenDistillationLoss(s2, t2, mask, { normalize: 'teacher-energy' }))).toBe(base);
        tf.dispose([...h, s[1]!, mask, keep, noise, s2[1]!, t2[1]!]);
      });

      it('rejects mismatched layer counts and shapes', () => {
        const a = [tf.zeros([1, 2, 2]), tf.zeros([1, 2, 2])] as tf.Tensor3D[];
        const b = [tf.zeros([1, 2, 2])] as tf.Tensor3D[];
        const c = [tf.zeros([1, 2, 2]), tf.zeros([1, 2, 3])] as tf.Tensor3D[];
        expect(() => tokenDistillationLoss(a, b)).toThrow(LossShapeError);
        expect(() => tokenDistillationLoss(a, c)).toThrow(/same shape/);
        tf.dispose([...a, ...b, ...c]);
      });
    });

    describe('logit distillation', () => {
      it('classification: T² · KL(p_t ‖ p_s), hand-computed', () => {
        // teacher logits / 2 = [ln 3, 0] → p_t = [3/4, 1/4]; student uniform → p_s = [1/2, 1/2]
        const teacher = tf.tensor2d([[2 * Math.log(3), 0]]);
        const student = tf.tensor2d([[0, 0]]);
        const expected = 4 * (0.75 * Math.log(1.5) + 0.25 * Math.log(0.5));
        expect(scalar(classificationLogitDistillation(student, teacher, { temperature: 2 }))).toBeCloseTo(expected, 6);
        expect(scalar(classificationLogitDistillation(teacher, teacher))).toBeCloseTo(0, 6);
        tf.dispose([teacher, student]);
      });

      it('classification: batch mean against a reference, for T = 1 and the default T', () => {
        const sv = values(3 * 4, 5);
        const tv = values(3 * 4, 6);
        const s = tf.tensor2d(sv, [3, 4]);
        const t = tf.tensor2d(tv, [3, 4]);
        for (const T of [1, DEFAULT_TEMPERATURE]) {
          let ref = 0;
          for (let b = 0; b < 3; b++) ref += kl(tv.slice(b * 4, b * 4 + 4), sv.slice(b * 4, b * 4 + 4), T);
          expect(scalar(classificationLogitDistillation(s, t, { temperature: T }))).toBeCloseTo((T * T * ref) / 3, 5);
        }
        tf.dispose([s, t]);
      });

      it('span QA: start and end averaged, padding excluded', () => {
        const seq = 4;
        const sv = values(2 * seq * 2, 7);
        const tv = values(2 * seq * 2, 8);
        const maskRows = [
          [1, 1, 1, 0],
          [1, 1, 0, 0],
        ];
        const s = tf.tensor3d(sv, [2, seq, 2]);
        const t = tf.tensor3d(tv, [2, seq, 2]);
        const mask = tf.tensor2d(maskRows, [2, seq], 'int32');
        const T = 2;
        let ref = 0;
        for (let b = 0; b < 2; b++) {
          for (const k of [0, 1]) {
            const real = maskRows[b]!.map((m, i) => (m ? i : -1)).filter((i) => i >= 0);
            ref += kl(
              real.map((i) => tv[(b * seq + i) * 2 + k]!),
              real.map((i) => sv[(b * seq + i) * 2 + k]!),
              T,
            );
          }
        }
        const got = scalar(spanLogitDistillation(s, t, mask, { temperature: T }));
        expect(got).toBeCloseTo((T * T * ref) / 4, 5); // mean over 2 examples and the 2 ends
        // Large values at padded positions change nothing.
        const padded = tf.tensor3d(
          sv.map((v, i) => (maskRows[Math.floor(i / (seq * 2))]![Math.floor(i / 2) % seq] ? v : 50)),
          [2, seq, 2],
        );
        expect(scalar(spanLogitDistillation(padded, t, mask, { temperature: T }))).toBe(got);
        tf.dispose([s, t, mask, padded]);
      });

      it('span QA: zero for identical student and teacher, with and without a mask, at any temperature', () => {
        const seq = 5;
        const v = values(3 * seq * 2, 31);
        const s = tf.tensor3d(v, [3, seq, 2]);
        const t = tf.tensor3d(v, [3, seq, 2]);
        const mask = tf.tensor2d(
          [
            [1, 1, 1, 1, 1],
            [1, 1, 1, 0, 0],
            [1, 0, 0, 0, 0],
          ],
          [3, seq],
          'int32',
        );
        for (const temperature of [1, DEFAULT_TEMPERATURE, 5]) {
          expect(Math.abs(scalar(spanLogitDistillation(s, t, mask, { temperature })))).toBeLessThan(1e-6);
          expect(Math.abs(scalar(spanLogitDistillation(s, t, undefined, { temperature })))).toBeLessThan(1e-6);
        }
        tf.dispose([s, t, mask]);
      });

      it('LM: per-token KL averaged over real tokens', () => {
        const [b, seq, V] = [2, 3, 5];
        const sv = values(b * seq * V, 9);
        const tv = values(b * seq * V, 10);
        const maskRows = [
          [1, 1, 1],
          [1, 0, 0],
        ];
        const s = tf.tensor3d(sv, [b, seq, V]);
        const t = tf.tensor3d(tv, [b, seq, V]);
        const mask = tf.tensor2d(maskRows, [b, seq], 'int32');
        let ref = 0;
        let n = 0;
        for (let i = 0; i < b; i++) {
          for (let j = 0; j < seq; j++) {
            if (!maskRows[i]![j]) continue;
            const o = (i * seq + j) * V;
            ref += kl(tv.slice(o, o + V), sv.slice(o, o + V), 3);
            n += 1;
          }
        }
        const got = scalar(lmLogitDistillation(s, t, mask, { temperature: 3 }));
        expect(got).toBeCloseTo((9 * ref) / n, 5);
        expect(scalar(lmLogitDistillation(t, t, mask))).toBeCloseTo(0, 6);
        tf.dispose([s, t, mask]);
      });
    });

    describe('task losses', () => {
      it('classification cross-entropy, hand-computed', () => {
        const logits = tf.tensor2d([
          [1, 2, 3],
          [0, 0, 0],
        ]);
        const labels = tf.tensor1d([2, 0], 'int32');
        const expected = (-logSoftmax([1, 2, 3])[2]! + Math.log(3)) / 2;
        expect(scalar(classificationLoss(logits, labels))).toBeCloseTo(expected, 6);
        tf.dispose([logits, labels]);
      });

      it('SQuAD: mean of start and end cross-entropies over the real tokens', () => {
        const seq = 4;
        const v = values(2 * seq * 2, 11);
        const logits = tf.tensor3d(v, [2, seq, 2]);
        const maskRows = [
          [1, 1, 1, 1],
          [1, 1, 1, 0],
        ];
        const mask = tf.tensor2d(maskRows, [2, seq], 'int32');
        const starts = [1, 2];
        const ends = [3, 2];
        const ce = (b: number, k: number, target: number) => {
          const real = maskRows[b]!.map((m, i) => (m ? i : -1)).filter((i) => i >= 0);
          const lp = logSoftmax(real.map((i) => v[(b * seq + i) * 2 + k]!));
          return -lp[real.indexOf(target)]!;
        };
        const expected = ((ce(0, 0, 1) + ce(1, 0, 2)) / 2 + (ce(0, 1, 3) + ce(1, 1, 2)) / 2) / 2;
        const s = tf.tensor1d(starts, 'int32');
        const e = tf.tensor1d(ends, 'int32');
        expect(scalar(spanQaLoss(logits, s, e, mask))).toBeCloseTo(expected, 5);
        tf.dispose([logits, mask, s, e]);
      });

      it('causal LM: shifted targets, padding neither predicted nor counted', () => {
        const V = 3;
        // position 0 predicts id 2, position 1 predicts id 1 (position 2 predicts nothing)
        const rows = [
          [0, 1, 2],
          [2, 0, 1],
          [5, 5, 5],
        ];
        const logits = tf.tensor3d([rows], [1, 3, V]);
        const ids = tf.tensor2d([[0, 2, 1]], [1, 3], 'int32');
        const full = (-logSoftmax(rows[0]!)[2]! - logSoftmax(rows[1]!)[1]!) / 2;
        expect(scalar(causalLmLoss(logits, ids))).toBeCloseTo(full, 6);
        const mask = tf.tensor2d([[1, 1, 0]], [1, 3], 'int32');
        expect(scalar(causalLmLoss(logits, ids, mask))).toBeCloseTo(-logSoftmax(rows[0]!)[2]!, 6);
        // the padded target's id does not matter
        const ids2 = tf.tensor2d([[0, 2, 0]], [1, 3], 'int32');
        expect(scalar(causalLmLoss(logits, ids2, mask))).toBe(scalar(causalLmLoss(logits, ids, mask)));
        tf.dispose([logits, ids, mask, ids2]);
      });
    });

    describe('distillationObjective', () => {
      it('weights the terms as Table 7 says and skips zero-weight terms', () => {
        expect(TABLE7_LOSS_WEIGHTS.glue).toEqual({ task: 0, logit: 0.5, token: 0.5 });
        expect(TABLE7_LOSS_WEIGHTS.squad).toEqual({ task: 0, logit: 1, token: 0 });
        expect(TABLE7_LOSS_WEIGHTS.gpt2).toEqual({ task: 1, logit: 0, token: 0 });
        const student = {
          logits: tf.tensor2d(values(6, 12), [2, 3]),
          hiddenStates: [tf.tensor3d(values(8, 13), [2, 2, 2]), tf.tensor3d(values(8, 14), [2, 2, 2])],
        };
        const teacher = {
          logits: tf.tensor2d(values(6, 15), [2, 3]),
          hiddenStates: [tf.tensor3d(values(8, 16), [2, 2, 2]), tf.tensor3d(values(8, 17), [2, 2, 2])],
        };
        const labels = tf.tensor1d([0, 2], 'int32');
        const targets = { kind: 'classification' as const, labels };
        const before = tf.memory().numTensors;
        const glue = distillationObjective(student, teacher, targets, undefined, { weights: lossWeightsFor('glue') });
        expect(glue.task).toBeUndefined();
        const logit = scalar(classificationLogitDistillation(student.logits, teacher.logits));
        const token = scalar(tokenDistillationLoss(student.hiddenStates, teacher.hiddenStates));
        expect(glue.logit!.dataSync()[0]).toBeCloseTo(logit, 6);
        expect(glue.token!.dataSync()[0]).toBeCloseTo(token, 6);
        expect(glue.total.dataSync()[0]).toBeCloseTo(0.5 * logit + 0.5 * token, 6);
        const all = distillationObjective(student, teacher, targets, undefined, { weights: { task: 2, logit: 0, token: 0 } });
        expect(all.total.dataSync()[0]).toBeCloseTo(2 * scalar(classificationLoss(student.logits, labels)), 6);
        tf.dispose([glue.total, glue.logit!, glue.token!, all.total, all.task!]);
        expect(tf.memory().numTensors).toBe(before);
        expect(() => distillationObjective(student, undefined, targets, undefined, { weights: lossWeightsFor('glue') })).toThrow(
          /teacher is required/,
        );
        tf.dispose([student.logits, ...student.hiddenStates, teacher.logits, ...teacher.hiddenStates, labels]);
      });
    });

    describe('no leaks, finite gradients', () => {
      it('every loss leaves no tensor behind and has finite gradients', () => {
        const [b, seq, V, d] = [2, 4, 6, 3];
        const mask = tf.tensor2d(
          [
            [1, 1, 1, 1],
            [1, 1, 0, 0],
          ],
          [b, seq],
          'int32',
        );
        const ids = tf.tensor2d([0, 1, 2, 3, 4, 5, 0, 0], [b, seq], 'int32');
        const labels = tf.tensor1d([1, 0], 'int32');
        const starts = tf.tensor1d([1, 0], 'int32');
        const ends = tf.tensor1d([2, 1], 'int32');
        const x = tf.variable(tf.tensor3d(values(b * seq * V, 20), [b, seq, V]));
        const h = tf.variable(tf.tensor3d(values(b * seq * d, 21), [b, seq, d]));
        const teacherLm = tf.tensor3d(values(b * seq * V, 22), [b, seq, V]);
        const teacherH = tf.tensor3d(values(b * seq * d, 23), [b, seq, d]);
        const teacherSpan = tf.tensor3d(values(b * seq * 2, 24), [b, seq, 2]);
        const teacherCls = tf.tensor2d(values(b * V, 25), [b, V]);
        const xCls = tf.variable(tf.tensor2d(values(b * V, 26), [b, V]));
        const xSpan = tf.variable(tf.tensor3d(values(b * seq * 2, 27), [b, seq, 2]));
        const cases: Array<[string, () => tf.Scalar]> = [
          ['token', () => tokenDistillationLoss([h, h], [teacherH, teacherH], mask)],
          ['token squarehead', () => tokenDistillationLoss([h, h], [teacherH, teacherH], mask, { normalize: 'teacher-energy' })],
          ['cls KD', () => classificationLogitDistillation(xCls, teacherCls)],
          ['span KD', () => spanLogitDistillation(xSpan, teacherSpan, mask)],
          ['LM KD', () => lmLogitDistillation(x, teacherLm, mask)],
          ['cls CE', () => classificationLoss(xCls, labels)],
          ['span CE', () => spanQaLoss(xSpan, starts, ends, mask)],
          ['LM CE', () => causalLmLoss(x, ids, mask)],
        ];
        for (const [name, f] of cases) {
          const before = tf.memory().numTensors;
          scalar(f());
          expect(tf.memory().numTensors, `${name} leaked`).toBe(before);
          const { value, grads } = tf.variableGrads(f);
          const gradValues = Object.values(grads).flatMap((g) => Array.from(g.dataSync()));
          expect(gradValues.length, name).toBeGreaterThan(0);
          expect(gradValues.every(Number.isFinite), `${name} gradient not finite`).toBe(true);
          expect(
            gradValues.some((g) => g !== 0),
            `${name} gradient all zero`,
          ).toBe(true);
          tf.dispose([value, ...Object.values(grads)]);
          expect(tf.memory().numTensors, `${name} gradient leaked`).toBe(before);
        }
        // Padded positions get exactly zero gradient from the masked losses.
        const { grads } = tf.variableGrads(() => lmLogitDistillation(x, teacherLm, mask).add(causalLmLoss(x, ids, mask)));
        const gx = grads[x.name]!.arraySync() as number[][][];
        expect(gx[1]![2]!.every((g) => g === 0) && gx[1]![3]!.every((g) => g === 0)).toBe(true);
        tf.dispose([
          ...Object.values(grads),
          mask,
          ids,
          labels,
          starts,
          ends,
          x,
          h,
          xCls,
          xSpan,
          teacherLm,
          teacherH,
          teacherSpan,
          teacherCls,
        ]);
      });
    });
  });
}
