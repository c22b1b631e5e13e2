// One-shot ZipLM (the reference's `oneshot_prune`): latency table → calibration → level database →
// search per target (DP + SPDY) → stitch + shrink → export → score → verify → report. Every stage
// (stages/) writes its output into the run directory and is skipped on a rerun when that output is
// complete.

import type { LevelDatabase, SweepMethod } from '@ziplm/hessian';
import { InfeasibleTargetError } from '@ziplm/latency';
import type { RunOptions } from './context.js';
import { DEFAULT_RETARGET_ROUNDS, DEFAULT_TOLERANCE, MAX_RETARGET_CORRECTION } from './defaults.js';
import { checkChoice, optionError } from './internal/options.js';
import { stitchModel } from './internal/stitch.js';
import type { CompressionMethod, MemberAttempt, RunResults } from './results.js';
import type { MemberRecord } from './results.js';
import { finishRun, openRun } from './run.js';
import { COMPRESSION_METHODS } from './schemas/member.js';
import { ensureDatabase } from './stages/database.js';
import { memberDir, readMember, saveMember, scoreMember, updateMember } from './stages/members.js';
import { searchLevels } from './stages/search.js';
import { verifyPending } from './stages/verify.js';

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

/** Runs one-shot ZipLM and returns the results (also written to the run directory). */
export async function runOneShot(options: OneShotOptions): Promise<RunResults> {
  const methods = [...new Set<CompressionMethod>(options.methods ?? ['ziplm'])];
  if (methods.length === 0) throw optionError('methods', `needs at least one method (${COMPRESSION_METHODS.join(', ')})`);
  for (const m of methods) checkChoice(m, 'methods', COMPRESSION_METHODS);
  const ctx = await openRun(options, 'oneshot', {});
  const { run, dense, emit, identity } = ctx;
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

  /** Searches, stitches, scores and saves one member; `searchTarget` differs from `target` on a re-search. */
  const makeMember = async (
    method: CompressionMethod,
    target: number,
    searchTarget: number,
    attempts?: readonly MemberAttempt[],
  ): Promise<MemberRecord> => {
    const db = await database(method === 'magnitude' ? 'magnitude' : 'obs');
    const errors = await db.toLayerErrors();
    const { choice, info } = await searchLevels(ctx, method, dense, db, errors, searchTarget);
    const { checkpoint, kept } = await stitchModel(dense, db, choice);
    const scores = await scoreMember(ctx, checkpoint, `evaluate ${method} ${target}x`);
    return saveMember(ctx, {
      method,
      target,
      searchTarget,
      ...(attempts ? { attempts } : {}),
      choice,
      search: info,
      checkpoint,
      kept,
      ...(scores ? { scores } : {}),
    });
  };

  const records: MemberRecord[] = [];
  for (const method of methods) {
    for (const target of ctx.targets) {
      const existing = await readMember(memberDir(run, method, target));
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
      const record = await makeMember(method, target, target);
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
  // times; every replaced version is kept in `attempts`.
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const rounds = options.retarget ?? DEFAULT_RETARGET_ROUNDS;
  if ((options.verify ?? true) && rounds > 0) {
    for (;;) {
      await verifyPending(ctx, records, tolerance);
      const misses = records.filter((r) => (r.attempts?.length ?? 0) < rounds && missesTarget(r, tolerance));
      let changed = 0;
      for (const r of misses) {
        // The correction is bounded (see MAX_RETARGET_CORRECTION), and a search target below 1 would return the dense model.
        const correction = Math.min(
          MAX_RETARGET_CORRECTION,
          Math.max(1 / MAX_RETARGET_CORRECTION, r.predictedSpeedup / r.measuredSpeedup!),
        );
        const searchTarget = Math.max(1, r.target * correction);
        const attempt: MemberAttempt = {
          searchTarget: r.searchTarget ?? r.target,
          predictedSpeedup: r.predictedSpeedup,
          measuredSpeedup: r.measuredSpeedup!,
          layerHeads: r.layerHeads,
          layerIntermediate: r.layerIntermediate,
        };
        const attempts = [...(r.attempts ?? []), attempt];
        emit({
          kind: 'stage',
          stage: 'retarget',
          message: `${r.method} ${r.target}x measured ${r.measuredSpeedup!.toFixed(3)}x: searching again for ${searchTarget.toFixed(3)}x (round ${attempts.length} of ${rounds})`,
        });
        let record: MemberRecord;
        try {
          record = await makeMember(r.method, r.target, searchTarget, attempts);
        } catch (error) {
          if (!(error instanceof InfeasibleTargetError)) throw error;
          // Out of reach: keep the member, and record the attempt so it is not tried again.
          record = { ...r, attempts };
          await updateMember(run.path(r.dir), record);
        }
        const same =
          record.layerHeads.every((h, l) => h === r.layerHeads[l]) &&
          record.layerIntermediate.every((m, l) => m === r.layerIntermediate[l]);
        if (same && record.measuredSpeedup === undefined) {
          // The search chose the same levels again: the measurement stands.
          record = {
            ...record,
            measuredSpeedup: r.measuredSpeedup,
            deviation: r.deviation,
            status: r.status,
            ...(r.verification ? { verification: r.verification } : {}),
          } as MemberRecord;
          await updateMember(run.path(r.dir), record);
        } else changed++;
        records[records.indexOf(r)] = record;
        emit({ kind: 'member', member: record });
      }
      if (misses.length === 0 || changed === 0) break;
    }
  }
  return finishRun(ctx, records, options);
}
