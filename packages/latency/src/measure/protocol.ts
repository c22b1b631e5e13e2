// The timing protocol. The machines this runs on are shared 2-core VMs: other processes take a
// core for seconds at a time, clocks drift with thermal and frequency states. The original timed
// each module with 50 warm-up calls and 50 back-to-back repetitions, reporting the mean
// (guide/latency.md); on a noisy machine a mean is ruined by one slow stretch, and timing configurations one after
// the other lets a slow stretch hit some of them only. So:
//
// - Interleaving: every round runs each configuration once, in a per-round shuffled order, so slow
//   stretches and drift hit all configurations alike, and no configuration always follows the same
//   neighbour. It also mirrors how a block runs inside a model: after other blocks have evicted its
//   weights from the caches, not after itself.
// - Robust statistics: median and MAD-based dispersion (stats.ts), not mean and standard deviation.
// - Adaptive repeats: after a minimum number of rounds, only the configurations whose median is not
//   yet precise enough (relative standard error above `precision`) get more rounds, up to a cap.
// - Warm visits (`visitRuns`): a deployed model runs back to back, with its weights in the caches and
//   the engine's threads awake. Timing the first run after 50 other graphs measures a cold start
//   instead, and that cold cost is a fixed amount per graph node: a large share of a tiny module, a
//   small share of a full one, so it biases the table against small levels. Each visit therefore
//   runs the configuration `visitRuns − 1` times untimed before the timed run.
// - Session renewal (`beforeRound`, used with `SessionPool`): with several intra-op threads, where
//   the operating system places a session's worker thread gives each session a bias of its own
//   (measured here: ±1% between identical sessions of BERT-base at batch 1, 2 threads; none with one
//   thread). Renewing every session every few rounds averages that bias out instead of baking one
//   draw into the table.
// - Garbage (`beforeTimedRun`): build and verification run a young-generation collection before each
//   timed run (internal/gc.ts), so that the previous runs' output buffers are not collected inside it.
// - Anchors and paired statistics: configurations that others are compared with (the empty context
//   model, the dense model) run in every round, and a comparison takes the median of the per-round
//   differences or ratios. The machine's speed drifts by several percent over minutes; a per-round
//   pair sees the same state of the machine, while a difference of two medians mixes samples from
//   rounds with different sets of active configurations.
// - Timer resolution (`runsPerSample`): a browser coarsens `performance.now()` (100 µs in Chromium
//   without cross-origin isolation, 1 ms in some browsers), so one run of a small graph can read as 0
//   or one step. A timed sample then spans several back-to-back runs (its time divided by them),
//   chosen once after warm-up (`chooseRunsPerSample`) so that every sample spans at least 100 steps
//   of the measured resolution (`measureTimerResolution`): the rounding error stays below 1%.

import { median, medianAbsoluteDeviation, seededRandom } from '@ziplm/core';
import { MeasurementError } from '../errors.js';
import type { TimingSummary } from '../stats.js';
import { summarize } from '../stats.js';

/**
 * Default runs per visit in table builds and verification: one untimed run brings the graph's
 * weights into the caches and wakes the engine's threads, the second is timed (see warm visits above).
 */
export const DEFAULT_VISIT_RUNS = 2;

/** Default rounds between session renewals in table builds and verification (0 = never renew). */
export const DEFAULT_RENEW_ROUNDS = 10;

/** Progress of a measurement, for a progress bar or a log line. */
export interface ProtocolProgress {
  readonly phase: 'warmup' | 'rounds' | 'remeasure';
  /** Rounds done in this phase. */
  readonly round: number;
  /** Configurations still being measured in this phase. */
  readonly active: number;
  /** Milliseconds since the timer was created. */
  readonly elapsedMs: number;
}

