// Tutorial 6 (tutorials/obs-solver.md): structured OBS on one weight matrix, against the magnitude
// baseline, with the reported errors recomputed from the calibration data.

import { describe, expect, it } from 'vitest';
import { makeLayer, pruneHeads, pruneNeurons, relativeOutputError } from '../../tutorials/obs-solver.ts';

const layer = makeLayer(32, 128, 1024, 16);

describe('tutorial 6: the OBS solver on its own', () => {
  it('prunes neurons with less output error than the magnitude baseline, and reports errors that hold on the data', async () => {
    const { obs, magnitude } = await pruneNeurons(layer);
    const kept = obs.snapshots.map((s) => s.kept);
    expect(kept[0]).toBe(128);
    expect(kept.at(-1)).toBe(0);
    expect(magnitude.snapshots.map((s) => s.kept)).toEqual(kept);
    for (let i = 1; i < obs.snapshots.length; i++) {
      // Greedy OBS: every removal can only add error.
      expect(obs.snapshots[i]!.error).toBeGreaterThanOrEqual(obs.snapshots[i - 1]!.error - 1e-12);
      // The optimal update of the remaining weights beats keeping the largest weights as they are.
      expect(obs.snapshots[i]!.error).toBeLessThanOrEqual(magnitude.snapshots[i]!.error + 1e-9);
    }
    expect(obs.snapshots[0]!.error).toBeLessThan(1e-9);
    expect(obs.snapshots.at(-1)!.error).toBe(1);
    // Half of the neurons gone: OBS far below magnitude pruning on correlated inputs.
    const half = obs.snapshots.findIndex((s) => s.kept <= 64);
    expect(obs.snapshots[half]!.error).toBeLessThan(0.5 * magnitude.snapshots[half]!.error);
    for (const s of [obs.snapshots[3]!, obs.snapshots[half]!, obs.snapshots.at(-2)!]) {
      expect(relativeOutputError(layer, s)).toBeCloseTo(s.error, 5);
    }
  });

  it('prunes attention heads as groups of columns', async () => {
    const result = await pruneHeads(layer, 8);
    expect(result.groupSize).toBe(16);
    expect(result.snapshots.map((s) => s.kept)).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const three = result.snapshots.find((s) => s.kept === 3)!;
    expect(three.keptIndices).toHaveLength(3);
    expect(three.weight).toHaveLength(32 * 3 * 16);
    expect(relativeOutputError(layer, three, 16)).toBeCloseTo(three.error, 5);
  });
});
