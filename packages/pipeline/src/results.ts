// What a run found, as plain data: written to `results.json` in the run directory, rendered into
// `report.md` and the SVG plots, and read back by `ziplm report`.

/** How a member was obtained. */
export type PruningMethod =
  /** ZipLM: structured OBS database + latency-constrained DP search (method doc §2–§6). */
  | 'ziplm'
  /** Baseline: keep the structures with the largest L2 weight norm, no weight update; same table and search. */
  | 'magnitude'
  /** Baseline: the same head count and FFN size in every layer (OBS weights), the best such pair. */
  | 'uniform';

/** The task metric of a run. */
export interface MetricInfo {
  /** e.g. 'accuracy', 'f1', 'perplexity', 'agreement'. */
  readonly name: string;
  /** Human-readable label with its dataset, e.g. 'SST-2 dev accuracy (%)'. */
  readonly label: string;
  readonly higherIsBetter: boolean;
}

/** One pruned model of a family. */
export interface MemberResult {
  readonly method: PruningMethod;
  /**
   * A variant name when a run compares settings of the same method (e.g. 'no token distillation');
   * absent for the main setting.
   */
  readonly variant?: string;
  /** Speedup target (relative to the dense model). */
  readonly target: number;
  /** Speedup predicted by the latency table for the chosen levels. */
  readonly predictedSpeedup: number;
  /**
   * The speedup the search was asked for, when it differs from `target`: after a measured speedup
   * missed the target by more than the tolerance, the member was searched again with the search
   * target scaled by target / measured (one-shot `retarget`). Absent when it equals `target`.
   */
  readonly searchTarget?: number;
  /** Earlier versions of this member that were measured and replaced by a re-search, oldest first. */
  readonly attempts?: readonly MemberAttempt[];
  /** Speedup measured by re-timing the exported model (absent when verification was skipped). */
  readonly measuredSpeedup?: number;
  /** measured / target − 1. */
  readonly deviation?: number;
  /** 'pass' when the measured speedup is within tolerance of the target or above it. */
  readonly status?: 'pass' | 'fail';
  /** What re-timing found besides the measured speedup (absent when verification was skipped, or in older runs). */
  readonly verification?: MemberVerification;
  /** Task metric of this member (absent when evaluation was skipped). */
  readonly metric?: number;
  /** Sum of the chosen levels' layer-wise errors (the DP objective). */
  readonly searchError: number;
  /**
   * How the levels were chosen: the plain DP over layer-wise errors, or SPDY (method doc §6.3), which
   * scores DP solutions by the calibration task loss; `plainLoss` is that loss for the plain DP
   * solution, `loss` for the chosen one.
   */
  readonly search?: { readonly procedure: 'dp' | 'spdy'; readonly plainLoss?: number; readonly loss?: number; readonly evaluations?: number };
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
  /** Parameters of the encoder/decoder layers (embeddings and heads excluded), as in the paper's Table 6. */
  readonly layerParameters: number;
  /** Directory of the exported member, relative to the run directory. */
  readonly dir: string;
}

/** A measured version of a member that a re-search replaced (`MemberResult.attempts`). */
export interface MemberAttempt {
  readonly searchTarget: number;
  readonly predictedSpeedup: number;
  readonly measuredSpeedup: number;
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
}

/** The first problem of a member's `attempts`, as in {@link verificationProblem}. */
export function attemptsProblem(value: unknown): { field: string; problem: string } | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return { field: '', problem: `must be an array (got ${JSON.stringify(value)})` };
  for (let i = 0; i < value.length; i++) {
    const a = value[i] as Record<string, unknown> | null;
    if (a === null || typeof a !== 'object' || Array.isArray(a)) return { field: `[${i}]`, problem: 'must be an object' };
    for (const key of ['searchTarget', 'predictedSpeedup', 'measuredSpeedup'] as const) {
      if (typeof a[key] !== 'number' || !Number.isFinite(a[key]) || (a[key] as number) <= 0) return { field: `[${i}].${key}`, problem: `must be a finite number > 0 (got ${JSON.stringify(a[key])})` };
    }
    for (const key of ['layerHeads', 'layerIntermediate'] as const) {
      const v = a[key];
      if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 0)) return { field: `[${i}].${key}`, problem: 'must be an array of counts' };
    }
  }
  return undefined;
}

