import * as tf from '@tensorflow/tfjs-core';
import { mixSeed } from '@ziplm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, batchesPerEpoch, clipByGlobalNorm, linearWarmupDecay, planEpoch, SeededRng, TrainingConfigError } from '../src/index.js';
import { startBackends, useBackend } from './backends.js';

const backends = await startBackends();

describe('linearWarmupDecay', () => {
  it('warms up linearly, peaks, decays linearly, never wastes the first or last update', () => {
    const lr = linearWarmupDecay({ peakLr: 1, totalSteps: 10, warmupSteps: 4 });
    expect([0, 1, 2, 3].map(lr)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(lr(4)).toBe(1);
    expect(lr(7)).toBeCloseTo(0.5, 12);
    expect(lr(9)).toBeCloseTo(1 / 6, 12);
    expect(lr(10)).toBe(0);
    const noWarmup = linearWarmupDecay({ peakLr: 2, totalSteps: 4 });
    expect([0, 1, 2, 3].map(noWarmup)).toEqual([2, 1.5, 1, 0.5]);
  });

  it('rejects impossible schedules', () => {
    expect(() => linearWarmupDecay({ peakLr: 1, totalSteps: 5, warmupSteps: 5 })).toThrow(TrainingConfigError);
    expect(() => linearWarmupDecay({ peakLr: -1, totalSteps: 5 })).toThrow(/peakLr/);
    expect(() => linearWarmupDecay({ peakLr: 1, totalSteps: 0 })).toThrow(/totalSteps/);
  });
});

describe('SeededRng and planEpoch', () => {
  it('is deterministic, restorable from its state, and differs between seeds', () => {
    const a = new SeededRng(42);
    const first = Array.from({ length: 5 }, () => a.nextUint32());
    const saved = a.state();
    const next = Array.from({ length: 5 }, () => a.nextUint32());
    const b = new SeededRng(42);
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(first);
    const c = new SeededRng(saved);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).toEqual(next);
    expect(new SeededRng(43).nextUint32()).not.toBe(first[0]);
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    const u = Array.from({ length: 2000 }, () => a.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(u.reduce((s, v) => s + v, 0) / u.length).toBeCloseTo(0.5, 1);
  });

  it('plans every example exactly once, in length-homogeneous batches', () => {
    const lengths = Array.from({ length: 103 }, (_, i) => 3 + ((i * 37) % 50));
    const plan = planEpoch(lengths, new SeededRng(1), { batchSize: 8, bucketBatches: 4 });
    expect(plan.length).toBe(batchesPerEpoch(103, 8));
    expect(plan.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(plan.filter((b) => b.length < 8).length).toBe(1);
    // bucketing: the average spread of lengths inside a batch is far below that of random batches
    const spread = (p: number[][]) =>
      p.reduce((s, b) => s + Math.max(...b.map((i) => lengths[i]!)) - Math.min(...b.map((i) => lengths[i]!)), 0) / p.length;
    const random = planEpoch(lengths, new SeededRng(1), { batchSize: 8, bucketBatches: 1 });
    expect(spread(plan)).toBeLessThan(spread(random) / 2);
    // same Rng state, same plan; another state, another plan
    expect(planEpoch(lengths, new SeededRng(1), { batchSize: 8, bucketBatches: 4 })).toEqual(plan);
    expect(planEpoch(lengths, new SeededRng(2), { batchSize: 8, bucketBatches: 4 })).not.toEqual(plan);
  });

  it('validates its options', () => {
    expect(() => planEpoch([1, 2, 3], new SeededRng(1), { batchSize: 0 })).toThrow(TrainingConfigError);
    expect(() => planEpoch([1, 2, 3], new SeededRng(1), { batchSize: 2, bucketBatches: 0 })).toThrow(/bucketBatches/);
  });
});

/** torch.optim.AdamW in double precision. */
function adamwReference(p: number[], grads: number[][], lrs: number[], wd: number, decay: boolean): number[] {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = [...p];
  grads.forEach((g, t) => {
    const lr = lrs[t]!;
    for (let i = 0; i < x.length; i++) {
      if (decay) x[i]! *= 1 - lr * wd;
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      const mh = m[i]! / (1 - b1 ** (t + 1));
      const vh = v[i]! / (1 - b2 ** (t + 1));
      x[i]! -= (lr * mh) / (Math.sqrt(vh) + eps);
    }
  });
  return x;
}

for (const backend of backends) {
  describe(`AdamW on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    it('matches torch AdamW; decays matrices, not rank-1 parameters', () => {
      const w0 = [0.5, -1, 2, 0.25];
      const b0 = [1, -2];
      const w = tf.variable(tf.tensor2d(w0, [2, 2]));
      const b = tf.variable(tf.tensor1d(b0));
      const opt = new AdamW([w, b], { weightDecay: 0.1 });
      expect(opt.decayed).toEqual([true, false]);
      const gw = [
        [0.1, -0.2, 0.3, 0.05],
        [-0.4, 0.1, 0.2, 0.0],
        [0.3, 0.3, -0.1, 0.2],
      ];
      const gb = [
        [1, -1],
        [0.5, 0.2],
        [-0.3, 0.7],
      ];
      const lrs = [0.1, 0.05, 0.01];
      const before = tf.memory().numTensors;
      for (let t = 0; t < 3; t++) {
        const g1 = tf.tensor2d(gw[t]!, [2, 2]);
        const g2 = tf.tensor1d(gb[t]!);
        opt.apply([g1, g2], lrs[t]!);
        tf.dispose([g1, g2]);
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(opt.step).toBe(3);
      const refW = adamwReference(w0, gw, lrs, 0.1, true);
      const refB = adamwReference(b0, gb, lrs, 0.1, false);
      Array.from(w.dataSync()).forEach((x, i) => {
        expect(x).toBeCloseTo(refW[i]!, 6);
      });
      Array.from(b.dataSync()).forEach((x, i) => {
        expect(x).toBeCloseTo(refB[i]!, 6);
      });
      // Without decay the matrix would have ended elsewhere: the decay is really applied.
      expect(Math.abs(adamwReference(w0, gw, lrs, 0, true)[2]! - refW[2]!)).toBeGreaterThan(1e-4);
      opt.dispose();
      tf.dispose([w, b]);
    });

    it('saves and restores its state so that the next update is identical', async () => {
      const make = (): tf.Variable[] => [tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2])), tf.variable(tf.tensor1d([0.5, -0.5]))];
      const grads = [tf.tensor2d([0.1, 0.2, -0.3, 0.4], [2, 2]), tf.tensor1d([0.3, -0.1])];
      const va = make();
      const a = new AdamW(va, { weightDecay: 0.01 });
      a.apply(grads, 0.1);
      a.apply(grads, 0.1);
      const state = await a.state();
      const vb = make();
      vb.forEach((v, i) => {
        v.assign(va[i]!);
      });
      const b = new AdamW(vb, { weightDecay: 0.01 });
      b.setState(state);
      a.apply(grads, 0.05);
      b.apply(grads, 0.05);
      va.forEach((v, i) => {
        expect(Array.from(vb[i]!.dataSync())).toEqual(Array.from(v.dataSync()));
      });
      expect(() => b.setState({ ...state, shapes: [[4], [2]] })).toThrow(/shape/);
      a.dispose();
      b.dispose();
      tf.dispose([...va, ...vb, ...grads]);
    });

    it('clips by the global norm', () => {
      const g = [tf.tensor1d([3, 0]), undefined, tf.tensor1d([0, 4])];
      const { gradients, norm } = clipByGlobalNorm(g, 1);
      expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
      expect(gradients[1]).toBeUndefined();
      expect(Array.from(gradients[0]!.dataSync())[0]).toBeCloseTo(0.6, 5);
      expect(Array.from(gradients[2]!.dataSync())[1]).toBeCloseTo(0.8, 5);
      const small = clipByGlobalNorm(g, 10);
      expect(Array.from(small.gradients[2]!.dataSync())).toEqual([0, 4]);
      tf.dispose([
        norm,
        small.norm,
        ...gradients.filter((x): x is tf.Tensor => !!x),
        ...small.gradients.filter((x): x is tf.Tensor => !!x),
        g[0]!,
        g[2]!,
      ]);
    });
  });
}
