import { seededRandom } from '@ziplm/core';
import { describe, expect, it } from 'vitest';
import type { LayerErrors, LatencyTable } from '../src/index.js';
import {
  InfeasibleTargetError,
  maxAchievableSpeedup,
  MissingLevelError,
  predictRuntime,
  searchForSpeedup,
  SearchError,
} from '../src/index.js';
import { knapsackDp, solveKnapsack } from '../src/search.js';
import { handTable, twoLayerTable, product } from './helpers.js';

/** Brute force: min Σ cost with Σ time ≤ budget; all optimal pick vectors. */
function bruteForce(times: number[][], costs: number[][], budget: number): { cost: number; picks: number[][] } | undefined {
  let best: { cost: number; picks: number[][] } | undefined;
  for (const picks of product(times.map((t) => t.length))) {
    const t = picks.reduce((s, p, m) => s + times[m]![p]!, 0);
    if (t > budget) continue;
    const c = picks.reduce((s, p, m) => s + costs[m]![p]!, 0);
    if (!best || c < best.cost - 1e-12) best = { cost: c, picks: [picks] };
    else if (Math.abs(c - best.cost) <= 1e-12) best.picks.push(picks);
  }
  return best;
}

describe('the toy example of guide/search.md', () => {
  // The doc reports the DP's answers on a 4-layer, 3-level toy with 1000 buckets — [0,1,0,1] at 1.2x
  // up to [0,1,2,2] at 3x — but not the toy's times and errors. This toy was constructed to give
  // exactly those two answers; every answer is checked against brute force. Level 0 = dense.
  const times = [
    [0.6, 0.27, 0.1],
    [1.2, 0.57, 0.04],
    [1.8, 0.74, 0.31],
    [1.3, 0.9, 0.05],
  ];
  const errors = [
    [0, 0.3, 0.8],
    [0, 0.2, 0.9],
    [0, 0.5, 1.0],
    [0, 0.1, 1.0],
  ];
  const base = 5.0;
  const prunable = 4.9;
  const expected: Array<[number, number[], number]> = [
    [1.2, [0, 1, 0, 1], 1.2594],
    [1.5, [0, 1, 1, 0], 1.5106],
    [2, [0, 1, 2, 1], 2.0161],
    [3, [0, 1, 2, 2], 3.0675],
  ];
  for (const rounding of ['nearest', 'up'] as const) {
    it.each(expected)(`target %sx -> %j at %sx (rounding ${rounding}, 1000 buckets)`, (target, picks, achieved) => {
      // guide/search.md: the budget of the prunable part.
      const budget = base / target - (base - prunable);
      const got = solveKnapsack(times, errors, budget, { buckets: 1000, rounding });
      expect(got).toEqual(picks);
      const brute = bruteForce(times, errors, budget)!;
      expect(brute.picks).toEqual([picks]); // the optimum is unique
      const t = base - prunable + got!.reduce((s, p, m) => s + times[m]![p]!, 0);
      expect(base / t).toBeCloseTo(achieved, 4);
      expect(base / t).toBeGreaterThanOrEqual(target); // achieved >= target, as in the doc
    });
  }
});

describe('knapsackDp', () => {
  it('guards the first module: a level slower than the whole capacity is skipped, not indexed', () => {
    // The reference indexes DP[0][t_int] without a bounds check (guide/search.md).
    expect(
      knapsackDp(
        [
          [50, 3],
          [2, 1],
        ],
        [
          [0, 1],
          [0, 1],
        ],
        10,
      ),
    ).toEqual([1, 0]);
    expect(knapsackDp([[50, 30]], [[0, 1]], 10)).toBeUndefined();
  });
  it('prefers the faster of two equal-cost answers', () => {
    expect(knapsackDp([[4, 2]], [[1, 1]], 10)).toEqual([1]);
  });
  it('handles no modules and a negative capacity', () => {
    expect(knapsackDp([], [], 5)).toEqual([]);
    expect(knapsackDp([[0]], [[0]], -1)).toBeUndefined();
  });
});