export interface ProtocolOptions {
  /** Untimed runs per configuration before the first timed round (first runs allocate and plan); default 3. */
  warmupRuns?: number;
  /** Rounds every configuration gets; default 10. */
  minRounds?: number;
  /** Most rounds any configuration gets; default 60. */
  maxRounds?: number;
  /** Target relative standard error of each median (0.005 = 0.5%); default 0.005. */
  precision?: number;
  /** Wall-clock budget (ms) after which no further adaptive rounds start; default unlimited. */
  timeBudgetMs?: number;
  /**
   * Runs per visit of a configuration within a round: the first `visitRuns − 1` are untimed (they
   * bring the configuration's weights into the caches and wake the engine's threads after another
   * configuration ran), the last one is timed. Default 1 (cold visits).
   */
  visitRuns?: number;
  /**
   * Configurations that run in every round, also after the others have reached their precision: the
   * references of paired comparisons (`paired`). Ids not registered (yet) are ignored.
   */
  anchors?: readonly string[];
  /**
   * Called before every timed round with the round's number (0, 1, …): the place to renew engine
   * sessions (`SessionPool.recycle`). Not called before warm-up runs.
   */
  beforeRound?: (round: number) => Promise<void>;
  /**
   * Back-to-back runs each timed sample spans (the sample is their total time divided by them), after
   * the visit's untimed runs; default 1. `chooseRunsPerSample` sets it from the clock's resolution.
   */
  runsPerSample?: number;
  /** Called right before every timed run, untimed (e.g. `youngGarbageCollector()`). */
  beforeTimedRun?: () => void;
  /** Seed of the per-round shuffle; default 0. */
  seed?: number;
  /** Clock in milliseconds; default `performance.now`. Injected by tests. */
  clock?: () => number;
  onProgress?: (progress: ProtocolProgress) => void;
}

/**
 * Times a set of configurations with the interleaved protocol. Add configurations, then `warmup()`,
 * `rounds()` / `untilPrecise()`, and read `summary(id)`. Samples are kept, so a later
 * re-measurement (e.g. of monotonicity violators) adds to them.
 */
export class InterleavedTimer {
  private readonly runs = new Map<string, () => Promise<void>>();
  private readonly samples = new Map<string, number[]>();
  /** Round number of each sample, parallel to `samples`. */
  private readonly sampleRounds = new Map<string, number[]>();
  private roundCount = 0;
  private readonly anchors: readonly string[];
  private readonly beforeRound?: (round: number) => Promise<void>;
  private readonly beforeTimedRun?: () => void;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly start: number;
  readonly warmupRuns: number;
  readonly minRounds: number;
  readonly maxRounds: number;
  readonly precision: number;
  readonly timeBudgetMs: number;
  readonly visitRuns: number;
  private runsPerSampleValue: number;
  private readonly onProgress?: (progress: ProtocolProgress) => void;

  constructor(options: ProtocolOptions = {}) {
    this.clock = options.clock ?? (() => performance.now());
    this.random = seededRandom(options.seed ?? 0);
    this.warmupRuns = options.warmupRuns ?? 3;
    this.minRounds = options.minRounds ?? 10;
    this.maxRounds = Math.max(this.minRounds, options.maxRounds ?? 60);
    this.precision = options.precision ?? 0.005;
    this.timeBudgetMs = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
    this.visitRuns = options.visitRuns ?? 1;
    this.runsPerSampleValue = options.runsPerSample ?? 1;
    this.anchors = options.anchors ?? [];
    this.beforeRound = options.beforeRound;
    this.beforeTimedRun = options.beforeTimedRun;
    if (!Number.isInteger(this.visitRuns) || this.visitRuns < 1)
      throw new MeasurementError(`visitRuns must be an integer >= 1, got ${this.visitRuns}`);
    if (!Number.isInteger(this.runsPerSampleValue) || this.runsPerSampleValue < 1)
      throw new MeasurementError(`runsPerSample must be an integer >= 1, got ${this.runsPerSampleValue}`);
    if (!Number.isInteger(this.warmupRuns) || this.warmupRuns < 0)
      throw new MeasurementError(`warmupRuns must be an integer >= 0, got ${this.warmupRuns}`);
    if (!Number.isInteger(this.minRounds) || this.minRounds < 1)
      throw new MeasurementError(`minRounds must be an integer >= 1, got ${this.minRounds}`);
    if (!(this.precision > 0)) throw new MeasurementError(`precision must be > 0, got ${this.precision}`);
    this.onProgress = options.onProgress;
    this.start = this.clock();
  }

