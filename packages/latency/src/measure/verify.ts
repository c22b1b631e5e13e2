// Verification of a pruned model's speedup on this device: ZipLM's promise is measured time, not
// FLOPs, so every export can be checked. The dense and the pruned model are timed in the same
// interleaved protocol as the table (a slow stretch of the machine hits both), and the measured
// speedup is the median of the per-round ratios dense / pruned.
//
// The verdict comes from the distribution of those ratios, not from the median alone: on a busy
// machine the median of 20 rounds moves by a few percent from one run to the next, so a member that
// meets its target can measure just short of it. The 95% interval of the median (stats.ts,
// `medianInterval`) decides: 'fail' only when all of it lies below target × (1 − tolerance), a real
// miss; 'inconclusive' when it straddles that bound, with the reasons it is uncertain (the machine's
// load, the dense model's drift since the table, the interval's width); 'pass' when all of it is at
// or above the bound.

import { availableParallelism, loadavg } from 'node:os';
import { median } from '@ziplm/core';
import type { Checkpoint } from '@ziplm/models';
import { exportModelToOnnx } from '@ziplm/models';
import type { InferenceEnvironment } from '../environment.js';
import { environmentDifferences, fp32Environment, validateEnvironment } from '../environment.js';
import { MeasurementError } from '../errors.js';
import { youngGarbageCollector } from '../internal/gc.js';
import type { TimingSummary } from '../stats.js';
import { medianInterval } from '../stats.js';
import type { LatencyTable } from '../table.js';
import { referenceTime } from '../runtime.js';
import { DEFAULT_RENEW_ROUNDS, DEFAULT_VISIT_RUNS, timingExportOptions } from './build.js';
import { createOrtRunner } from './ort.js';
import type { ProtocolOptions } from './protocol.js';
import { InterleavedTimer } from './protocol.js';
import type { SessionRunner } from './runner.js';
import { SessionPool } from './runner.js';

/** A model to time: ONNX bytes (with the vocabulary size, for valid token ids) or a checkpoint. */
export type TimedModel = { readonly onnx: Uint8Array; readonly vocabSize: number } | Checkpoint;

/** Settings shared by `verifySpeedup` and `verifySpeedups`. */
export interface VerifyCommonOptions extends ProtocolOptions {
  /**
   * The dense model (the speedup's reference). Given as a checkpoint it is exported in FP32 even in
   * an INT8 environment: INT8 members are judged against the dense FP32 model (guide/compound-compression.md).
   */
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
  /**
   * The machine's load, read once the timing is done (for the reasons of an uncertain verdict);
   * default: the 1-minute load average (`os.loadavg`, always 0 on Windows) and
   * `os.availableParallelism()`. Injected by tests.
   */
  machineLoad?: () => MachineLoad;
}

/** How busy the machine was while timing. */
export interface MachineLoad {
  /** The 1-minute load average: runnable threads, averaged over the last minute. */
  readonly loadAverage: number;
  /** Logical cores available to this process. */
  readonly cores: number;
}

/**
 * A speedup verdict: 'pass' when the whole 95% interval of the measured speedup is at or above
 * target × (1 − tolerance), 'fail' when all of it is below, 'inconclusive' when it straddles the bound.
 */
export type VerificationStatus = 'pass' | 'fail' | 'inconclusive';

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

/** What re-timing a pruned model against its dense model found: the measured speedup, its interval and the verdict. */
export interface VerificationReport {
  readonly target: number;
  readonly predicted?: number;
  /** The median over rounds of dense / pruned time in the same round. */
  readonly measured: number;
  /** Relative standard error of `measured` (from the per-round ratios' dispersion). */
  readonly uncertainty: number;
  /**
   * 95% interval of the measured speedup: a distribution-free interval of the median of the per-round
   * ratios, from their order statistics (see `medianInterval` in stats.ts for why not a bootstrap).
   */
  readonly interval: readonly [low: number, high: number];
  /** measured / target − 1. */
  readonly deviation: number;
  /** measured / predicted − 1 (when a prediction was given). */
  readonly predictionError?: number;
  readonly dense: TimingSummary;
  readonly pruned: TimingSummary;
  /** Today's dense median / the table's reference (dense, FP32) median − 1 (when a table was given): device drift since the build. */
  readonly denseDrift?: number;
  readonly tolerance: number;
  /** The verdict from `interval` (see `VerificationStatus`); `measured`, the point estimate, may be on either side of the bound. */
  readonly status: VerificationStatus;
  /**
   * Why the verdict is not 'pass' (empty when it is): where the interval lies against the bound and,
   * when they apply, a busy machine (load average above what the timing itself accounts for), the
   * dense model's drift since the table beyond the tolerance, and the interval's width.
   */
  readonly reasons: readonly string[];
  readonly message: string;
}

/**
 * Half a core's worth of other runnable work on average over the last minute: beyond the threads the
 * timing itself keeps busy, a load average above this margin means other processes competed for the
 * CPU (and for its caches and memory bandwidth) while timing.
 */
const BUSY_LOAD_MARGIN = 0.5;

function readMachineLoad(): MachineLoad {
  return { loadAverage: loadavg()[0] ?? 0, cores: availableParallelism() };
}

/** What `speedupVerdict` judges: one candidate's per-round ratios and the context of their timing. */
export interface VerdictInput {
  /** The per-round ratios dense / pruned. */
  readonly ratios: readonly number[];
  readonly target: number;
  readonly tolerance: number;
  /** Today's dense median / the table's − 1, when a table was given. */
  readonly denseDrift?: number;
  readonly load: MachineLoad;
  /** Intra-op threads of the timed sessions: the part of the load average the timing itself accounts for. */
  readonly threads: number;
}

