// Verification of a pruned model's speedup: the timing and the verdict, shared by onnxruntime-node
// (`verifySpeedup(s)` in verify.ts) and onnxruntime-web (`verifySpeedupsInBrowser` in
// `@ziplm/latency/browser`). ZipLM's promise is measured time, not FLOPs, so every export can be
// checked. The dense and the pruned models are timed in the same interleaved protocol as the table
// (protocol.ts: a slow stretch of the machine hits both), and the measured speedup is the median of
// the per-round ratios dense / pruned.
//
// The verdict comes from the distribution of those ratios, not from the median alone: on a busy
// machine the median of 20 rounds moves by a few percent from one run to the next, so a member that
// meets its target can measure just short of it. The 95% interval of the median (stats.ts,
// `medianInterval`) decides: 'fail' only when all of it lies below target × (1 − tolerance), a real
// miss; 'inconclusive' when it straddles that bound, with the reasons it is uncertain (the machine's
// load where the runtime reports it, the dense model's drift since the table, the interval's width);
// 'pass' when all of it is at or above the bound.
//
// No `node:` imports and no runtime import of @ziplm/models: this module is part of the browser entry.
// What only Node has (the load average, a young-generation collection, exporting a checkpoint) is
// passed in by verify.ts.

import { median } from '@ziplm/core';
import type { InferenceEnvironment } from '../environment.js';
import type { TimingSummary } from '../stats.js';
import { medianInterval } from '../stats.js';
import { MIN_RESOLUTION_STEPS_PER_SAMPLE } from './measure-plan.js';
import type { ProtocolOptions, ProtocolProgress } from './protocol.js';
import { DEFAULT_RENEW_ROUNDS, DEFAULT_VISIT_RUNS, InterleavedTimer, measureTimerResolution } from './protocol.js';
import type { EngineSession, SessionRunner } from './runner.js';
import { SessionPool } from './runner.js';

/** Default allowed shortfall of measured vs target speedup (relative). */
export const DEFAULT_VERIFY_TOLERANCE = 0.02;

/** Default timing rounds of a verification: at least 20, more (up to 100) until the speedup is precise. */
export const DEFAULT_VERIFY_ROUNDS = { min: 20, max: 100, precision: 0.003 } as const;

/**
 * The fewest rounds with a 95% interval of a median: below 6 no pair of order statistics covers it
 * with 95% probability (see `medianInterval` in stats.ts).
 */
export const MIN_VERIFY_ROUNDS = 6;

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

/** What `speedupVerdict` judges: one candidate's per-round ratios and the context of their timing. */
export interface VerdictInput {
  /** The per-round ratios dense / pruned. */
  readonly ratios: readonly number[];
  readonly target: number;
  readonly tolerance: number;
  /** Today's dense median / the table's − 1, when a table was given. */
  readonly denseDrift?: number;
  /** The machine's load while timing; absent where the runtime does not report it (a browser). */
  readonly load?: MachineLoad;
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
  if (load) {
    const ownThreads = Math.min(threads, load.cores);
    if (load.loadAverage > ownThreads + BUSY_LOAD_MARGIN)
      reasons.push(
        `the machine was busy: 1-minute load average ${load.loadAverage.toFixed(2)} on ${load.cores} cores, of which the timing itself accounts for about ${ownThreads}`,
      );
  }
  if (denseDrift !== undefined && Math.abs(denseDrift) > tolerance)
    reasons.push(
      `the dense model ran ${(100 * Math.abs(denseDrift)).toFixed(1)}% ${denseDrift > 0 ? 'slower' : 'faster'} than when the latency table was measured (the machine's speed changed since)`,
    );
  if (status === 'inconclusive' && reasons.length === 1)
    reasons.push(
      load
        ? `no busy machine or drift was seen: the rounds vary too much for ${ratios.length} of them; more rounds narrow the interval`
        : // A page cannot read the machine's load: other tabs and processes may have competed unseen.
          `no drift was seen (this runtime does not report the machine's load): the rounds vary too much for ${ratios.length} of them; more rounds, with other work on the device paused, narrow the interval`,
    );
  return { measured, interval, status, reasons };
}