  /** Registers a configuration; `run` performs one inference with preallocated inputs. */
  add(id: string, run: () => Promise<void>): void {
    if (this.runs.has(id)) throw new MeasurementError(`configuration "${id}" is already registered`);
    this.runs.set(id, run);
    this.samples.set(id, []);
    this.sampleRounds.set(id, []);
  }

  /** Back-to-back runs per timed sample (`ProtocolOptions.runsPerSample`, or as `chooseRunsPerSample` set it). */
  get runsPerSample(): number {
    return this.runsPerSampleValue;
  }

  /**
   * Sets `runsPerSample` so that a sample of the fastest configuration spans at least `minSampleMs`:
   * each configuration runs back to back (untimed as samples) until `minSampleMs` has passed, its
   * time per run is that span over the runs, and the fastest decides. Call after `warmup()` and
   * before the first timed round (every sample of a table uses one count). At most `maxRuns`.
   */
  async chooseRunsPerSample(minSampleMs: number, maxRuns = 1000): Promise<number> {
    if (this.roundCount > 0) throw new MeasurementError('chooseRunsPerSample must come before the first timed round');
    if (!(minSampleMs > 0)) throw new MeasurementError(`minSampleMs must be > 0, got ${minSampleMs}`);
    let fastest = Number.POSITIVE_INFINITY;
    for (const id of this.ids()) {
      const run = this.runOf(id);
      const t0 = this.clock();
      let runs = 0;
      let span = 0;
      while (span < minSampleMs && runs < maxRuns) {
        await run();
        runs++;
        span = this.clock() - t0;
      }
      fastest = Math.min(fastest, span / runs);
    }
    this.runsPerSampleValue = fastest > 0 ? Math.min(maxRuns, Math.max(1, Math.ceil(minSampleMs / fastest))) : maxRuns;
    return this.runsPerSampleValue;
  }

  /** Registered configuration ids, in registration order. */
  ids(): string[] {
    return [...this.runs.keys()];
  }

  elapsedMs(): number {
    return this.clock() - this.start;
  }

  /** Untimed runs, interleaved like the timed rounds. */
  async warmup(ids: readonly string[] = this.ids()): Promise<void> {
    for (let r = 0; r < this.warmupRuns; r++) {
      for (const id of this.shuffled(ids)) await this.runOf(id)();
      this.onProgress?.({ phase: 'warmup', round: r + 1, active: ids.length, elapsedMs: this.elapsedMs() });
    }
  }

  /** `count` timed rounds over `ids` (default: all) and the anchors. */
  async rounds(count: number, ids: readonly string[] = this.ids(), phase: ProtocolProgress['phase'] = 'rounds'): Promise<void> {
    const active = this.withAnchors(ids);
    for (let r = 0; r < count; r++) {
      await this.round(active);
      this.onProgress?.({ phase, round: r + 1, active: ids.length, elapsedMs: this.elapsedMs() });
    }
  }

  /**
   * Rounds until every configuration in `ids` has `minRounds` samples and a relative standard error
   * ≤ `precision`, or `maxRounds` samples, or the time budget is spent. Returns the ids that got
   * rounds beyond the minimum ("re-measured").
   */
  async untilPrecise(ids: readonly string[] = this.ids()): Promise<string[]> {
    const extra = new Set<string>();
    let round = 0;
    for (;;) {
      const needMin = ids.filter((id) => this.samplesRef(id).length < this.minRounds);
      const imprecise = ids.filter((id) => {
        const n = this.samplesRef(id).length;
        return n >= this.minRounds && n < this.maxRounds && summarize(this.samplesRef(id)).relativeError > this.precision;
      });
      if (needMin.length === 0 && imprecise.length === 0) break;
      if (needMin.length === 0 && this.elapsedMs() > this.timeBudgetMs) break;
      for (const id of imprecise) extra.add(id);
      const active = this.withAnchors([...needMin, ...imprecise]);
      await this.round(active);
      round++;
      this.onProgress?.({ phase: needMin.length > 0 ? 'rounds' : 'remeasure', round, active: active.length, elapsedMs: this.elapsedMs() });
    }
    return ids.filter((id) => extra.has(id));
  }

