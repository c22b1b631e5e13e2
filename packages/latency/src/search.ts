// The speedup-constrained search of guide/search.md: choose one level per prunable module so that
// the summed layer-wise error is minimal and the predicted runtime meets the target speedup — a
// multiple-choice knapsack solved by dynamic programming over discretised time (guide/search.md).
//
// Differences from the reference StructuredSPDY.dp, each on purpose:
// - Every module starts from a virtual empty prefix (DP[-1][0] = 0), so the first module goes
//   through the same bounds check as all others: the reference's `DP[0][t_int[0][s]]` indexes out of
//   range when a level of layer 0 is slower than the whole budget (guide/search.md).
// - Times are rounded UP to buckets by default. With round-to-nearest, the discretised sum can sit
//   within budget while the true sum exceeds it by up to ½ bucket per module; rounding up makes
//   Σ t ≤ Σ ⌈t/Δ⌉·Δ ≤ budget, so the predicted speedup on the UNROUNDED times is ≥ the target.
//   Whatever the rounding, the answer is re-checked on unrounded times and the capacity tightened
//   until it holds (this also absorbs floating-point ties).
// - Removed modules (kept 0, time 0) are allowed in every layer (the OBC copy allowed them only in
//   the last layer, guide/search.md).

import type { LayerErrors } from '@ziplm/hessian';
import type { LayerShapes } from '@ziplm/models';
import { InfeasibleTargetError, SearchError } from './errors.js';
import { levelTime, nonPrunableTime, predictRuntime, referenceTime } from './runtime.js';
import type { LatencyTable } from './table.js';

export type { LayerErrors };

/** Options of `searchForSpeedup`. */
export interface SearchOptions {
  /** Target speedup over the dense model (> 0), e.g. 4 for "4x faster"; over the dense FP32 model for an INT8 table. */
  target: number;
  /** Number of time buckets the budget is split into (guide/search.md `dpbuckets`); default 10000. */
  buckets?: number;
  /**
   * Per-module weights of the error (guide/search.md `c_l`), one per entry of `errors`, same
   * order; default all 1 (plain DP). The SPDY refinement searches over these.
   */
  coefficients?: readonly number[];
  /**
   * Current per-layer sizes (gradual mode, guide/search.md): a module offers only levels ≤ its
   * current size, and modules without an entry in `errors` keep their current size (their time is
   * fixed; a module removed earlier costs 0). Default: the dense shape.
   */
  current?: LayerShapes;
  /** Allow removing whole modules (kept 0, error 1 when `errors` lacks that level); default true. */
  allowRemoval?: boolean;
  /** 'up' (default) guarantees the budget by construction; 'nearest' is the reference's rounding, then re-checked. */
  rounding?: 'up' | 'nearest';
}

/** The level chosen for one module. */
export interface ModuleChoice {
  readonly layer: number;
  readonly module: 'attention' | 'ffn';
  /** Kept heads / neurons (0 = removed). */
  readonly kept: number;
  /** The table's time for this level (ms). */
  readonly time: number;
  /** The level's error from `errors` (unweighted). */
  readonly error: number;
}

export interface SearchResult {
  readonly target: number;
  /** Heads kept per layer, ready for `withLayerShapes`. */
  readonly layerHeads: number[];
  /** FFN neurons kept per layer. */
  readonly layerIntermediate: number[];
  /** The chosen level of every searched module, in the order of `errors`. */
  readonly modules: ModuleChoice[];
  /** Predicted time of the whole model on unrounded table times (ms). */
  readonly predictedTime: number;
  /** referenceTime(table) / predictedTime; ≥ target. */
  readonly predictedSpeedup: number;
  /** Σ error of the chosen levels (unweighted). */
  readonly totalError: number;
  /** Σ coefficient·error: what the DP minimised. */
  readonly objective: number;
  /** Time budget of the searched modules (ms): dense/target − non-prunable − fixed modules. */
  readonly budget: number;
  /** Time buckets of the DP; 0 for `searchUniform`, which enumerates exactly. */
  readonly buckets: number;
}

interface Candidate {
  kept: number;
  time: number;
  error: number;
}

interface Prepared {
  modules: Array<{ layer: number; module: 'attention' | 'ffn'; candidates: Candidate[] }>;
  current: LayerShapes;
  /** Non-prunable time plus the time of every module that is not searched. */
  fixedTime: number;
}