/** A graph to time: ONNX bytes and the vocabulary size its token ids are drawn from. */
export interface TimedGraph {
  readonly onnx: Uint8Array;
  readonly vocabSize: number;
}

/** Progress of a verification: graphs opened, then the protocol's warm-up and rounds. */
export type VerifyProgress =
  | { readonly phase: 'prepare'; readonly done: number; readonly total: number; readonly what: string; readonly elapsedMs: number }
  | ProtocolProgress;

/** Options of `timePairedSpeedups`. */
export interface PairedTimingOptions extends Omit<ProtocolOptions, 'runsPerSample' | 'onProgress'> {
  readonly runner: SessionRunner;
  /** The environment every session is created in (engine settings, and the inputs' shapes). */
  readonly env: InferenceEnvironment;
  /** The speedup's reference, timed in every round. */
  readonly dense: TimedGraph;
  /** The pruned models, each compared with the dense model round by round. */
  readonly pruned: readonly TimedGraph[];
  /** Renew every session every this many rounds (0 = never); default `DEFAULT_RENEW_ROUNDS`. */
  readonly renewSessionsEvery?: number;
  /**
   * Back-to-back runs per timed sample; 'auto': measure the clock's resolution after warm-up and
   * choose them so that a sample of the fastest graph spans at least `MIN_RESOLUTION_STEPS_PER_SAMPLE`
   * steps (a browser's coarsened `performance.now()`). Default 1.
   */
  readonly runsPerSample?: number | 'auto';
  /**
   * Called with each session once it is open, before any timed run: the place to refuse a graph whose
   * inputs do not fit (throw). `index` is -1 for the dense model, else the pruned model's index.
   */
  readonly checkSession?: (index: number, session: EngineSession) => void;
  readonly onProgress?: (progress: VerifyProgress) => void;
}

/** One pruned model's paired timing. */
export interface PairedSpeedup {
  readonly pruned: TimingSummary;
  /** Per-round ratios dense / pruned, in round order. */
  readonly ratios: readonly number[];
  /** Relative standard error of their median. */
  readonly uncertainty: number;
}

/** What `timePairedSpeedups` measured. */
export interface PairedSpeedupTiming {
  readonly dense: TimingSummary;
  /** In the order of `PairedTimingOptions.pruned`. */
  readonly speedups: readonly PairedSpeedup[];
  /** Back-to-back runs each timed sample spanned. */
  readonly runsPerSample: number;
  /** The clock's measured resolution (ms), when `runsPerSample` was 'auto'. */
  readonly resolutionMs?: number;
}

/**
 * Times a dense model and pruned models in ONE interleaved protocol: the dense model runs every round
 * for all of them, and each speedup is the median of the per-round ratios with the dense model's
 * sample of the same round. Holds every session open during the timing and releases them all, also
 * on failure.
 */
