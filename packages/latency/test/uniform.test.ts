import { seededRandom } from '@ziplm/core';
import { describe, expect, it } from 'vitest';
import type { LayerErrors, LatencyTable } from '../src/index.js';
import {
  InfeasibleTargetError,
  maxAchievableSpeedup,
  maxUniformSpeedup,
  MissingLevelError,
  predictRuntime,
  searchForSpeedup,
  searchUniform,
  SearchError,
} from '../src/index.js';
import { handTable } from './helpers.js';

// A 3-layer table: 4 heads, FFN 8 with a 4-level grid (+ kept 0).
const table = handTable({
  numLayers: 3,
  numHeads: 4,
  intermediateSize: 8,
  attention: { 4: 4, 3: 3.2, 2: 2.3, 1: 1.5 },
  ffn: { 8: 6, 6: 4.6, 4: 3.1, 2: 1.7 },
  dense: 32,
  nonPrunable: 2,
});

/** Random errors, falling as more is kept, one entry per module per table level; removed = 1. */
function randomErrors(t: LatencyTable, random: () => number): LayerErrors[] {
  const out: LayerErrors[] = [];
  for (let layer = 0; layer < t.model.numLayers; layer++) {
    for (const module of ['attention', 'ffn'] as const) {
      let e = 0;
      const levels = (module === 'attention' ? t.attention : t.ffn).map((x, i) => {
        if (x.kept !== 0 && i !== 0) e = Math.min(0.99, e + random() * 0.3);
        return { kept: x.kept, error: x.kept === 0 ? 1 : i === 0 ? 0 : e };
      });
      out.push({ layer, module, levels });
    }
  }
  return out;
}

/** Brute force over every (heads, FFN) pair of the table: min Σ error with predicted speedup ≥ target. */
function bruteUniform(
  t: LatencyTable,
  errors: LayerErrors[],
  target: number,
): { heads: number; ffn: number; cost: number; speedup: number } | undefined {
  let best: { heads: number; ffn: number; cost: number; speedup: number } | undefined;
  const L = t.model.numLayers;
  for (const { kept: heads } of t.attention) {
    for (const { kept: ffn } of t.ffn) {
      const speedup = predictRuntime(t, {
        layerHeads: new Array<number>(L).fill(heads),
        layerIntermediate: new Array<number>(L).fill(ffn),
      }).speedup;
      if (speedup < target) continue;
      let cost = 0;
      for (const e of errors) cost += e.levels.find((l) => l.kept === (e.module === 'attention' ? heads : ffn))!.error;
      if (!best || cost < best.cost) best = { heads, ffn, cost, speedup };
    }
  }
  return best;
}