function prepare(table: LatencyTable, errors: readonly LayerErrors[], options: Omit<SearchOptions, 'target'>): Prepared {
  const L = table.model.numLayers;
  const current: LayerShapes = options.current ?? {
    layerHeads: new Array<number>(L).fill(table.model.numHeads),
    layerIntermediate: new Array<number>(L).fill(table.model.intermediateSize),
  };
  if (current.layerHeads.length !== L || current.layerIntermediate.length !== L) {
    throw new SearchError(
      `current shapes have ${current.layerHeads.length}/${current.layerIntermediate.length} layers, the latency table is for ${L}`,
    );
  }
  if (options.coefficients && options.coefficients.length !== errors.length) {
    throw new SearchError(`coefficients has ${options.coefficients.length} entries, errors has ${errors.length} modules`);
  }
  const allowRemoval = options.allowRemoval ?? true;
  const searched = new Set<string>();
  const modules: Prepared['modules'] = [];
  errors.forEach((entry, i) => {
    const where = `errors[${i}] (layer ${entry.layer} ${entry.module})`;
    if (!Number.isInteger(entry.layer) || entry.layer < 0 || entry.layer >= L)
      throw new SearchError(`${where}: layer must be an integer in [0, ${L}), got ${entry.layer}`);
    if (entry.module !== 'attention' && entry.module !== 'ffn')
      throw new SearchError(`${where}: module must be "attention" or "ffn", got ${JSON.stringify(entry.module)}`);
    const key = `${entry.layer}/${entry.module}`;
    if (searched.has(key)) throw new SearchError(`${where}: duplicate module`);
    searched.add(key);
    const cap = entry.module === 'attention' ? current.layerHeads[entry.layer]! : current.layerIntermediate[entry.layer]!;
    const c = options.coefficients?.[i] ?? 1;
    if (!Number.isFinite(c) || c < 0) throw new SearchError(`coefficients[${i}] must be a finite number >= 0, got ${c}`);
    const candidates: Candidate[] = [];
    const seen = new Set<number>();
    for (const level of entry.levels) {
      if (!Number.isInteger(level.kept) || level.kept < 0)
        throw new SearchError(`${where}: kept must be an integer >= 0, got ${level.kept}`);
      if (!Number.isFinite(level.error)) throw new SearchError(`${where}: error of kept ${level.kept} must be finite, got ${level.error}`);
      if (seen.has(level.kept)) throw new SearchError(`${where}: duplicate level kept ${level.kept}`);
      seen.add(level.kept);
      if (level.kept > cap) continue; // gradual mode: a shrunk module only offers smaller levels
      if (level.kept === 0 && !allowRemoval) continue;
      candidates.push({ kept: level.kept, time: levelTime(table, entry.module, level.kept, where), error: level.error });
    }
    // A removed module's output is zero, so its relative error is 1 by definition (guide/structured-obs.md).
    if (allowRemoval && !seen.has(0)) candidates.push({ kept: 0, time: 0, error: 1 });
    if (candidates.length === 0) {
      throw new SearchError(`${where}: no level <= the current size ${cap}${allowRemoval ? '' : ' (removal disallowed)'}`);
    }
    modules.push({ layer: entry.layer, module: entry.module, candidates });
  });
  let fixedTime = nonPrunableTime(table);
  for (let l = 0; l < L; l++) {
    for (const module of ['attention', 'ffn'] as const) {
      if (searched.has(`${l}/${module}`)) continue;
      const kept = module === 'attention' ? current.layerHeads[l]! : current.layerIntermediate[l]!;
      fixedTime += levelTime(table, module, kept, `layer ${l} (not searched, current size)`);
    }
  }
  return { modules, current, fixedTime };
}

function shapesOf(prepared: Prepared, picks: readonly number[]): LayerShapes & { layerHeads: number[]; layerIntermediate: number[] } {
  const layerHeads = [...prepared.current.layerHeads];
  const layerIntermediate = [...prepared.current.layerIntermediate];
  prepared.modules.forEach((m, i) => {
    const kept = m.candidates[picks[i]!]!.kept;
    if (m.module === 'attention') layerHeads[m.layer] = kept;
    else layerIntermediate[m.layer] = kept;
  });
  return { layerHeads, layerIntermediate };
}

/**
 * Multiple-choice knapsack DP over discretised times (guide/search.md). `tint[m][s]` are integer
 * bucket counts, `cost[m][s]` the weighted errors; returns the level index per module of the
 * minimum-cost selection with Σ tint ≤ capacity, or undefined when none exists. Ties go to the
 * smaller total time.
 */
