// One-shot ZipLM (the reference's `oneshot_prune`): latency table → calibration → level database →
// search per target (DP + SPDY) → stitch + shrink → export → score → verify → report. Every stage
// (stages/) writes its output into the run directory and is skipped on a rerun when that output is
// complete.

import type { LevelDatabase, SweepMethod } from '@ziplm/hessian';
import {
  applyMemberCalibration,
  calibrateToMembers,
  InfeasibleTargetError,
  type LatencyTable,
  type MeasuredMember,
  type MemberCalibration,
  predictRuntime,
} from '@ziplm/latency';
import { timingExportOptions } from '@ziplm/latency/measure';
import { exportModelToOnnx } from '@ziplm/models';
import type { RunContext, RunOptions } from './context.js';
import { DEFAULT_RETARGET_ROUNDS, DEFAULT_TOLERANCE, MAX_RETARGET_CORRECTION } from './defaults.js';
import { checkChoice, optionError } from './internal/options.js';
import { stitchModel } from './internal/stitch.js';
import type { CompressionMethod, MemberAttempt, RunResults } from './results.js';
import type { MemberRecord } from './results.js';
import { finishRun, openRun } from './run.js';
import { COMPRESSION_METHODS } from './schemas/member.js';
import { ensureDatabase, layerErrors } from './stages/database.js';
import { verifiesMembers } from './stages/table.js';
import { memberDir, recordDir, resumeMember, saveMember, updateMember } from './stages/members.js';
import { scoreMember } from './stages/score.js';
import { searchLevels } from './stages/search.js';
import { type MeasuredFields, measureSpeedups, retimeInconclusive, verifyPending } from './stages/verify.js';

export interface OneShotOptions extends RunOptions {
  /** Methods to run (default ['ziplm']); 'magnitude' and 'uniform' are the baselines. */
  methods?: readonly CompressionMethod[];
}

/**
 * Whether a measured member calls for a new search: short of its target by more than the tolerance,
 * or above it by more than the tolerance while the table under-predicted it by more than the tolerance.
 */
export function missesTarget(member: Pick<MemberRecord, 'target' | 'predictedSpeedup' | 'measuredSpeedup'>, tolerance: number): boolean {
  const measured = member.measuredSpeedup;
  if (measured === undefined) return false;
  if (measured < member.target * (1 - tolerance)) return true;
  return measured > member.target * (1 + tolerance) && measured > member.predictedSpeedup * (1 + tolerance);
}

/**
 * Whether measured version `candidate` of a member is better than `incumbent` (the one it would
 * replace): one that passes (within the tolerance of the target, or above it) beats one that fails;
 * between two that both pass or both fail, the one closer to the target wins. A tie keeps the
 * incumbent, so a re-search never replaces a member with one measured no better.
 */
export function measuredBetter(
  candidate: Pick<MemberRecord, 'target' | 'measuredSpeedup'>,
  incumbent: Pick<MemberRecord, 'target' | 'measuredSpeedup'>,
  tolerance: number,
): boolean {
  if (candidate.measuredSpeedup === undefined) return false;
  if (incumbent.measuredSpeedup === undefined) return true;
  const passes = (m: number, target: number) => m >= target * (1 - tolerance);
  const candidatePasses = passes(candidate.measuredSpeedup, candidate.target);
  const incumbentPasses = passes(incumbent.measuredSpeedup, incumbent.target);
  if (candidatePasses !== incumbentPasses) return candidatePasses;
  const distance = (m: number, target: number) => Math.abs(m / target - 1);
  return distance(candidate.measuredSpeedup, candidate.target) < distance(incumbent.measuredSpeedup, incumbent.target);
}

/**
 * Whether a member's re-searches have ended before its rounds were used: a re-searched version was
 * measured no better and discarded, or the last search chose the member's own levels again (or found
 * its target out of reach), which records the member itself as the last attempt. Read from the record,
 * so a rerun stops where an uninterrupted run stopped.
 */
function researchesEnded(r: MemberRecord): boolean {
  const last = r.attempts?.at(-1);
  if (last === undefined) return false;
  if (r.attempts!.some((a) => a.discarded)) return true;
  return last.layerHeads.join() === r.layerHeads.join() && last.layerIntermediate.join() === r.layerIntermediate.join();
}