describe('searchUniform', () => {
  it('matches brute force over (heads, FFN) pairs on random errors, and meets every target', () => {
    const random = seededRandom(21);
    for (let trial = 0; trial < 10; trial++) {
      const errors = randomErrors(table, random);
      for (const target of [1.05, 1.2, 1.5, 2, 2.5, 3, 4, 6, 10]) {
        const brute = bruteUniform(table, errors, target);
        if (!brute) {
          expect(() => searchUniform(table, errors, { target })).toThrow(InfeasibleTargetError);
          continue;
        }
        const r = searchUniform(table, errors, { target });
        expect(r.layerHeads).toEqual([brute.heads, brute.heads, brute.heads]);
        expect(r.layerIntermediate).toEqual([brute.ffn, brute.ffn, brute.ffn]);
        expect(r.totalError).toBeCloseTo(brute.cost, 12);
        expect(r.objective).toBe(r.totalError);
        expect(r.predictedSpeedup).toBeGreaterThanOrEqual(target);
        expect(r.predictedTime).toBe(predictRuntime(table, r).time);
        expect(r.buckets).toBe(0);
        expect(r.budget).toBeCloseTo(32 / target - 2, 12);
        expect(r.modules).toHaveLength(6);
        // The free per-layer search can only do better (up to its bucket rounding).
        const free = searchForSpeedup(table, errors, { target, buckets: 20000 });
        expect(free.totalError).toBeLessThanOrEqual(r.totalError + 1e-9);
      }
    }
  });

  it('agrees with searchForSpeedup when every configuration is uniform (one layer)', () => {
    const one = handTable({
      numLayers: 1,
      numHeads: 12,
      intermediateSize: 64,
      attention: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [i + 1, 0.3 + (i + 1) * 0.21])),
      ffn: Object.fromEntries([64, 57, 51, 45, 40, 36, 32, 28, 25, 22, 19, 16, 13, 10, 8, 6, 4].map((k) => [k, 0.2 + k * 0.07])),
      dense: 2.82 + 4.68 + 0.5,
      nonPrunable: 0.5,
    });
    const random = seededRandom(5);
    let compared = 0;
    for (let trial = 0; trial < 6; trial++) {
      const errors = randomErrors(one, random);
      for (const target of [1.1, 1.3, 1.7, 2.2, 3, 4, 5.5, 8, 12]) {
        const brute = bruteUniform(one, errors, target);
        if (!brute) continue;
        const uniform = searchUniform(one, errors, { target });
        const free = searchForSpeedup(one, errors, { target, buckets: 100_000 });
        expect(uniform.totalError).toBeCloseTo(brute.cost, 12);
        // Same problem, same optimum: the DP's bucket rounding (1e-5 of the budget) does not bite here.
        expect(free.layerHeads).toEqual(uniform.layerHeads);
        expect(free.layerIntermediate).toEqual(uniform.layerIntermediate);
        expect(free.totalError).toBe(uniform.totalError);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(40);
  });

  it('uses only sizes every module offers, respects current sizes, and keeps unsearched modules', () => {
    const errors = randomErrors(table, seededRandom(13));
    // Layer 1's FFN errors lack kept 6: the shared FFN size cannot be 6.
    const gapped = errors.map((e) => (e.layer === 1 && e.module === 'ffn' ? { ...e, levels: e.levels.filter((l) => l.kept !== 6) } : e));
    for (const target of [1.1, 1.3, 1.6, 2]) {
      const r = searchUniform(table, gapped, { target });
      expect(r.layerIntermediate[0]).not.toBe(6);
      expect(new Set(r.layerIntermediate).size).toBe(1);
    }
    // Gradual mode: shared sizes ≤ the smallest current size; layer 2's FFN (no errors) stays at 6.
    const current = { layerHeads: [3, 4, 2], layerIntermediate: [8, 4, 6] };
    const searched = errors.filter((e) => !(e.layer === 2 && e.module === 'ffn'));
    for (const target of [1.05, 1.5, 2]) {
      const r = searchUniform(table, searched, { target, current });
      expect(r.layerHeads.every((h) => h === r.layerHeads[0] && h <= 2)).toBe(true);
      expect(r.layerIntermediate[0]).toBe(r.layerIntermediate[1]);
      expect(r.layerIntermediate[0]).toBeLessThanOrEqual(4);
      expect(r.layerIntermediate[2]).toBe(6);
      expect(r.modules).toHaveLength(5);
      expect(r.predictedSpeedup).toBeGreaterThanOrEqual(target);
    }
  });

  it('throws InfeasibleTargetError naming the largest uniform speedup', () => {
    const errors = randomErrors(table, seededRandom(3));
    // Everything removed: only the non-prunable 2 ms remain -> 16x, uniform or not.
    expect(maxUniformSpeedup(table, errors)).toBeCloseTo(16, 12);
    expect(() => searchUniform(table, errors, { target: 16.5 })).toThrow(/maximum predicted speedup under this latency table is 16\.000x/);
    expect(searchUniform(table, errors, { target: 16 }).predictedSpeedup).toBeGreaterThanOrEqual(16);
    // Without removal, and layer 1's FFN unable to go below 4 while the others reach 2: the fastest
    // uniform configuration (1 head, FFN 4: 2 + 3·(1.5 + 3.1) = 15.8 ms) is slower than the fastest
    // free one (2 + 3·1.5 + 3.1 + 2·1.7 = 13 ms).
    const limited = errors.map((e) => (e.layer === 1 && e.module === 'ffn' ? { ...e, levels: e.levels.filter((l) => l.kept >= 4) } : e));
    expect(maxUniformSpeedup(table, limited, { allowRemoval: false })).toBeCloseTo(32 / 15.8, 12);
    expect(maxAchievableSpeedup(table, limited, { allowRemoval: false })).toBeCloseTo(32 / 13, 12);
    expect(() => searchUniform(table, limited, { target: 2.2, allowRemoval: false })).toThrow(InfeasibleTargetError);
    try {
      searchUniform(table, limited, { target: 2.2, allowRemoval: false });
    } catch (err) {
      expect((err as InfeasibleTargetError).maxSpeedup).toBeCloseTo(32 / 15.8, 12);
      expect((err as Error).message).toContain('same kept head count and FFN size in every layer');
    }
    expect(searchForSpeedup(table, limited, { target: 2.2, allowRemoval: false }).predictedSpeedup).toBeGreaterThanOrEqual(2.2);
    // Modules held fixed that alone exceed the budget.
    expect(() => searchUniform(table, errors.slice(0, 1), { target: 3 })).toThrow(/alone exceed the time budget/);
  });

  it('weights errors by coefficients and rejects inconsistent input with typed errors', () => {
    const errors = randomErrors(table, seededRandom(17));
    // Zero weight on every FFN: the FFN size is free, so the cheapest answer removes all FFNs.
    const coefficients = errors.map((e) => (e.module === 'ffn' ? 0 : 1));
    const r = searchUniform(table, errors, { target: 2, coefficients });
    expect(r.layerIntermediate).toEqual([0, 0, 0]);
    expect(r.objective).toBeCloseTo(
      errors.filter((e) => e.module === 'attention').reduce((s, e) => s + e.levels[0]!.error, 0),
      12,
    );
    expect(() => searchUniform(table, errors, { target: 0 })).toThrow(SearchError);
    expect(() => searchUniform(table, errors, { target: 2, coefficients: [1] })).toThrow(/coefficients has 1 entries/);
    expect(() => searchUniform(table, [{ layer: 0, module: 'ffn', levels: [{ kept: 5, error: 0 }] }], { target: 1.01 })).toThrow(
      MissingLevelError,
    );
    // Levels that do not intersect once capped by the current sizes.
    const disjoint: LayerErrors[] = [
      { layer: 0, module: 'attention', levels: [{ kept: 3, error: 0 }] },
      { layer: 1, module: 'attention', levels: [{ kept: 2, error: 0 }] },
    ];
    expect(() => searchUniform(table, disjoint, { target: 1.01, allowRemoval: false })).toThrow(
      /no kept head count is offered by every searched attention module/,
    );
  });
});