export function knapsackDp(
  tint: readonly (readonly number[])[],
  cost: readonly (readonly number[])[],
  capacity: number,
): number[] | undefined {
  const M = tint.length;
  const C = capacity;
  if (M === 0) return [];
  if (C < 0) return undefined;
  // DP over "total discretised time exactly b", starting from the empty prefix (b = 0, cost 0).
  let prev = new Float64Array(C + 1).fill(Number.POSITIVE_INFINITY);
  prev[0] = 0;
  let cur = new Float64Array(C + 1);
  const choice: Int16Array[] = [];
  for (let m = 0; m < M; m++) {
    cur.fill(Number.POSITIVE_INFINITY);
    const pick = new Int16Array(C + 1).fill(-1);
    const ts = tint[m]!;
    const cs = cost[m]!;
    for (let s = 0; s < ts.length; s++) {
      const t = ts[s]!;
      const c = cs[s]!;
      // The guard the reference lacks for layer 0: a level slower than the whole budget never fits.
      if (t > C) continue;
      for (let b = t; b <= C; b++) {
        const cand = prev[b - t]! + c;
        if (cand < cur[b]!) {
          cur[b] = cand;
          pick[b] = s;
        }
      }
    }
    choice.push(pick);
    [prev, cur] = [cur, prev];
  }
  let best = -1;
  for (let b = 0; b <= C; b++) if (prev[b]! < (best < 0 ? Number.POSITIVE_INFINITY : prev[best]!)) best = b;
  if (best < 0) return undefined;
  const picks = new Array<number>(M);
  let b = best;
  for (let m = M - 1; m >= 0; m--) {
    const s = choice[m]![b]!;
    picks[m] = s;
    b -= tint[m]![s]!;
  }
  return picks;
}

/** Options of `solveKnapsack`. */
export interface KnapsackOptions {
  /** Buckets the budget is split into (guide/search.md `dpbuckets`). */
  buckets: number;
  /** 'up': ⌈t/Δ⌉ (Σ of unrounded times ≤ budget by construction); 'nearest': the reference's round(t/Δ). */
  rounding: 'up' | 'nearest';
  /**
   * Final say on a candidate (default: Σ unrounded times ≤ budget). A rejected candidate makes the
   * solver tighten its capacity by the overshoot (at least one bucket) and solve again.
   */
  accept?: (picks: number[]) => boolean;
}

/**
 * Minimum-cost choice of one level per module with Σ times ≤ budget on UNROUNDED times
 * (guide/search.md): discretise with bucket Δ = budget / buckets, run `knapsackDp`, re-check, tighten.
 * Returns level indices per module, or undefined when no choice fits.
 */
export function solveKnapsack(
  times: readonly (readonly number[])[],
  costs: readonly (readonly number[])[],
  budget: number,
  options: KnapsackOptions,
): number[] | undefined {
  if (!(budget >= 0)) return undefined;
  const { buckets, rounding } = options;
  const total = (picks: number[]) => picks.reduce((sum, s, m) => sum + times[m]![s]!, 0);
  const accept = options.accept ?? ((picks: number[]) => total(picks) <= budget);
  const bucketSize = budget / buckets;
  const tint = times.map((ts) =>
    ts.map((t) => {
      // Budget 0: only zero-time levels fit.
      if (budget === 0) return t > 0 ? buckets + 1 : 0;
      const q = t / bucketSize;
      // `q - 1e-9`: an exact multiple of the bucket must not be pushed up one bucket by float noise
      // (the unrounded re-check below still guarantees the budget).
      return rounding === 'up' ? Math.max(0, Math.ceil(q - 1e-9)) : Math.round(q);
    }),
  );
  let capacity = buckets;
  while (capacity >= 0) {
    const picks = knapsackDp(tint, costs, capacity);
    if (!picks) return undefined;
    if (accept(picks)) return picks;
    // Over budget on unrounded times: tighten by the overshoot, at least one bucket.
    const overshoot = total(picks) - budget;
    capacity -= Math.max(1, Math.ceil(overshoot / bucketSize));
  }
  return undefined;
}

/**
 * The largest predicted speedup reachable: every searched module at its fastest allowed level
 * (guide/search.md "max achievable target").
 */
export function maxAchievableSpeedup(
  table: LatencyTable,
  errors: readonly LayerErrors[],
  options: Omit<SearchOptions, 'target'> = {},
): number {
  const prepared = prepare(table, errors, options);
  return predictRuntime(table, shapesOf(prepared, fastestPicks(prepared))).speedup;
}

function fastestPicks(prepared: Prepared): number[] {
  return prepared.modules.map((m) => {
    let best = 0;
    m.candidates.forEach((c, s) => {
      if (c.time < m.candidates[best]!.time) best = s;
    });
    return best;
  });
}

