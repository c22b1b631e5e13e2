// Verification of a pruned model's speedup on this device: ZipLM's promise is measured time, not
// FLOPs, so every export can be checked. The dense and the pruned model are timed in the same
// interleaved protocol as the table (a slow stretch of the machine hits both), and the measured
// speedup is the median of the per-round ratios dense / pruned.

import type { Checkpoint } from '@ziplm/models';
import { exportModelToOnnx } from '@ziplm/models';
import type { InferenceEnvironment } from '../environment.js';
import { exportOptionsFor, validateEnvironment } from '../environment.js';
import { MeasurementError } from '../errors.js';
import { youngGarbageCollector } from '../internal/gc.js';
import type { TimingSummary } from '../stats.js';
import type { LatencyTable } from '../table.js';
import { DEFAULT_RENEW_ROUNDS, DEFAULT_VISIT_RUNS } from './build.js';
import { createOrtRunner } from './ort.js';
import type { ProtocolOptions } from './protocol.js';
import { InterleavedTimer } from './protocol.js';
import type { SessionRunner } from './runner.js';
import { SessionPool } from './runner.js';

/** A model to time: ONNX bytes (with the vocabulary size, for valid token ids) or a checkpoint. */
export type TimedModel = { readonly onnx: Uint8Array; readonly vocabSize: number } | Checkpoint;

/** Settings shared by `verifySpeedup` and `verifySpeedups`. */
export interface VerifyCommonOptions extends ProtocolOptions {
  /** The dense model (the speedup's reference). */
  dense: TimedModel;
  env: InferenceEnvironment;
  /** The table the predictions came from; reports how far today's dense time is from the table's. */
  table?: LatencyTable;
  /** Allowed shortfall of measured vs target speedup (relative); default 0.02. */
  tolerance?: number;
  runner?: SessionRunner;
  /** Renew every session every this many rounds (0 = never); default `DEFAULT_RENEW_ROUNDS` (see `BuildTableOptions`). */
  renewSessionsEvery?: number;
  /** Seed of the inputs and of the round order; default 0. */
  seed?: number;
}

/** One pruned model to verify. */
export interface VerifyCandidate {
  readonly model: TimedModel;
  /** The speedup that was asked for. */
  readonly target: number;
  /** The speedup the runtime model predicted (e.g. `SearchResult.predictedSpeedup`); optional. */
  readonly predicted?: number;
}

export interface VerifyOptions extends VerifyCommonOptions, Omit<VerifyCandidate, 'model'> {
  /** The pruned model. */
  pruned: TimedModel;
}

export interface VerificationReport {
  readonly target: number;
  readonly predicted?: number;
  /** The median over rounds of dense / pruned time in the same round. */
  readonly measured: number;
  /** Relative standard error of `measured` (from both medians' errors). */
  readonly uncertainty: number;
  /** measured / target − 1. */
  readonly deviation: number;
  /** measured / predicted − 1 (when a prediction was given). */
  readonly predictionError?: number;
  readonly dense: TimingSummary;
  readonly pruned: TimingSummary;
  /** Today's dense median / the table's dense median − 1 (when a table was given): device drift since the build. */
  readonly denseDrift?: number;
  readonly tolerance: number;
  /** 'fail' when the measured speedup falls short of the target by more than the tolerance. */
  readonly status: 'pass' | 'fail';
  readonly message: string;
}

function toOnnx(model: TimedModel, env: InferenceEnvironment): { onnx: Uint8Array; vocabSize: number } {
  if ('onnx' in model) return model;
  return { onnx: exportModelToOnnx(model, exportOptionsFor(env)), vocabSize: model.config.vocabSize };
}

/** Times the dense and the pruned model and reports measured against target (and predicted) speedup. */
export async function verifySpeedup(options: VerifyOptions): Promise<VerificationReport> {
  const { pruned, target, predicted, ...common } = options;
  const [report] = await verifySpeedups({
    ...common,
    candidates: [{ model: pruned, target, ...(predicted !== undefined ? { predicted } : {}) }],
  });
  return report!;
}