export async function timePairedSpeedups(options: PairedTimingOptions): Promise<PairedSpeedupTiming> {
  const { runner, env, onProgress } = options;
  const renewEvery = options.renewSessionsEvery ?? DEFAULT_RENEW_ROUNDS;
  const pool = new SessionPool(runner, env, options.seed ?? 0);
  const timer = new InterleavedTimer({
    warmupRuns: options.warmupRuns,
    minRounds: options.minRounds ?? DEFAULT_VERIFY_ROUNDS.min,
    maxRounds: options.maxRounds ?? DEFAULT_VERIFY_ROUNDS.max,
    precision: options.precision ?? DEFAULT_VERIFY_ROUNDS.precision,
    timeBudgetMs: options.timeBudgetMs,
    visitRuns: options.visitRuns ?? DEFAULT_VISIT_RUNS,
    ...(typeof options.runsPerSample === 'number' ? { runsPerSample: options.runsPerSample } : {}),
    // Every speedup is the median of per-round ratios with the dense model, which runs every round.
    anchors: ['dense'],
    beforeTimedRun: options.beforeTimedRun,
    beforeRound: async (round) => {
      if (renewEvery > 0 && round > 0 && round % renewEvery === 0) await pool.recycle(timer.warmupRuns);
    },
    seed: options.seed,
    clock: options.clock,
    onProgress,
  });
  let resolutionMs: number | undefined;
  try {
    const graphs: Array<[string, TimedGraph]> = [
      ['dense', options.dense],
      ...options.pruned.map((g, i): [string, TimedGraph] => [`pruned:${i}`, g]),
    ];
    for (const [i, [id, graph]] of graphs.entries()) {
      const session = await pool.open({ id, ...graph });
      options.checkSession?.(i - 1, session);
      timer.add(id, () => pool.run(id));
      onProgress?.({ phase: 'prepare', done: i + 1, total: graphs.length, what: id, elapsedMs: timer.elapsedMs() });
    }
    await timer.warmup();
    if (options.runsPerSample === 'auto') {
      resolutionMs = measureTimerResolution(options.clock);
      await timer.chooseRunsPerSample(MIN_RESOLUTION_STEPS_PER_SAMPLE * resolutionMs);
    }
    await timer.untilPrecise();
  } finally {
    await pool.releaseAll();
  }
  return {
    dense: timer.summary('dense'),
    speedups: options.pruned.map((_, i) => ({
      pruned: timer.summary(`pruned:${i}`),
      ratios: timer.pairedValues(`pruned:${i}`, 'dense', 'ratio'),
      uncertainty: timer.paired(`pruned:${i}`, 'dense', 'ratio').relativeError,
    })),
    runsPerSample: timer.runsPerSample,
    ...(resolutionMs !== undefined ? { resolutionMs } : {}),
  };
}

/** What `verificationReport` judges: one pruned model's paired timing, its target and the context. */
export interface ReportInput {
  readonly target: number;
  readonly predicted?: number;
  readonly tolerance: number;
  readonly dense: TimingSummary;
  readonly speedup: PairedSpeedup;
  readonly denseDrift?: number;
  /** The machine's load while timing; absent where the runtime does not report it. */
  readonly load?: MachineLoad;
  /** Intra-op threads of the timed sessions. */
  readonly threads: number;
}

/** The report of one pruned model: measured against target (and predicted) speedup, the verdict and one line saying so. */
export function verificationReport(input: ReportInput): VerificationReport {
  const { target, predicted, tolerance, dense, speedup, denseDrift } = input;
  const { measured, interval, status, reasons } = speedupVerdict({
    ratios: speedup.ratios,
    target,
    tolerance,
    ...(denseDrift !== undefined ? { denseDrift } : {}),
    ...(input.load ? { load: input.load } : {}),
    threads: input.threads,
  });
  const deviation = measured / target - 1;
  const predictionError = predicted !== undefined ? measured / predicted - 1 : undefined;
  const outcome =
    status === 'pass'
      ? 'PASS'
      : status === 'fail'
        ? `FAIL (short of the target by more than ${(100 * tolerance).toFixed(1)}%) — a timing check: ${reasons.join('; ')}`
        : `INCONCLUSIVE — a timing check: ${reasons.join('; ')}`;
  const message =
    `target ${target.toFixed(2)}x, measured ${measured.toFixed(3)}x (${signedPercent(deviation)}, ±${(100 * speedup.uncertainty).toFixed(2)}%; ` +
    `95% interval ${interval[0].toFixed(3)}–${interval[1].toFixed(3)}x)` +
    (predicted !== undefined ? `, predicted ${predicted.toFixed(3)}x (measured/predicted ${signedPercent(predictionError!)})` : '') +
    `: ${outcome}`;
  return {
    target,
    ...(predicted !== undefined ? { predicted, predictionError } : {}),
    measured,
    uncertainty: speedup.uncertainty,
    interval,
    deviation,
    dense,
    pruned: speedup.pruned,
    ...(denseDrift !== undefined ? { denseDrift } : {}),
    tolerance,
    status,
    reasons,
    message,
  };
}