/**
 * Minimises Σ c_m·error_m(level_m) subject to the predicted speedup (on unrounded table times)
 * being ≥ `target`. Throws InfeasibleTargetError (naming the maximum achievable speedup) when no
 * allowed configuration reaches the target, SearchError / MissingLevelError for inconsistent input.
 */
export function searchForSpeedup(table: LatencyTable, errors: readonly LayerErrors[], options: SearchOptions): SearchResult {
  const { target } = options;
  if (!(typeof target === 'number' && Number.isFinite(target) && target > 0))
    throw new SearchError(`target speedup must be a finite number > 0, got ${target}`);
  const buckets = options.buckets ?? 10000;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 10_000_000)
    throw new SearchError(`buckets must be an integer in [1, 1e7], got ${buckets}`);
  const prepared = prepare(table, errors, options);
  const reference = referenceTime(table);

  // Budget of the searched modules (guide/search.md `targettime`, minus modules held fixed).
  const budget = reference / target - prepared.fixedTime;
  const fastest = predictRuntime(table, shapesOf(prepared, fastestPicks(prepared)));
  if (budget < 0 || fastest.speedup < target) {
    throw new InfeasibleTargetError(
      target,
      fastest.speedup,
      budget < 0 ? 'the non-prunable part and the modules not searched alone exceed the time budget' : '',
    );
  }

  const coefficients = options.coefficients;
  const cost = prepared.modules.map((m, i) => m.candidates.map((c) => (coefficients?.[i] ?? 1) * c.error));
  const times = prepared.modules.map((m) => m.candidates.map((c) => c.time));
  const evaluate = (picks: number[]) => {
    const shapes = shapesOf(prepared, picks);
    return { picks, shapes, prediction: predictRuntime(table, shapes) };
  };
  // The acceptance test is the speedup itself, computed exactly as `predictRuntime` reports it, so
  // no floating-point difference between "Σ t ≤ budget" and "dense / T ≥ target" can slip through.
  const accept = (picks: number[]) => evaluate(picks).prediction.speedup >= target;
  const rounding = options.rounding ?? 'up';
  // Rounding up can make a barely feasible target (within a bucket per module of the maximum)
  // infeasible on the grid; then try the reference's rounding with the re-check, and finally the
  // fastest configuration, which is feasible on unrounded times (checked above).
  const picks =
    solveKnapsack(times, cost, budget, { buckets, rounding, accept }) ??
    (rounding === 'up' ? solveKnapsack(times, cost, budget, { buckets, rounding: 'nearest', accept }) : undefined) ??
    fastestPicks(prepared);
  const found = evaluate(picks);

  const modules: ModuleChoice[] = prepared.modules.map((m, i) => {
    const c = m.candidates[found.picks[i]!]!;
    return { layer: m.layer, module: m.module, kept: c.kept, time: c.time, error: c.error };
  });
  let totalError = 0;
  let objective = 0;
  modules.forEach((m, i) => {
    totalError += m.error;
    objective += cost[i]![found.picks[i]!]!;
  });
  return {
    target,
    layerHeads: found.shapes.layerHeads,
    layerIntermediate: found.shapes.layerIntermediate,
    modules,
    predictedTime: found.prediction.time,
    predictedSpeedup: found.prediction.speedup,
    totalError,
    objective,
    budget,
    buckets,
  };
}

/** Options of `searchUniform`: the target and the constraints of `searchForSpeedup` that apply to it. */
export type UniformSearchOptions = Pick<SearchOptions, 'target' | 'current' | 'allowRemoval' | 'coefficients'>;

/** A uniform configuration: the kept size shared by every searched module of each type. */
interface UniformCandidate {
  /** Level index per prepared module (as `shapesOf` takes them). */
  picks: number[];
  shapes: LayerShapes & { layerHeads: number[]; layerIntermediate: number[] };
  prediction: ReturnType<typeof predictRuntime>;
  objective: number;
  heads: number;
  intermediate: number;
}

/**
 * Every uniform configuration: one kept head count shared by all searched attention modules and one
 * FFN size shared by all searched FFN modules, from the levels every one of them offers (their
 * errors' levels, all of which the table must time, ≤ the current size; kept 0 when removal is
 * allowed). A module type with no searched module contributes no choice.
 */