  /**
   * Paired comparison of `id` with `base` over the rounds that timed both: the summary of the
   * per-round differences (`id − base`) or ratios (`base / id`, a speedup). `relativeError` is
   * relative to the absolute median.
   */
  paired(id: string, base: string, kind: 'difference' | 'ratio'): TimingSummary {
    const values = this.pairedValues(id, base, kind);
    const m = median(values);
    const sigma = 1.4826 * medianAbsoluteDeviation(values);
    const dispersion = m !== 0 ? sigma / Math.abs(m) : 0;
    return { median: m, dispersion, relativeError: (1.2533 * dispersion) / Math.sqrt(values.length), samples: values.length };
  }

  /**
   * The per-round differences (`id − base`) or ratios (`base / id`) behind `paired`, one per round
   * that timed both, in round order: the distribution an interval of the comparison is taken from.
   */
  pairedValues(id: string, base: string, kind: 'difference' | 'ratio'): number[] {
    const a = this.samplesRef(id);
    const ra = this.sampleRounds.get(id)!;
    const b = this.samplesRef(base);
    const rb = this.sampleRounds.get(base)!;
    const byRound = new Map<number, number>();
    for (let i = 0; i < b.length; i++) byRound.set(rb[i]!, b[i]!);
    const values: number[] = [];
    for (let i = 0; i < a.length; i++) {
      const other = byRound.get(ra[i]!);
      if (other === undefined) continue;
      values.push(kind === 'difference' ? a[i]! - other : other / a[i]!);
    }
    if (values.length === 0) throw new MeasurementError(`configurations "${id}" and "${base}" were never timed in the same round`);
    return values;
  }

  summary(id: string): TimingSummary {
    const s = this.samplesRef(id);
    if (s.length === 0) throw new MeasurementError(`configuration "${id}" has no samples`);
    return summarize(s);
  }

  /** A copy of the samples (ms) of a configuration, in measurement order. */
  samplesOf(id: string): number[] {
    return [...this.samplesRef(id)];
  }

  private samplesRef(id: string): number[] {
    const s = this.samples.get(id);
    if (!s) throw new MeasurementError(`unknown configuration "${id}"`);
    return s;
  }

  private runOf(id: string): () => Promise<void> {
    const run = this.runs.get(id);
    if (!run) throw new MeasurementError(`unknown configuration "${id}"`);
    return run;
  }

  private withAnchors(ids: readonly string[]): string[] {
    const out = [...ids];
    for (const id of this.anchors) if (this.runs.has(id) && !out.includes(id)) out.push(id);
    return out;
  }

  private async round(ids: readonly string[]): Promise<void> {
    const round = this.roundCount++;
    await this.beforeRound?.(round);
    for (const id of this.shuffled(ids)) {
      const run = this.runOf(id);
      for (let v = 1; v < this.visitRuns; v++) await run();
      this.beforeTimedRun?.();
      const t0 = this.clock();
      for (let r = 0; r < this.runsPerSampleValue; r++) await run();
      const t1 = this.clock();
      this.samples.get(id)!.push((t1 - t0) / this.runsPerSampleValue);
      this.sampleRounds.get(id)!.push(round);
    }
  }

  /** Fisher–Yates with the seeded generator. */
  private shuffled(ids: readonly string[]): string[] {
    const out = [...ids];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/**
 * The resolution (ms) of a clock: the median step between consecutive distinct readings over
 * `steps` steps. Browsers coarsen `performance.now()` and add jitter to the step boundaries, so the
 * smallest step can be far below the nominal one; the median is the step a timing actually sees.
 * Throws MeasurementError when the clock does not advance within `maxReadings` readings.
 */
export function measureTimerResolution(clock: () => number = () => performance.now(), steps = 21, maxReadings = 10_000_000): number {
  const deltas: number[] = [];
  let previous = clock();
  let readings = 0;
  while (deltas.length < steps) {
    const now = clock();
    if (++readings > maxReadings) throw new MeasurementError(`the clock did not advance in ${maxReadings} readings`);
    if (now !== previous) {
      if (now > previous) deltas.push(now - previous);
      previous = now;
    }
  }
  return median(deltas);
}