describe('solveKnapsack: the budget holds on unrounded times', () => {
  it('round-to-nearest alone overshoots; the re-check tightens until the unrounded sum fits', () => {
    // 10 modules, each 0.149 buckets' worth over a whole bucket count: rounding to nearest drops
    // 0.149 bucket per module, so the rounded sum can fit while the true sum does not.
    const buckets = 100;
    const budget = 100;
    const times = Array.from({ length: 10 }, () => [10.149, 0]);
    const costs = Array.from({ length: 10 }, () => [0, 1]);
    const rounded = times.map((ts) => ts.map((t) => Math.round(t / (budget / buckets))));
    const naive = knapsackDp(rounded, costs, buckets)!;
    const naiveTime = naive.reduce((s, p, m) => s + times[m]![p]!, 0);
    expect(naiveTime).toBeGreaterThan(budget); // the pitfall is real
    for (const rounding of ['nearest', 'up'] as const) {
      const picks = solveKnapsack(times, costs, budget, { buckets, rounding })!;
      const t = picks.reduce((s, p, m) => s + times[m]![p]!, 0);
      expect(t).toBeLessThanOrEqual(budget);
      expect(picks.filter((p) => p === 0)).toHaveLength(9); // 9 × 10.149 = 91.3 fits, 10 do not
    }
  });

  it('matches brute force on random instances within the rounding bounds', () => {
    const random = seededRandom(7);
    for (let instance = 0; instance < 60; instance++) {
      const M = 2 + Math.floor(random() * 4);
      const times = Array.from({ length: M }, () =>
        Array.from({ length: 2 + Math.floor(random() * 4) }, () => Math.round(random() * 1000) / 100),
      );
      const costs = times.map((ts) => ts.map(() => random()));
      const budget = times.reduce((s, ts) => s + Math.min(...ts), 0) + random() * 10;
      const buckets = 1000;
      const picks = solveKnapsack(times, costs, budget, { buckets, rounding: 'up' })!;
      expect(picks).toBeDefined();
      const t = picks.reduce((s, p, m) => s + times[m]![p]!, 0);
      const c = picks.reduce((s, p, m) => s + costs[m]![p]!, 0);
      expect(t).toBeLessThanOrEqual(budget);
      // Rounding up loses < 1 bucket per module: the answer is at least as good as the best
      // choice with M buckets of slack, and (being feasible) no better than the true optimum.
      const optimum = bruteForce(times, costs, budget)!.cost;
      const slack = bruteForce(times, costs, budget - (M * budget) / buckets);
      expect(c).toBeGreaterThanOrEqual(optimum - 1e-12);
      if (slack) expect(c).toBeLessThanOrEqual(slack.cost + 1e-12);
    }
  });
});

const table = twoLayerTable();

function monotoneErrors(layer: number, module: 'attention' | 'ffn', kept: number[], random: () => number): LayerErrors {
  // Errors fall as more is kept; kept 0 (removed) has error 1 by definition.
  let e = 0;
  const levels = kept.map((k) => {
    if (k === 0) return { kept: k, error: 1 };
    e = Math.min(0.99, e + random() * 0.3);
    return { kept: k, error: e };
  });
  levels[0]!.error = 0;
  return { layer, module, levels };
}

function randomErrors(t: LatencyTable, random: () => number): LayerErrors[] {
  const out: LayerErrors[] = [];
  for (let l = 0; l < t.model.numLayers; l++) {
    out.push(
      monotoneErrors(
        l,
        'attention',
        t.attention.map((x) => x.kept),
        random,
      ),
    );
    out.push(
      monotoneErrors(
        l,
        'ffn',
        t.ffn.map((x) => x.kept),
        random,
      ),
    );
  }
  return out;
}

/** Errors that grow smoothly as a module shrinks: s·(1 − kept/full)^p, per-module s and p; removed = 1. */
function smoothErrors(t: LatencyTable, random: () => number): LayerErrors[] {
  const out: LayerErrors[] = [];
  for (let l = 0; l < t.model.numLayers; l++) {
    for (const module of ['attention', 'ffn'] as const) {
      const full = module === 'attention' ? t.model.numHeads : t.model.intermediateSize;
      const s = 0.2 + random() * 0.6;
      const p = 1 + random();
      const levels = (module === 'attention' ? t.attention : t.ffn).map((x) => ({
        kept: x.kept,
        error: x.kept === 0 ? 1 : s * (1 - x.kept / full) ** p,
      }));
      out.push({ layer: l, module, levels });
    }
  }
  return out;
}

/** Brute force over table levels: min Σ c·err with predicted speedup ≥ target. */
function bruteSearch(t: LatencyTable, errors: LayerErrors[], target: number, slackMs = 0) {
  let best: { cost: number; speedup: number } | undefined;
  for (const picks of product(errors.map((e) => e.levels.length))) {
    const heads = new Array<number>(t.model.numLayers).fill(0);
    const ffn = new Array<number>(t.model.numLayers).fill(0);
    let cost = 0;
    picks.forEach((p, m) => {
      const e = errors[m]!;
      const level = e.levels[p]!;
      (e.module === 'attention' ? heads : ffn)[e.layer] = level.kept;
      cost += level.error;
    });
    const pred = predictRuntime(t, { layerHeads: heads, layerIntermediate: ffn });
    if (pred.time > t.dense.median / target - slackMs) continue;
    if (!best || cost < best.cost) best = { cost, speedup: pred.speedup };
  }
  return best;
}