/** Diagnostics of one member's verification (@ziplm/latency's VerificationReport, kept in the member record). */
export interface MemberVerification {
  /** Relative standard error of the measured speedup (from the per-round dense/member ratios). */
  readonly uncertainty: number;
  /** measured / predicted − 1: how far the latency table's prediction is off for this member. */
  readonly predictionError?: number;
  /**
   * The dense model's median during verification / the latency table's dense median − 1: how far the
   * device drifted since the table was measured (a large drift makes predictions less trustworthy).
   */
  readonly denseDrift?: number;
  /** Median time of the dense model during verification (ms). */
  readonly denseMs: number;
  /** Median time of this member during verification (ms). */
  readonly memberMs: number;
  /** Timing rounds behind the medians. */
  readonly rounds: number;
}

/**
 * The first problem of a member's `verification` (read back from member.json or results.json), as the
 * field below `verification` and what is wrong with it; undefined when it is absent or well-formed.
 */
export function verificationProblem(value: unknown): { field: string; problem: string } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return { field: '', problem: `must be an object (got ${JSON.stringify(value)})` };
  const v = value as Record<string, unknown>;
  const isNumber = (x: unknown) => typeof x === 'number';
  if (!isNumber(v.uncertainty) || !((v.uncertainty as number) >= 0)) return { field: '.uncertainty', problem: `must be a number >= 0 (got ${JSON.stringify(v.uncertainty)})` };
  for (const key of ['predictionError', 'denseDrift'] as const) {
    if (v[key] !== undefined && v[key] !== null && !isNumber(v[key])) return { field: `.${key}`, problem: `must be a number when present (got ${JSON.stringify(v[key])})` };
  }
  for (const key of ['denseMs', 'memberMs'] as const) {
    if (!isNumber(v[key]) || !Number.isFinite(v[key]) || (v[key] as number) <= 0) return { field: `.${key}`, problem: `must be a finite number > 0 (got ${JSON.stringify(v[key])})` };
  }
  if (!Number.isInteger(v.rounds) || (v.rounds as number) < 1) return { field: '.rounds', problem: `must be an integer >= 1 (got ${JSON.stringify(v.rounds)})` };
  return undefined;
}

export interface RunResults {
  readonly format: 'ziplm-run-results';
  readonly version: 1;
  readonly mode: 'oneshot' | 'gradual';
  readonly task: string;
  readonly metric: MetricInfo;
  readonly model: {
    readonly modelType: 'bert' | 'gpt2';
    readonly numLayers: number;
    readonly hiddenSize: number;
    readonly numHeads: number;
    readonly intermediateSize: number;
    readonly layerParameters: number;
  };
  /** One line describing the inference environment of the latency table. */
  readonly environment: string;
  readonly dense: {
    readonly metric?: number;
    /** Median time of the dense model in the table's environment (ms). */
    readonly timeMs: number;
  };
  readonly members: readonly MemberResult[];
  /** Notes the report should show (e.g. "no dataset found: metric is agreement on built-in text"). */
  readonly notes: readonly string[];
  /**
   * Paired comparisons on the same evaluation examples (classification tasks): for each target, a
   * method against the dense model and against the other methods, with McNemar's exact p-value.
   */
  readonly comparisons?: readonly Comparison[];
}

/** `method` vs `baseline` at one target, on the same evaluation examples. */
export interface Comparison {
  readonly target: number;
  readonly method: PruningMethod;
  readonly variant?: string;
  /** 'dense', or another method at the same target. */
  readonly baseline: 'dense' | PruningMethod;
  /** Examples only `method` gets right. */
  readonly wins: number;
  /** Examples only `baseline` gets right. */
  readonly losses: number;
  /** Two-sided exact McNemar p-value. */
  readonly pValue: number;
}
