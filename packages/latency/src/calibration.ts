// Calibration of a latency table against the models the search chose (guide: latency tables,
// apps/docs/guide/latency.md). Why: the search does not pick levels at random. Among many noisy level
// times it picks the ones that look cheapest for their error, so the levels it lands on are, on
// average, the ones whose time was measured too low (a winner's curse), and the more modules sit at
// small, imprecisely timed levels (high targets), the larger that bias. A calibration fitted on
// random models cannot see it: random models pick levels regardless of their measured noise. The
// members themselves can: once verified, each member is a whole model measured against the dense
// model in one session (a ratio, so device drift between the table build and the verification
// cancels), at exactly the configurations the search produces.
//
// The correction is one of a few simple models of the whole-model time,
//   T = rest + scale · Σ level times + offset · (present modules),
// fitted by least squares on relative errors. A fit is only kept when it predicts members it was
// not fitted on better than the table does: leave-one-out, each member is predicted by the fit on
// the others, and the candidate with the lowest held-out error wins, if it beats the uncalibrated
// table's error. With few or contradictory members (noise, a change the model cannot describe) the
// table stays as it is.

import { SearchError } from './errors.js';
import { nonPrunableTime, referenceTime } from './runtime.js';
import type { LatencyTable, LevelTime } from './table.js';

/** A pruned model whose speedup over the dense model was measured (e.g. a verified member). */
export interface MeasuredMember {
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
  /** dense / member time, from per-round ratios in one session (so drift of the device cancels). */
  readonly measuredSpeedup: number;
}

/** The correction models, from the simplest: none, a factor on level times, a factor and a fixed cost per present module. */
export type MemberCalibrationModel = 'none' | 'scale' | 'scale+offset';

/** The outcome of `calibrateToMembers`. */
export interface MemberCalibration {
  /** The model kept: `'none'` when no fit predicted held-out members better than the table. */
  readonly model: MemberCalibrationModel;
  /** Factor on every present level time (1 with `'none'`). */
  readonly scale: number;
  /** Milliseconds added to every present level after `scale` (0 unless `'scale+offset'`). */
  readonly offset: number;
  /** Members the fit used. */
  readonly members: number;
  /** Root mean square of measured / predicted time − 1 (≈ predicted / measured speedup − 1) over the members, with the table as it is. */
  readonly uncalibratedError: number;
  /** The same for each candidate fit, each member predicted by the fit on the other members (leave-one-out). */
  readonly heldOutError: Readonly<Partial<Record<Exclude<MemberCalibrationModel, 'none'>, number>>>;
  /** The same, in-sample, for the kept model (equals `uncalibratedError` with `'none'`). */
  readonly error: number;
  /** Why this model was kept, for logs and reports. */
  readonly reason: string;
}

/** Scale bounds of a plausible correction: a table off by more than a factor of 2 points at a broken measurement. */
const SCALE_RANGE: readonly [number, number] = [0.5, 2];

/** One whole model: what the table adds up for it and what was measured. */
export interface WholeModelPoint {
  /** Σ level times of the member under the table (ms). */
  readonly sum: number;
  /** Present (kept > 0) modules. */
  readonly modules: number;
  /** Measured whole-model time in the table's units: reference (the dense model, FP32) / measured speedup (ms). */
  readonly time: number;
}

function timeOf(levels: readonly LevelTime[], kept: number, module: string): number {
  const level = levels.find((l) => l.kept === kept);
  if (!level) throw new SearchError(`a measured member keeps ${kept} of a ${module} module, a level the latency table does not have`);
  return level.time;
}

function pointOf(table: LatencyTable, member: MeasuredMember): WholeModelPoint {
  const L = table.model.numLayers;
  if (member.layerHeads.length !== L || member.layerIntermediate.length !== L)
    throw new SearchError(`a measured member has ${member.layerHeads.length} layers, the latency table ${L}`);
  if (!(member.measuredSpeedup > 0)) throw new SearchError(`a measured speedup must be > 0, got ${member.measuredSpeedup}`);
  let sum = 0;
  let modules = 0;
  for (let l = 0; l < L; l++) {
    sum += timeOf(table.attention, member.layerHeads[l]!, 'attention') + timeOf(table.ffn, member.layerIntermediate[l]!, 'FFN');
    modules += (member.layerHeads[l]! > 0 ? 1 : 0) + (member.layerIntermediate[l]! > 0 ? 1 : 0);
  }
  return { sum, modules, time: referenceTime(table) / member.measuredSpeedup };
}

type Fit = { scale: number; offset: number };

/**
 * Least squares on relative errors: minimises Σ ((rest + scale·sum + offset·modules − time) / time)².
 * A relative error of the time is (to first order) the relative error of the speedup it predicts.
 */
function fit(points: readonly WholeModelPoint[], rest: number, model: Exclude<MemberCalibrationModel, 'none'>): Fit {
  let xx = 0;
  let xy = 0;
  let yy = 0;
  let xm = 0;
  let ym = 0;
  for (const p of points) {
    const x = p.sum / p.time;
    const y = p.modules / p.time;
    const m = (p.time - rest) / p.time;
    xx += x * x;
    xy += x * y;
    yy += y * y;
    xm += x * m;
    ym += y * m;
  }
  const scaleOnly = { scale: xx > 0 ? xm / xx : 1, offset: 0 };
  if (model === 'scale') return scaleOnly;
  const det = xx * yy - xy * xy;
  if (!(Math.abs(det) > 1e-9 * xx * yy)) return scaleOnly; // members with proportional sums and module counts: no offset to tell apart
  return { scale: (xm * yy - ym * xy) / det, offset: (ym * xx - xm * xy) / det };
}