/** The verdict part of a `VerificationReport`. */
export type SpeedupVerdict = Pick<VerificationReport, 'measured' | 'interval' | 'status' | 'reasons'>;

const times = (x: number) => `${x.toFixed(3)}x`;
const signedPercent = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;

/**
 * Judges a measured speedup from its per-round ratios: the point estimate (their median), its 95%
 * interval, and the verdict with its reasons. An interval that contains the target is never 'fail'
 * (the bound is below the target).
 */
export function speedupVerdict(input: VerdictInput): SpeedupVerdict {
  const { ratios, target, tolerance, denseDrift, load, threads } = input;
  const measured = median(ratios);
  const interval = medianInterval(ratios);
  const [low, high] = interval;
  const bound = target * (1 - tolerance);
  const status: VerificationStatus = high < bound ? 'fail' : low < bound ? 'inconclusive' : 'pass';
  if (status === 'pass') return { measured, interval, status, reasons: [] };
  const halfWidth = (high - low) / 2 / measured;
  const boundText = `${times(bound)} (the target ${target.toFixed(2)}x less the ${(100 * tolerance).toFixed(1)}% tolerance)`;
  const intervalText = `the 95% interval ${times(low)}–${times(high)} (±${(100 * halfWidth).toFixed(1)}% over ${ratios.length} rounds)`;
  const reasons = [status === 'fail' ? `${intervalText} lies wholly below ${boundText}` : `${intervalText} straddles ${boundText}`];
  const ownThreads = Math.min(threads, load.cores);
  if (load.loadAverage > ownThreads + BUSY_LOAD_MARGIN)
    reasons.push(
      `the machine was busy: 1-minute load average ${load.loadAverage.toFixed(2)} on ${load.cores} cores, of which the timing itself accounts for about ${ownThreads}`,
    );
  if (denseDrift !== undefined && Math.abs(denseDrift) > tolerance)
    reasons.push(
      `the dense model ran ${(100 * Math.abs(denseDrift)).toFixed(1)}% ${denseDrift > 0 ? 'slower' : 'faster'} than when the latency table was measured (the machine's speed changed since)`,
    );
  if (status === 'inconclusive' && reasons.length === 1)
    reasons.push(
      `no busy machine or drift was seen: the rounds vary too much for ${ratios.length} of them; more rounds narrow the interval`,
    );
  return { measured, interval, status, reasons };
}

function toOnnx(model: TimedModel, env: InferenceEnvironment): { onnx: Uint8Array; vocabSize: number } {
  if ('onnx' in model) return model;
  // A checkpoint is timed as the environment's graph (static INT8 with nominal ranges: ranges change no work).
  return { onnx: exportModelToOnnx(model, timingExportOptions(model.config, env)), vocabSize: model.config.vocabSize };
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
    const differs = environmentDifferences(options.table.environment, env);
    if (differs.length > 0) throw new MeasurementError(`the latency table was measured in another environment (${differs.join('; ')})`);
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
      const { onnx, vocabSize } = toOnnx(model, id === 'dense' ? fp32Environment(env) : env);
      await pool.open({ id, onnx, vocabSize });
      timer.add(id, () => pool.run(id));
    }
    await timer.warmup();
    await timer.untilPrecise();
  } finally {
    await pool.releaseAll();
  }
  const dense = timer.summary('dense');
  const denseDrift = options.table ? dense.median / referenceTime(options.table) - 1 : undefined;
  const load = (options.machineLoad ?? readMachineLoad)();
  return candidates.map((c, i) => {
    const pruned = timer.summary(`pruned:${i}`);
    const ratios = timer.pairedValues(`pruned:${i}`, 'dense', 'ratio');
    const uncertainty = timer.paired(`pruned:${i}`, 'dense', 'ratio').relativeError;
    const verdict = speedupVerdict({
      ratios,
      target: c.target,
      tolerance,
      ...(denseDrift !== undefined ? { denseDrift } : {}),
      load,
      threads: env.threads,
    });
    const { measured, interval, status, reasons } = verdict;
    const deviation = measured / c.target - 1;
    const predictionError = c.predicted !== undefined ? measured / c.predicted - 1 : undefined;
    const outcome =
      status === 'pass'
        ? 'PASS'
        : status === 'fail'
          ? `FAIL (short of the target by more than ${(100 * tolerance).toFixed(1)}%) — a timing check: ${reasons.join('; ')}`
          : `INCONCLUSIVE — a timing check: ${reasons.join('; ')}`;
    const message =
      `target ${c.target.toFixed(2)}x, measured ${measured.toFixed(3)}x (${signedPercent(deviation)}, ±${(100 * uncertainty).toFixed(2)}%; ` +
      `95% interval ${interval[0].toFixed(3)}–${interval[1].toFixed(3)}x)` +
      (c.predicted !== undefined ? `, predicted ${c.predicted.toFixed(3)}x (measured/predicted ${signedPercent(predictionError!)})` : '') +
      `: ${outcome}`;
    return {
      target: c.target,
      ...(c.predicted !== undefined ? { predicted: c.predicted, predictionError } : {}),
      measured,
      uncertainty,
      interval,
      deviation,
      dense,
      pruned,
      ...(denseDrift !== undefined ? { denseDrift } : {}),
      tolerance,
      status,
      reasons,
      message,
    };
  });
}