// The paper's 44 FFN kept sizes for 3072 (guide/structured-obs.md).
const PAPER_FFN_GRID = [
  3072, 2765, 2488, 2239, 2016, 1814, 1633, 1469, 1322, 1190, 1071, 964, 868, 781, 703, 632, 569, 512, 461, 415, 373, 336, 303, 272, 245,
  221, 198, 179, 161, 145, 130, 117, 105, 95, 85, 77, 69, 62, 56, 50, 45, 41, 37, 33,
];

describe('searchForSpeedup', () => {
  it('matches brute force on random errors for a range of targets, and meets every target', () => {
    const random = seededRandom(11);
    for (let trial = 0; trial < 8; trial++) {
      const errors = randomErrors(table, random);
      for (const target of [1.1, 1.5, 2, 3, 4, 6, 8]) {
        const result = searchForSpeedup(table, errors, { target });
        expect(result.predictedSpeedup).toBeGreaterThanOrEqual(target);
        const pred = predictRuntime(table, result);
        expect(pred.time).toBe(result.predictedTime);
        const optimum = bruteSearch(table, errors, target)!;
        const slack = bruteSearch(table, errors, target, (4 * result.budget) / result.buckets);
        expect(result.totalError).toBeGreaterThanOrEqual(optimum.cost - 1e-12);
        if (slack) expect(result.totalError).toBeLessThanOrEqual(slack.cost + 1e-12);
      }
    }
  });

  it('removes whole modules when that is cheapest, and never when removal is disallowed', () => {
    // Attention errors are tiny even when removed, FFN errors large: at 3x the attention modules go.
    const errors: LayerErrors[] = [0, 1].flatMap((layer) => [
      {
        layer,
        module: 'attention' as const,
        levels: [
          { kept: 4, error: 0 },
          { kept: 2, error: 0.01 },
          { kept: 0, error: 0.02 },
        ],
      },
      {
        layer,
        module: 'ffn' as const,
        levels: [
          { kept: 8, error: 0 },
          { kept: 6, error: 0.5 },
          { kept: 4, error: 0.7 },
          { kept: 2, error: 0.9 },
          { kept: 0, error: 1 },
        ],
      },
    ]);
    const r = searchForSpeedup(table, errors, { target: 2 });
    expect(r.layerHeads).toEqual([0, 0]);
    expect(r.modules.filter((m) => m.module === 'attention').every((m) => m.time === 0)).toBe(true);
    const kept = searchForSpeedup(table, errors, { target: 2, allowRemoval: false });
    expect(kept.layerHeads.every((h) => h > 0)).toBe(true);
    expect(kept.layerIntermediate.every((h) => h > 0)).toBe(true);
    expect(kept.predictedSpeedup).toBeGreaterThanOrEqual(2);
  });

  it('adds the removed level (error 1) when the errors omit it', () => {
    const errors: LayerErrors[] = [0, 1].flatMap((layer) => [
      { layer, module: 'attention' as const, levels: [{ kept: 4, error: 0 }] },
      { layer, module: 'ffn' as const, levels: [{ kept: 8, error: 0 }] },
    ]);
    // Only removal can make it faster; removing FFNs (6 ms each) reaches 22 / (22 - 12) = 2.2x.
    const r = searchForSpeedup(table, errors, { target: 2 });
    expect(r.totalError).toBe(2);
    expect(r.layerIntermediate).toEqual([0, 0]);
    expect(r.predictedSpeedup).toBeCloseTo(2.2, 12);
  });

  it('throws InfeasibleTargetError naming the maximum achievable speedup', () => {
    const errors = randomErrors(table, seededRandom(3));
    // Every module removed: only the non-prunable 2 ms remain -> 11x.
    expect(maxAchievableSpeedup(table, errors)).toBeCloseTo(11, 12);
    expect(() => searchForSpeedup(table, errors, { target: 11.5 })).toThrow(InfeasibleTargetError);
    try {
      searchForSpeedup(table, errors, { target: 11.5 });
    } catch (err) {
      expect((err as InfeasibleTargetError).maxSpeedup).toBeCloseTo(11, 12);
      expect((err as Error).message).toContain('11.000x');
    }
    // Without removal: 2 + 2·(1.5 + 1.7) = 8.4 ms -> 22 / 8.4.
    expect(maxAchievableSpeedup(table, errors, { allowRemoval: false })).toBeCloseTo(22 / 8.4, 12);
    expect(() => searchForSpeedup(table, errors, { target: 3, allowRemoval: false })).toThrow(
      /maximum predicted speedup under this latency table is 2\.619x/,
    );
    // Exactly the maximum is reachable (the fastest configuration, whatever the rounding does).
    const atMax = searchForSpeedup(table, errors, { target: 11 });
    expect(atMax.predictedSpeedup).toBeGreaterThanOrEqual(11);
  });

  it('guarantees predicted >= target on unrounded times for many targets and bucket counts', () => {
    const random = seededRandom(5);
    const errors = randomErrors(table, random);
    for (const buckets of [3, 10, 100, 10000]) {
      for (const rounding of ['up', 'nearest'] as const) {
        for (let i = 0; i < 40; i++) {
          const target = 1 + random() * 9.9;
          const r = searchForSpeedup(table, errors, { target, buckets, rounding });
          expect(r.predictedSpeedup).toBeGreaterThanOrEqual(target);
        }
      }
    }
  });

  it('with more buckets the answer uses the budget more fully (predicted close to the target)', () => {
    const big = handTable({
      numLayers: 12,
      numHeads: 12,
      intermediateSize: 3072,
      attention: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [i + 1, 0.5 + (i + 1) * 0.15])),
      ffn: Object.fromEntries(PAPER_FFN_GRID.map((k) => [k, 0.2 + k * 0.0008])),
      dense: 12 * (2.3 + 2.6576) + 1,
      nonPrunable: 1,
    });
    const errors = smoothErrors(big, seededRandom(9));
    for (const target of [1.5, 2, 3, 4, 6, 8]) {
      const r = searchForSpeedup(big, errors, { target });
      expect(r.predictedSpeedup).toBeGreaterThanOrEqual(target);
      expect(r.predictedSpeedup / target - 1).toBeLessThan(0.002);
    }
  });

  it('gradual mode: offers only levels <= the current size; modules without errors keep their size', () => {
    const errors = randomErrors(table, seededRandom(13)).filter((e) => !(e.layer === 1 && e.module === 'ffn'));
    const current = { layerHeads: [2, 3], layerIntermediate: [4, 6] };
    const r = searchForSpeedup(table, errors, { target: 2, current });
    expect(r.layerHeads[0]).toBeLessThanOrEqual(2);
    expect(r.layerHeads[1]).toBeLessThanOrEqual(3);
    expect(r.layerIntermediate[0]).toBeLessThanOrEqual(4);
    expect(r.layerIntermediate[1]).toBe(6); // not searched: fixed at its current size
    expect(r.modules).toHaveLength(3);
    expect(r.predictedSpeedup).toBeGreaterThanOrEqual(2);
    // A module removed earlier (current 0, no errors) costs nothing and stays removed.
    const removed = searchForSpeedup(
      table,
      errors.filter((e) => !(e.layer === 0 && e.module === 'attention')),
      {
        target: 2,
        current: { layerHeads: [0, 4], layerIntermediate: [8, 6] },
      },
    );
    expect(removed.layerHeads[0]).toBe(0);
  });

  it('weights errors by per-module coefficients', () => {
    const errors = randomErrors(table, seededRandom(17));
    const plain = searchForSpeedup(table, errors, { target: 2 });
    // A coefficient of 0 makes a module's errors free: it is pruned to its fastest level.
    const coefficients = errors.map((_, i) => (i === 1 ? 0 : 1));
    const weighted = searchForSpeedup(table, errors, { target: 2, coefficients });
    expect(weighted.layerIntermediate[0]).toBe(0);
    expect(weighted.objective).toBeLessThanOrEqual(plain.objective);
    expect(() => searchForSpeedup(table, errors, { target: 2, coefficients: [1] })).toThrow(SearchError);
    expect(() => searchForSpeedup(table, errors, { target: 2, coefficients: errors.map(() => -1) })).toThrow(/coefficients\[0\]/);
  });

  it('rejects inconsistent input with typed errors', () => {
    const errors = randomErrors(table, seededRandom(19));
    expect(() => searchForSpeedup(table, [{ layer: 0, module: 'ffn', levels: [{ kept: 5, error: 0 }] }], { target: 1.2 })).toThrow(
      MissingLevelError,
    );
    expect(() => searchForSpeedup(table, [{ layer: 0, module: 'ffn', levels: [{ kept: 5, error: 0 }] }], { target: 1.2 })).toThrow(
      /nearest table levels: 4, 6/,
    );
    expect(() => searchForSpeedup(table, [...errors, errors[0]!], { target: 2 })).toThrow(/duplicate module/);
    expect(() => searchForSpeedup(table, [{ ...errors[0]!, layer: 5 }], { target: 2 })).toThrow(/layer must be an integer in \[0, 2\)/);
    expect(() => searchForSpeedup(table, errors, { target: 0 })).toThrow(SearchError);
    expect(() => searchForSpeedup(table, errors, { target: 2, buckets: 0 })).toThrow(/buckets/);
  });
});