function uniformCandidates(table: LatencyTable, prepared: Prepared, coefficients: readonly number[] | undefined): UniformCandidate[] {
  const shared = (module: 'attention' | 'ffn'): number[] | null => {
    const members = prepared.modules.filter((m) => m.module === module);
    if (members.length === 0) return null;
    let common = new Set(members[0]!.candidates.map((c) => c.kept));
    for (const m of members.slice(1)) {
      const offered = new Set(m.candidates.map((c) => c.kept));
      common = new Set([...common].filter((k) => offered.has(k)));
    }
    if (common.size === 0) {
      throw new SearchError(
        `no ${module === 'attention' ? 'kept head count' : 'FFN size'} is offered by every searched ${module} module (their levels, capped by the current sizes, do not intersect)`,
      );
    }
    return [...common].sort((a, b) => b - a);
  };
  const headChoices = shared('attention');
  const ffnChoices = shared('ffn');
  const out: UniformCandidate[] = [];
  for (const heads of headChoices ?? [-1]) {
    for (const intermediate of ffnChoices ?? [-1]) {
      let objective = 0;
      const picks = prepared.modules.map((m, i) => {
        const kept = m.module === 'attention' ? heads : intermediate;
        const s = m.candidates.findIndex((c) => c.kept === kept);
        objective += (coefficients?.[i] ?? 1) * m.candidates[s]!.error;
        return s;
      });
      const shapes = shapesOf(prepared, picks);
      out.push({ picks, shapes, prediction: predictRuntime(table, shapes), objective, heads, intermediate });
    }
  }
  return out;
}

/**
 * The largest predicted speedup a uniform configuration reaches (see `searchUniform`): the fastest
 * shared head count and FFN size.
 */
export function maxUniformSpeedup(
  table: LatencyTable,
  errors: readonly LayerErrors[],
  options: Omit<UniformSearchOptions, 'target'> = {},
): number {
  const candidates = uniformCandidates(table, prepare(table, errors, options), options.coefficients);
  return Math.max(...candidates.map((c) => c.prediction.speedup));
}

/**
 * The uniform per-layer pruning baseline (issue 6, "Baselines and results") under the same latency
 * table and errors as `searchForSpeedup`: every searched layer keeps the same number of heads and
 * the same FFN size, one (heads, FFN) pair from the levels of the table and the errors. Among the
 * pairs whose predicted speedup on unrounded table times is ≥ `target`, it returns the one with the
 * smallest Σ c_m·error_m (ties: the faster one, then more heads, then the larger FFN). The pairs are
 * few (≤ heads+1 times FFN levels+1), so they are enumerated exactly: no time buckets
 * (`buckets` is 0 in the result).
 *
 * `current` works as in `searchForSpeedup` (gradual mode): a module offers only levels ≤ its current
 * size, so the shared size is at most the smallest current size of its type, and modules without
 * errors keep their current size. Throws InfeasibleTargetError naming the largest uniform speedup
 * when no pair reaches the target, SearchError / MissingLevelError for inconsistent input.
 */
export function searchUniform(table: LatencyTable, errors: readonly LayerErrors[], options: UniformSearchOptions): SearchResult {
  const { target } = options;
  if (!(typeof target === 'number' && Number.isFinite(target) && target > 0))
    throw new SearchError(`target speedup must be a finite number > 0, got ${target}`);
  const prepared = prepare(table, errors, options);
  const candidates = uniformCandidates(table, prepared, options.coefficients);
  const budget = referenceTime(table) / target - prepared.fixedTime;
  let best: UniformCandidate | undefined;
  for (const c of candidates) {
    // The acceptance test of searchForSpeedup: the speedup exactly as predictRuntime reports it.
    if (!(c.prediction.speedup >= target)) continue;
    if (
      !best ||
      c.objective < best.objective ||
      (c.objective === best.objective &&
        (c.prediction.time < best.prediction.time ||
          (c.prediction.time === best.prediction.time &&
            (c.heads > best.heads || (c.heads === best.heads && c.intermediate > best.intermediate)))))
    ) {
      best = c;
    }
  }
  if (!best) {
    const max = Math.max(...candidates.map((c) => c.prediction.speedup));
    throw new InfeasibleTargetError(
      target,
      max,
      budget < 0
        ? 'the non-prunable part and the modules not searched alone exceed the time budget'
        : 'with the same kept head count and FFN size in every layer',
    );
  }
  const chosen = best;
  const modules: ModuleChoice[] = prepared.modules.map((m, i) => {
    const c = m.candidates[chosen.picks[i]!]!;
    return { layer: m.layer, module: m.module, kept: c.kept, time: c.time, error: c.error };
  });
  return {
    target,
    layerHeads: chosen.shapes.layerHeads,
    layerIntermediate: chosen.shapes.layerIntermediate,
    modules,
    predictedTime: chosen.prediction.time,
    predictedSpeedup: chosen.prediction.speedup,
    totalError: modules.reduce((sum, m) => sum + m.error, 0),
    objective: chosen.objective,
    budget,
    buckets: 0,
  };
}
