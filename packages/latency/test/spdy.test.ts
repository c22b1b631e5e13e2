import { seededRandom } from '@ziplm/core';
import { describe, expect, it } from 'vitest';
import type { LayerErrors, SearchResult } from '../src/index.js';
import { searchForSpeedup, searchUniform, spdySearch, SearchError } from '../src/index.js';
import { handTable } from './helpers.js';

const table = handTable({
  numLayers: 3,
  numHeads: 4,
  intermediateSize: 8,
  attention: { 4: 4, 3: 3.2, 2: 2.3, 1: 1.5 },
  ffn: { 8: 6, 6: 4.6, 4: 3.1, 2: 1.7 },
  dense: 32,
  nonPrunable: 2,
});

// Proxy errors (what the DP sees) and a hidden "true" sensitivity per module that the proxy gets
// wrong: the score stands in for the calibration loss of the stitched model.
const random = seededRandom(21);
const errors: LayerErrors[] = [];
const hidden: number[] = [];
for (let l = 0; l < 3; l++) {
  for (const module of ['attention', 'ffn'] as const) {
    const full = module === 'attention' ? 4 : 8;
    const levels = (module === 'attention' ? table.attention : table.ffn).map((x) => ({
      kept: x.kept,
      error: x.kept === 0 ? 1 : (1 - x.kept / full) ** 1.5,
    }));
    errors.push({ layer: l, module, levels });
    hidden.push(0.1 + random() * 3);
  }
}
const trueLoss = async (s: SearchResult) => s.modules.reduce((sum, m, i) => sum + hidden[i]! * m.error, 0);

describe('spdySearch', () => {
  it('is deterministic for a seed, meets the target and is never worse than plain DP', async () => {
    const run = () => spdySearch(table, errors, { target: 2.5, score: trueLoss, seed: 4, randomInits: 10, steps: 20 });
    const a = await run();
    const b = await run();
    expect(a.coefficients).toEqual(b.coefficients);
    expect(a.best.layerHeads).toEqual(b.best.layerHeads);
    expect(a.best.layerIntermediate).toEqual(b.best.layerIntermediate);
    expect(a.best.predictedSpeedup).toBeGreaterThanOrEqual(2.5);
    const plain = searchForSpeedup(table, errors, { target: 2.5 });
    expect(a.plainScore).toBe(await trueLoss(plain));
    expect(a.score).toBeLessThanOrEqual(a.plainScore);
    // The proxy is wrong on purpose, so the search does find something better here.
    expect(a.score).toBeLessThan(a.plainScore);
  });

  it('refines another search when given one: with searchUniform every candidate stays uniform', async () => {
    const seen: SearchResult[] = [];
    const result = await spdySearch(table, errors, {
      target: 2,
      solve: searchUniform,
      seed: 2,
      score: async (s) => {
        seen.push(s);
        return trueLoss(s);
      },
    });
    expect(seen.length).toBeGreaterThan(1);
    for (const s of [...seen, result.best]) {
      expect(new Set(s.layerHeads).size).toBe(1);
      expect(new Set(s.layerIntermediate).size).toBe(1);
    }
    expect(result.score).toBeLessThanOrEqual(await trueLoss(searchUniform(table, errors, { target: 2 })));
  });

  it('scores each distinct solution once', async () => {
    let calls = 0;
    const r = await spdySearch(table, errors, {
      target: 2,
      seed: 1,
      score: async (s) => {
        calls++;
        return trueLoss(s);
      },
    });
    expect(calls).toBe(r.evaluations);
    expect(calls).toBeLessThanOrEqual(1 + 10 + 10);
  });

  it('with no inits and no steps returns the plain DP answer', async () => {
    const r = await spdySearch(table, errors, { target: 2, score: trueLoss, randomInits: 0, steps: 0 });
    expect(r.coefficients).toEqual(new Array(6).fill(1));
    expect(r.best.layerIntermediate).toEqual(searchForSpeedup(table, errors, { target: 2 }).layerIntermediate);
  });

  it('rejects bad settings and bad scores', async () => {
    await expect(spdySearch(table, errors, { target: 2, score: trueLoss, steps: -1 })).rejects.toThrow(SearchError);
    await expect(spdySearch(table, errors, { target: 2, score: async () => Number.NaN })).rejects.toThrow(/score returned NaN/);
  });
});
