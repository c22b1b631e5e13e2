// One-shot ZipLM (the reference's `oneshot_prune`): latency table → calibration → level database →
// search per target (DP + SPDY) → stitch + shrink → export → score → verify → report. Every stage
// (stages/) writes its output into the run directory and is skipped on a rerun when that output is
// complete.

import type { LevelDatabase, SweepMethod } from '@ziplm/hessian';
import { InfeasibleTargetError } from '@ziplm/latency';
import { exportOptionsFor } from '@ziplm/latency';
import { exportModelToOnnx } from '@ziplm/models';
import type { RunContext, RunOptions } from './context.js';
import { DEFAULT_RETARGET_ROUNDS, DEFAULT_TOLERANCE, MAX_RETARGET_CORRECTION } from './defaults.js';
import { checkChoice, optionError } from './internal/options.js';
import { stitchModel } from './internal/stitch.js';
import type { CompressionMethod, MemberAttempt, RunResults } from './results.js';
import type { MemberRecord } from './results.js';
import { finishRun, openRun } from './run.js';
import { COMPRESSION_METHODS } from './schemas/member.js';
import { ensureDatabase } from './stages/database.js';
import { memberDir, recordDir, resumeMember, saveMember, scoreMember, updateMember } from './stages/members.js';
import { searchLevels } from './stages/search.js';
import { type MeasuredFields, measureSpeedups, verifyPending } from './stages/verify.js';

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

/** Runs one-shot ZipLM and returns the results (also written to the run directory). */
export async function runOneShot(options: OneShotOptions): Promise<RunResults> {
  const methods = [...new Set<CompressionMethod>(options.methods ?? ['ziplm'])];
  if (methods.length === 0) throw optionError('methods', `needs at least one method (${COMPRESSION_METHODS.join(', ')})`);
  for (const m of methods) checkChoice(m, 'methods', COMPRESSION_METHODS);
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
  const searchMember = async (method: CompressionMethod, searchTarget: number) => {
    const db = await database(method === 'magnitude' ? 'magnitude' : 'obs');
    const errors = await db.toLayerErrors();
    const { choice, info } = await searchLevels(ctx, method, dense, db, errors, searchTarget);
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

  const records: MemberRecord[] = [];
  for (const method of methods) {
    for (const target of ctx.targets) {
      const existing = await resumeMember(run, memberDir(run, method, target));
      if (existing) {
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
  // member would be the same search). Every other measured version is in `attempts` too.
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const rounds = options.retarget ?? DEFAULT_RETARGET_ROUNDS;
  if ((options.verify ?? true) && rounds > 0) {
    for (;;) {
      await verifyPending(ctx, records, tolerance);
      const misses = records.filter(
        (r) => (r.attempts?.length ?? 0) < rounds && !r.attempts?.some((a) => a.discarded) && missesTarget(r, tolerance),
      );
      const candidates: Array<{
        incumbent: MemberRecord;
        searchTarget: number;
        attempts: MemberAttempt[];
        found: Awaited<ReturnType<typeof searchMember>>;
        onnx: Uint8Array;
      }> = [];
      for (const r of misses) {
        // The correction is bounded (see MAX_RETARGET_CORRECTION), and a search target below 1 would return the dense model.
        const correction = Math.min(
          MAX_RETARGET_CORRECTION,
          Math.max(1 / MAX_RETARGET_CORRECTION, r.predictedSpeedup / r.measuredSpeedup!),
        );
        const searchTarget = Math.max(1, r.target * correction);
        const attempts = [...(r.attempts ?? []), attemptOf(r)];
        emit({
          kind: 'stage',
          stage: 'retarget',
          message: `${r.method} ${r.target}x measured ${r.measuredSpeedup!.toFixed(3)}x: searching again for ${searchTarget.toFixed(3)}x (round ${attempts.length} of ${rounds})`,
        });
        let found: Awaited<ReturnType<typeof searchMember>>;
        try {
          found = await searchMember(r.method, searchTarget);
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
        candidates.push({ incumbent: r, searchTarget, attempts, found, onnx: exportModelToOnnx(checkpoint, exportOptionsFor(env)) });
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
  return finishRun(ctx, records, options);
}
