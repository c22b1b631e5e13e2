// The search for one target (docs site guide: apps/docs/guide/search.md): the DP over the level
// database's layer-wise errors (the uniform baseline: the best shared shape), refined by SPDY when
// enabled, which scores DP solutions by the calibration task loss of the stitched model. Every
// method gets the same search procedure over its own candidates.

import type { LayerErrors, LevelDatabase } from '@ziplm/hessian';
import { type LatencyTable, searchForSpeedup, searchUniform, spdySearch, type SearchResult } from '@ziplm/latency';
import { exportModelToOnnx, type Checkpoint, type LayerShapes } from '@ziplm/models';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import type { RunContext } from '../context.js';
import { DEFAULT_SPDY } from '../defaults.js';
import { stitchModel } from '../internal/stitch.js';
import type { CompressionMethod, MemberResult } from '../results.js';

/** How the levels of a member were chosen (kept in its record). */
export type SearchInfo = NonNullable<MemberResult['search']>;

/**
 * The levels for one target on `base` (the dense model, or the current model in gradual mode, whose
 * sizes are `current`: no module may grow). `table` is the run's latency table unless a re-search
 * passes the table calibrated to the members measured so far (@ziplm/latency's `calibrateToMembers`
 * and `applyMemberCalibration`: the levels the search lands on are the ones the table times too
 * low, and verified members measure that where it acts).
 */
export async function searchLevels(
  ctx: RunContext,
  method: CompressionMethod,
  base: Checkpoint,
  db: LevelDatabase,
  errors: LayerErrors[],
  target: number,
  current?: LayerShapes,
  table: LatencyTable = ctx.table,
): Promise<{ choice: SearchResult; info: SearchInfo }> {
  const solve = method === 'uniform' ? searchUniform : searchForSpeedup;
  const options = { target, ...(current ? { current } : {}) };
  const spdy = ctx.spdy;
  if (spdy === false) return { choice: solve(table, errors, options), info: { procedure: 'dp' } };
  const ort = await loadOrt();
  const pseudoLabels = await ctx.densePredictions();
  const inits = spdy.randomInits ?? DEFAULT_SPDY.randomInits;
  const steps = spdy.steps ?? DEFAULT_SPDY.steps;
  const result = await spdySearch(table, errors, {
    ...options,
    solve,
    seed: spdy.seed ?? DEFAULT_SPDY.seed,
    randomInits: inits,
    steps,
    score: async (solution) => {
      const { checkpoint } = await stitchModel(base, db, solution);
      const session = await createSession(exportModelToOnnx(checkpoint));
      try {
        return (await ctx.task.calibrationLoss(session, ort, pseudoLabels)).loss;
      } finally {
        await session.release();
      }
    },
    onProgress: (e) =>
      ctx.emit({
        kind: 'progress',
        stage: `spdy ${method} ${target}x`,
        done: e.phase === 'init' ? e.index + 1 : inits + e.index + 1,
        total: inits + steps,
      }),
  });
  return {
    choice: result.best,
    info: { procedure: 'spdy', plainLoss: result.plainScore, loss: result.score, evaluations: result.evaluations },
  };
}