/** predicted / measured speedup − 1 of one member under a fit: measured time / predicted time − 1. */
function speedupError(p: WholeModelPoint, rest: number, f: Fit): number {
  return p.time / (rest + f.scale * p.sum + f.offset * p.modules) - 1;
}

const rms = (values: readonly number[]) => Math.sqrt(values.reduce((a, v) => a + v * v, 0) / Math.max(1, values.length));

/** What `selectCalibration` decides for a set of whole models (the fields of `MemberCalibration`). */
export type CalibrationChoice = Omit<MemberCalibration, 'members'>;

/**
 * The correction to keep for whole models measured at `points` (`rest`: the non-prunable time,
 * `smallest`: the smallest present level time, both ms): each candidate (`'scale'` from 3 points,
 * `'scale+offset'` from 4) is fitted leaving each point out in turn and scored on the point left
 * out (`candidates`: which of them to try); the candidate with the lowest held-out RMS error is kept if it beats the uncalibrated RMS
 * error and every fit is plausible (scale in [0.5, 2], every present level still positive).
 * Shared by `calibrateToMembers` and the table build's whole-model calibration.
 */
export function selectCalibration(
  points: readonly WholeModelPoint[],
  rest: number,
  smallest: number,
  candidates: ReadonlyArray<Exclude<MemberCalibrationModel, 'none'>> = ['scale', 'scale+offset'],
): CalibrationChoice {
  const none: Fit = { scale: 1, offset: 0 };
  const uncalibratedError = rms(points.map((p) => speedupError(p, rest, none)));
  const plausible = (f: Fit) => f.scale >= SCALE_RANGE[0] && f.scale <= SCALE_RANGE[1] && f.scale * smallest + f.offset > 0;
  const heldOutError: Partial<Record<Exclude<MemberCalibrationModel, 'none'>, number>> = {};
  let best: { model: Exclude<MemberCalibrationModel, 'none'>; heldOut: number; fit: Fit } | undefined;
  for (const model of candidates) {
    // Leave-one-out needs one more point than the fit has parameters.
    if (points.length < (model === 'scale' ? 2 : 3) + 1) continue;
    // A candidate whose fit on some subset is implausible cannot be trusted on the others either.
    const heldOut: number[] = [];
    let trusted = true;
    for (let i = 0; i < points.length && trusted; i++) {
      const f = fit(
        points.filter((_, j) => j !== i),
        rest,
        model,
      );
      trusted = plausible(f);
      heldOut.push(speedupError(points[i]!, rest, f));
    }
    const full = fit(points, rest, model);
    if (!trusted || !plausible(full)) continue;
    heldOutError[model] = rms(heldOut);
    if (!best || heldOutError[model]! < best.heldOut) best = { model, heldOut: heldOutError[model]!, fit: full };
  }
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  if (!best || !(best.heldOut < uncalibratedError)) {
    return {
      model: 'none',
      ...none,
      uncalibratedError,
      heldOutError,
      error: uncalibratedError,
      reason:
        points.length < 3
          ? `${points.length} measured model(s): at least 3 are needed to test a fit on held-out models`
          : best
            ? `no fit predicts held-out models better than the table (${best.model}: ${pct(best.heldOut)} vs ${pct(uncalibratedError)})`
            : 'no plausible fit (scale outside [0.5, 2] or a level time not positive)',
    };
  }
  return {
    model: best.model,
    ...best.fit,
    uncalibratedError,
    heldOutError,
    error: rms(points.map((p) => speedupError(p, rest, best.fit))),
    reason: `${best.model} predicts held-out models to ${pct(best.heldOut)} (RMS), the table to ${pct(uncalibratedError)}`,
  };
}

/** The smallest present level time of a table (ms): an offset must keep it positive. */
function smallestLevel(table: LatencyTable): number {
  return Math.min(...[...table.attention, ...table.ffn].filter((l) => l.kept > 0).map((l) => l.time));
}

/**
 * Fits a correction of the table's level times to members whose speedups were measured, and keeps
 * it only when it predicts held-out members better than the table (see the module comment and
 * `selectCalibration`). Apply it with `applyMemberCalibration`.
 */
export function calibrateToMembers(table: LatencyTable, members: readonly MeasuredMember[]): MemberCalibration {
  const points = members.map((m) => pointOf(table, m));
  return { ...selectCalibration(points, nonPrunableTime(table), smallestLevel(table)), members: points.length };
}

/**
 * The table with a member calibration applied: every present level becomes scale · time + offset
 * (removed modules still cost 0), and `blockTiming.scale` / `offset` compose with what the table
 * already had, so the result describes itself and stays schema-valid. `'none'` returns the table.
 */
export function applyMemberCalibration(table: LatencyTable, calibration: MemberCalibration): LatencyTable {
  if (calibration.model === 'none') return table;
  const { scale, offset } = calibration;
  const apply = (levels: readonly LevelTime[]) => levels.map((l) => (l.kept > 0 ? { ...l, time: scale * l.time + offset } : l));
  const composedOffset = scale * (table.blockTiming.offset ?? 0) + offset;
  return {
    ...table,
    blockTiming: {
      ...table.blockTiming,
      scale: scale * table.blockTiming.scale,
      ...(composedOffset !== 0 ? { offset: composedOffset } : {}),
    },
    attention: apply(table.attention),
    ffn: apply(table.ffn),
  };
}