/** The measured version of a member, as an entry of another version's `attempts`. */
function attemptOf(r: MemberRecord): MemberAttempt {
  return {
    searchTarget: r.searchTarget ?? r.target,
    predictedSpeedup: r.predictedSpeedup,
    measuredSpeedup: r.measuredSpeedup!,
    layerHeads: r.layerHeads,
    layerIntermediate: r.layerIntermediate,
  };
}

/**
 * Every whole model of a run whose speedup was measured: each measured member and every version in
 * its `attempts` (replaced and discarded ones alike: each was timed against the dense model). A
 * version recorded twice (an attempt kept beside its unchanged member when a re-search chose the
 * same levels or found the target out of reach) counts once: a duplicate would be its own twin in
 * the calibration's leave-one-out test.
 */
export function measuredMembers(records: readonly MemberRecord[]): MeasuredMember[] {
  const seen = new Set<string>();
  const out: MeasuredMember[] = [];
  const add = (m: MeasuredMember) => {
    const key = `${m.layerHeads.join()}|${m.layerIntermediate.join()}|${m.measuredSpeedup}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ layerHeads: m.layerHeads, layerIntermediate: m.layerIntermediate, measuredSpeedup: m.measuredSpeedup });
  };
  for (const r of records) {
    if (r.measuredSpeedup === undefined) continue;
    add({ layerHeads: r.layerHeads, layerIntermediate: r.layerIntermediate, measuredSpeedup: r.measuredSpeedup });
    for (const a of r.attempts ?? []) add(a);
  }
  return out;
}

/** One line saying which member calibration of the latency table the re-searches used, for the run log and the report's notes. */
export function describeMemberCalibration(calibration: MemberCalibration, researched: number): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const table =
    calibration.model === 'none'
      ? `the latency table as measured (no calibration kept, from ${calibration.members} measured model(s))`
      : `the latency table calibrated to ${calibration.members} measured model(s) (${calibration.model}: scale ${calibration.scale.toFixed(4)}, ` +
        `offset ${(1000 * calibration.offset).toFixed(1)} µs per present module)`;
  const heldOut = Object.entries(calibration.heldOutError)
    .map(([model, e]) => `${model} ${pct(e)}`)
    .join(', ');
  return (
    `Re-search of ${researched} member(s) with ${table}; RMS prediction error on them: table ${pct(calibration.uncalibratedError)}, ` +
    `held out ${heldOut || 'not tested'}; ${calibration.reason}.`
  );
}

/** Runs one-shot ZipLM and returns the results (also written to the run directory). */
export async function runOneShot(options: OneShotOptions): Promise<RunResults> {
  const methods = [...new Set<CompressionMethod>(options.methods ?? ['ziplm'])];
  if (methods.length === 0) throw optionError('methods', `needs at least one method (${COMPRESSION_METHODS.join(', ')})`);
  for (const m of methods) checkChoice(m, 'methods', COMPRESSION_METHODS);
  if ((options.compound?.qatEpochs ?? 0) > 0)
    throw optionError('compound.qatEpochs', 'needs a gradual run: quantization-aware fine-tuning uses its fine-tuning data and teacher');
  const ctx = await openRun(options, 'oneshot', {});
  // The run directory's lock is released however the run ends.
  try {
    return await oneShotStages(ctx, methods, options);
  } finally {
    await ctx.run.close();
  }
}

async function oneShotStages(ctx: RunContext, methods: readonly CompressionMethod[], options: OneShotOptions): Promise<RunResults> {
  const { run, dense, emit, identity, env } = ctx;
  const fingerprint = `${identity.model.sha256}:${JSON.stringify(identity.data)}:${identity.calibration.samples}:${identity.calibration.seed}`;

  const databases = new Map<SweepMethod, LevelDatabase>();
  const database = async (sweep: SweepMethod) => {
    if (!databases.has(sweep))
      databases.set(
        sweep,
        await ensureDatabase(ctx, dense, run.path(sweep === 'obs' ? 'database' : 'database-magnitude'), sweep, fingerprint),
      );
    return databases.get(sweep)!;
  };

  /** Searches the levels of one member and stitches the pruned model. */
  const searchMember = async (method: CompressionMethod, searchTarget: number, table: LatencyTable = ctx.table) => {
    const db = await database(method === 'magnitude' ? 'magnitude' : 'obs');
    const errors = await layerErrors(db, dense.config);
    const { choice, info } = await searchLevels(ctx, method, dense, db, errors, searchTarget, undefined, table);
    return { db, choice, info };
  };

  /** Stitches, scores and saves one member; `searchTarget` differs from `target` on a re-search. */
  const makeMember = async (
    method: CompressionMethod,
    target: number,
    searchTarget: number,
    found: Awaited<ReturnType<typeof searchMember>>,
    attempts?: readonly MemberAttempt[],
    measured?: MeasuredFields,
  ): Promise<MemberRecord> => {
    const { checkpoint, kept } = await stitchModel(dense, found.db, found.choice);
    const scores = await scoreMember(ctx, checkpoint, `evaluate ${method} ${target}x`);
    return saveMember(ctx, {
      method,
      target,
      searchTarget,
      ...(attempts ? { attempts } : {}),
      choice: found.choice,
      search: found.info,
      checkpoint,
      kept,
      ...(scores ? { scores } : {}),
      ...(measured ? { measured } : {}),
    });
  };

  const verifying = verifiesMembers(ctx, options.verify);
  const records: MemberRecord[] = [];
  for (const method of methods) {
    for (const target of ctx.targets) {
      const stored = await resumeMember(run, memberDir(run, method, target));
      if (stored) {
        // An inconclusive verdict is re-timed with the pending members, not replayed.
        const existing = verifying ? retimeInconclusive(ctx, stored) : stored;
        records.push(existing);
        emit({ kind: 'member', member: existing, resumed: true });
        continue;
      }
      emit({
        kind: 'stage',
        stage: 'search',
        message: `${method}: searching ${target}x${ctx.spdy === false ? '' : ' (DP + SPDY on the calibration loss)'}`,
      });
      const record = await makeMember(method, target, target, await searchMember(method, target));
      records.push(record);
      emit({ kind: 'member', member: record });
    }
  }

  // Measured-speedup feedback: the latency table predicts, the device decides. A member is searched
  // again when its measured speedup falls short of the target by more than the tolerance, or
  // overshoots it by more than the tolerance because the table under-predicted it (an overshoot the
  // table predicted comes from the discrete levels: a new search would choose the same). The new
  // search target is target · predicted / measured: the table's measured error on this member,
  // divided out (bounded to a factor of MAX_RETARGET_CORRECTION, and never below 1). Up to `retarget`
  // times. The new version is timed before it is written, and replaces the member only when it is
  // measured better (`measuredBetter`); a version measured no better is discarded, recorded in
  // `attempts` with `discarded: true`, and ends the member's re-searches (a new search from the same
  // member would be the same search); so does a search that chooses the member's levels again or finds
  // the target out of reach (`researchesEnded`). Every other measured version is in `attempts` too.
  //
  // Before re-searching, the latency table is calibrated to every version measured so far
  // (@ziplm/latency's `calibrateToMembers`, see its README, "Calibration to measured members"): the
  // levels the search lands on are, on average, the ones the table times too low, an error of one
  // sign that grows with the target, and the members measure it where it acts. The calibration is
  // kept only when it predicts held-out members better than the table (otherwise the table is used
  // as it is), and the re-search runs on the calibrated table, its target corrected by what that
  // table still gets wrong on this member (its prediction / measured). With a calibration kept, that
  // remaining error is corrected only when the measurement tells it from noise (beyond two standard
  // errors of the measured speedup): a correction from one noisy measurement adds its noise to the
  // next version. Without one, the per-member correction is the whole correction, as it always was.
  const calibrationNotes: string[] = [];
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const rounds = options.retarget ?? DEFAULT_RETARGET_ROUNDS;
  if (verifying && rounds > 0) {
    for (;;) {
      await verifyPending(ctx, records, tolerance);
      const misses = records.filter((r) => (r.attempts?.length ?? 0) < rounds && !researchesEnded(r) && missesTarget(r, tolerance));
      if (misses.length === 0) break;
      const calibration = calibrateToMembers(ctx.table, measuredMembers(records));
      const searchTable = applyMemberCalibration(ctx.table, calibration);
      const note = describeMemberCalibration(calibration, misses.length);
      calibrationNotes.push(note);
      emit({ kind: 'stage', stage: 'latency', message: note });
      const candidates: Array<{
        incumbent: MemberRecord;
        searchTarget: number;
        attempts: MemberAttempt[];
        found: Awaited<ReturnType<typeof searchMember>>;
        onnx: Uint8Array;
      }> = [];
      for (const r of misses) {
        // The correction is bounded (see MAX_RETARGET_CORRECTION), and a search target below 1 would return the dense model.
        const residual = predictRuntime(searchTable, r).speedup / r.measuredSpeedup!;
        const significant = calibration.model === 'none' || Math.abs(residual - 1) > 2 * (r.verification?.uncertainty ?? 0);
        const correction = significant ? Math.min(MAX_RETARGET_CORRECTION, Math.max(1 / MAX_RETARGET_CORRECTION, residual)) : 1;
        const searchTarget = Math.max(1, r.target * correction);
        const attempts = [...(r.attempts ?? []), attemptOf(r)];
        emit({
          kind: 'stage',
          stage: 'retarget',
          message: `${r.method} ${r.target}x measured ${r.measuredSpeedup!.toFixed(3)}x: searching again for ${searchTarget.toFixed(3)}x (round ${attempts.length} of ${rounds})`,
        });
        let found: Awaited<ReturnType<typeof searchMember>>;
        try {
          // The version found carries the prediction of the table it was searched with (the calibrated
          // one), and is verified against it: its `verification.predictionError` is what that table
          // still gets wrong, the error the next calibration and correction act on.
          found = await searchMember(r.method, searchTarget, searchTable);
        } catch (error) {
          if (!(error instanceof InfeasibleTargetError)) throw error;
          // Out of reach: keep the member, and record the attempt so it is not tried again.
          const record = { ...r, attempts };
          await updateMember(recordDir(run, r), record);
          records[records.indexOf(r)] = record;
          emit({ kind: 'member', member: record });
          continue;
        }
        const same =
          found.choice.layerHeads.every((h, l) => h === r.layerHeads[l]) &&
          found.choice.layerIntermediate.every((m, l) => m === r.layerIntermediate[l]);
        if (same) {
          // The search chose the same levels again: the member and its measurement stand.
          const record: MemberRecord = { ...r, searchTarget, attempts };
          await updateMember(recordDir(run, r), record);
          records[records.indexOf(r)] = record;
          emit({ kind: 'member', member: record });
          continue;
        }
        const { checkpoint } = await stitchModel(dense, found.db, found.choice);
        // Timed before it is written: a compound member's graph is timed with the weights rounded at export
        // (and nominal static ranges), which have the shipped graph's operators and shapes.
        candidates.push({
          incumbent: r,
          searchTarget,
          attempts,
          found,
          onnx: exportModelToOnnx(checkpoint, timingExportOptions(checkpoint.config, env)),
        });
      }
      if (candidates.length === 0) break;
      emit({ kind: 'stage', stage: 'verify', message: `re-timing ${candidates.length} re-searched members against the dense model` });
      const measured = await measureSpeedups(
        ctx,
        candidates.map((c) => ({ onnx: c.onnx, target: c.incumbent.target, predicted: c.found.choice.predictedSpeedup })),
        tolerance,
      );
      let changed = 0;
      for (const [i, c] of candidates.entries()) {
        const r = c.incumbent;
        const m = measured[i]!;
        let record: MemberRecord;
        if (measuredBetter({ target: r.target, measuredSpeedup: m.measuredSpeedup }, r, tolerance)) {
          record = await makeMember(r.method, r.target, c.searchTarget, c.found, c.attempts, m);
          changed++;
        } else {
          const discarded: MemberAttempt = {
            searchTarget: c.searchTarget,
            predictedSpeedup: c.found.choice.predictedSpeedup,
            measuredSpeedup: m.measuredSpeedup,
            layerHeads: c.found.choice.layerHeads,
            layerIntermediate: c.found.choice.layerIntermediate,
            discarded: true,
          };
          emit({
            kind: 'warning',
            message: `${r.method} ${r.target}x: the re-searched version measured ${m.measuredSpeedup.toFixed(3)}x, no better than ${r.measuredSpeedup!.toFixed(3)}x; keeping the earlier version`,
          });
          record = { ...r, attempts: [...(r.attempts ?? []), discarded] };
          await updateMember(recordDir(run, r), record);
        }
        records[records.indexOf(r)] = record;
        emit({ kind: 'member', member: record });
      }
      if (changed === 0) break;
    }
  }
  // The calibrations used go into the report's notes (a run whose re-searches all happened in an
  // earlier invocation has them in that invocation's log).
  const finishing = calibrationNotes.length > 0 ? { ...ctx, task: { ...ctx.task, notes: [...ctx.task.notes, ...calibrationNotes] } } : ctx;
  return finishRun(finishing, records, options);
}
