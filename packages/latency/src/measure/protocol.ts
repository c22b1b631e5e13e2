// The timing protocol. The machines this runs on are shared 2-core VMs: other processes take a
// core for seconds at a time, clocks drift with thermal and frequency states. The original timed
// each module with 50 warm-up calls and 50 back-to-back repetitions, reporting the mean (method doc
// §5); on a noisy machine a mean is ruined by one slow stretch, and timing configurations one after
// the other lets a slow stretch hit some of them only. So:
//
// - Interleaving: every round runs each configuration once, in a per-round shuffled order, so slow
//   stretches and drift hit all configurations alike, and no configuration always follows the same
//   neighbour. It also mirrors how a block runs inside a model: after other blocks have evicted its
//   weights from the caches, not after itself.
// - Robust statistics: median and MAD-based dispersion (stats.ts), not mean and standard deviation.
// - Adaptive repeats: after a minimum number of rounds, only the configurations whose median is not
//   yet precise enough (relative standard error above `precision`) get more rounds, up to a cap.

import { MeasurementError } from '../errors.js';
import type { TimingSummary } from '../stats.js';
import { seededRandom, summarize } from '../stats.js';

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
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly start: number;
  readonly warmupRuns: number;
  readonly minRounds: number;
  readonly maxRounds: number;
  readonly precision: number;
  readonly timeBudgetMs: number;
  private readonly onProgress?: (progress: ProtocolProgress) => void;

  constructor(options: ProtocolOptions = {}) {
    this.clock = options.clock ?? (() => performance.now());
    this.random = seededRandom(options.seed ?? 0);
    this.warmupRuns = options.warmupRuns ?? 3;
    this.minRounds = options.minRounds ?? 10;
    this.maxRounds = Math.max(this.minRounds, options.maxRounds ?? 60);
    this.precision = options.precision ?? 0.005;
    this.timeBudgetMs = options.timeBudgetMs ?? Number.POSITIVE_INFINITY;
    if (!Number.isInteger(this.warmupRuns) || this.warmupRuns < 0) throw new MeasurementError(`warmupRuns must be an integer >= 0, got ${this.warmupRuns}`);
    if (!Number.isInteger(this.minRounds) || this.minRounds < 1) throw new MeasurementError(`minRounds must be an integer >= 1, got ${this.minRounds}`);
    if (!(this.precision > 0)) throw new MeasurementError(`precision must be > 0, got ${this.precision}`);
    this.onProgress = options.onProgress;
    this.start = this.clock();
  }

  /** Registers a configuration; `run` performs one inference with preallocated inputs. */
  add(id: string, run: () => Promise<void>): void {
    if (this.runs.has(id)) throw new MeasurementError(`configuration "${id}" is already registered`);
    this.runs.set(id, run);
    this.samples.set(id, []);
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

  /** `count` timed rounds over `ids` (default: all). */
  async rounds(count: number, ids: readonly string[] = this.ids(), phase: ProtocolProgress['phase'] = 'rounds'): Promise<void> {
    for (let r = 0; r < count; r++) {
      await this.round(ids);
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
      const active = [...needMin, ...imprecise];
      await this.round(active);
      round++;
      this.onProgress?.({ phase: needMin.length > 0 ? 'rounds' : 'remeasure', round, active: active.length, elapsedMs: this.elapsedMs() });
    }
    return ids.filter((id) => extra.has(id));
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

  private async round(ids: readonly string[]): Promise<void> {
    for (const id of this.shuffled(ids)) {
      const run = this.runOf(id);
      const t0 = this.clock();
      await run();
      const t1 = this.clock();
      this.samples.get(id)!.push(t1 - t0);
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