/**
 * Verifies several pruned models of one dense model (a family of targets) in ONE interleaved
 * protocol: the dense model runs once per round for all of them, and all ratios share its samples.
 */
export async function verifySpeedups(
  options: VerifyCommonOptions & { candidates: readonly VerifyCandidate[] },
): Promise<VerificationReport[]> {
  const { env, candidates } = options;
  validateEnvironment(env);
  for (const c of candidates) if (!(c.target > 0)) throw new MeasurementError(`target speedup must be > 0, got ${c.target}`);
  if (options.table) {
    // Predictions from a table only hold in the environment it was measured in.
    const t = options.table.environment;
    const differs = (Object.keys(t) as Array<keyof InferenceEnvironment>).filter((k) => t[k] !== env[k]);
    if (differs.length > 0) {
      throw new MeasurementError(
        `the latency table was measured in another environment (${differs.map((k) => `${k}: table ${JSON.stringify(t[k])}, now ${JSON.stringify(env[k])}`).join('; ')})`,
      );
    }
  }
  const tolerance = options.tolerance ?? 0.02;
  const runner = options.runner ?? (await createOrtRunner());
  const renewEvery = options.renewSessionsEvery ?? DEFAULT_RENEW_ROUNDS;
  const pool = new SessionPool(runner, env, options.seed ?? 0);
  const timer = new InterleavedTimer({
    warmupRuns: options.warmupRuns,
    minRounds: options.minRounds ?? 20,
    maxRounds: options.maxRounds ?? 100,
    precision: options.precision ?? 0.003,
    timeBudgetMs: options.timeBudgetMs,
    visitRuns: options.visitRuns ?? DEFAULT_VISIT_RUNS,
    // Every speedup is the median of per-round ratios with the dense model, which runs every round.
    anchors: ['dense'],
    beforeTimedRun: options.beforeTimedRun ?? youngGarbageCollector(),
    beforeRound: async (round) => {
      if (renewEvery > 0 && round > 0 && round % renewEvery === 0) await pool.recycle(timer.warmupRuns);
    },
    seed: options.seed,
    clock: options.clock,
    onProgress: options.onProgress,
  });
  try {
    const models: Array<[string, TimedModel]> = [
      ['dense', options.dense],
      ...candidates.map((c, i): [string, TimedModel] => [`pruned:${i}`, c.model]),
    ];
    for (const [id, model] of models) {
      const { onnx, vocabSize } = toOnnx(model, env);
      await pool.open({ id, onnx, vocabSize });
      timer.add(id, () => pool.run(id));
    }
    await timer.warmup();
    await timer.untilPrecise();
  } finally {
    await pool.releaseAll();
  }
  const dense = timer.summary('dense');
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
  return candidates.map((c, i) => {
    const pruned = timer.summary(`pruned:${i}`);
    const ratio = timer.paired(`pruned:${i}`, 'dense', 'ratio');
    const measured = ratio.median;
    const deviation = measured / c.target - 1;
    const predictionError = c.predicted !== undefined ? measured / c.predicted - 1 : undefined;
    const uncertainty = ratio.relativeError;
    const status = measured >= c.target * (1 - tolerance) ? 'pass' : 'fail';
    const message =
      `target ${c.target.toFixed(2)}x, measured ${measured.toFixed(3)}x (${pct(deviation)}, ±${(100 * uncertainty).toFixed(2)}%)` +
      (c.predicted !== undefined ? `, predicted ${c.predicted.toFixed(3)}x (measured/predicted ${pct(predictionError!)})` : '') +
      `: ${status === 'pass' ? 'PASS' : `FAIL (short of the target by more than ${(100 * tolerance).toFixed(1)}%)`}`;
    return {
      target: c.target,
      ...(c.predicted !== undefined ? { predicted: c.predicted, predictionError } : {}),
      measured,
      uncertainty,
      deviation,
      dense,
      pruned,
      ...(options.table ? { denseDrift: dense.median / options.table.dense.median - 1 } : {}),
      tolerance,
      status,
      message,
    };
  });
}
