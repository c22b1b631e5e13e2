// One-shot ZipLM (method doc §1, `oneshot_prune`): latency table → calibration → level database →
// search per target (DP + SPDY) → stitch + shrink → export → score → verify → report. Every stage
// writes its output into the run directory and is skipped on a rerun when that output is complete.

import type { LevelDatabase } from './database.js';
import { InfeasibleTargetError } from '@ziplm/latency';
import { layerParameterCount, memberDir, readMember, scoreCheckpoint, updateMember, writeMember, type MemberRecord } from './members.js';
import { checkChoice, optionError } from './options.js';
import type { MemberAttempt, PruningMethod, RunResults } from './results.js';
import { ensureDatabase, finishRun, openRun, searchLevels, verifyPending, type RunOptions } from './run.js';
import { stitchModel } from './stitch.js';

export interface OneShotOptions extends RunOptions {
  /** Methods to run (default ['ziplm']); 'magnitude' and 'uniform' are the baselines. */
  methods?: readonly PruningMethod[];
}

/** Default rounds of re-searching members whose measured speedup misses the target (`RunOptions.retarget`). */
export const DEFAULT_RETARGET_ROUNDS = 2;

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

/** Largest factor a re-search may scale the search target by (either way). */
const MAX_CORRECTION = 1.25;

/** The methods a one-shot run knows: ZipLM and the two baselines. */
export const PRUNING_METHODS: readonly PruningMethod[] = ['ziplm', 'magnitude', 'uniform'];

/** Runs one-shot ZipLM and returns the results (also written to the run directory). */
export async function runOneShot(options: OneShotOptions): Promise<RunResults> {
  const methods = [...new Set<PruningMethod>(options.methods ?? ['ziplm'])];
  if (methods.length === 0) throw optionError('methods', `needs at least one method (${PRUNING_METHODS.join(', ')})`);
  for (const m of methods) checkChoice(m, 'methods', PRUNING_METHODS);
  const ctx = await openRun(options, 'oneshot', {});
  const { run, dense, tokenizer, task, env, emit, identity } = ctx;
  const fingerprint = `${identity.model.sha256}:${JSON.stringify(identity.data)}:${identity.calibration.samples}:${identity.calibration.seed}`;

  const databases = new Map<'obs' | 'magnitude', LevelDatabase>();
  const database = async (sweep: 'obs' | 'magnitude') => {
    if (!databases.has(sweep)) databases.set(sweep, await ensureDatabase(ctx, dense, run.path(sweep === 'obs' ? 'database' : 'database-magnitude'), sweep, fingerprint));
    return databases.get(sweep)!;
  };

  /** Searches, stitches, scores and writes one member; `searchTarget` differs from `target` on a re-search. */
  const makeMember = async (method: PruningMethod, target: number, searchTarget: number, attempts?: readonly MemberAttempt[]): Promise<MemberRecord> => {
    const db = await database(method === 'magnitude' ? 'magnitude' : 'obs');
    const errors = await db.toLayerErrors();
    const dir = memberDir(run, method, target);
    const { choice, info } = await searchLevels(ctx, method, dense, db, errors, searchTarget);
    const { checkpoint: pruned, kept } = await stitchModel(dense, db, choice);
    const scores = ctx.denseScores ? await scoreCheckpoint(pruned, task, ctx.denseScores, (done, total) => emit({ kind: 'progress', stage: `evaluate ${method} ${target}x`, done, total })) : undefined;
    const record: MemberRecord = {
      method,
      target,
      predictedSpeedup: choice.predictedSpeedup,
      ...(searchTarget !== target ? { searchTarget } : {}),
      ...(attempts && attempts.length > 0 ? { attempts } : {}),
      searchError: choice.totalError,
      search: info,
      layerHeads: choice.layerHeads,
      layerIntermediate: choice.layerIntermediate,
      layerParameters: layerParameterCount(pruned.config),
      dir: `members/${dir.split(/[\\/]/).pop()}`,
      keptHeads: kept.heads,
      keptNeurons: kept.neurons,
      ...(scores ? { metric: scores.metric } : {}),
      ...(scores?.predictions && task.evaluationLabels ? { predictions: [...scores.predictions] } : {}),
    };
    await writeMember(dir, pruned, tokenizer, env, record);
    await run.recordMember({
      name: record.dir,
      method,
      target,
      layerHeads: record.layerHeads,
      layerIntermediate: record.layerIntermediate,
      keptHeads: kept.heads,
      keptNeurons: kept.neurons,
      predictedSpeedup: record.predictedSpeedup,
    });
    return record;
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
      emit({ kind: 'stage', stage: 'search', message: `${method}: searching ${target}x${ctx.spdy === false ? '' : ' (DP + SPDY on the calibration loss)'}` });
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
  // divided out (bounded to a factor of 1.25, and never below 1). Up to `retarget` times; every
  // replaced version is kept in `attempts`.
  const tolerance = options.tolerance ?? 0.02;
  const rounds = options.retarget ?? DEFAULT_RETARGET_ROUNDS;
  if ((options.verify ?? true) && rounds > 0) {
    for (;;) {
      await verifyPending(ctx, records, tolerance);
      const misses = records.filter((r) => (r.attempts?.length ?? 0) < rounds && missesTarget(r, tolerance));
      let changed = 0;
      for (const r of misses) {
        // A table off by more than 25% on a member points at a disturbed measurement rather than at
        // the table: the correction is bounded, and a search target below 1 would return the dense model.
        const correction = Math.min(MAX_CORRECTION, Math.max(1 / MAX_CORRECTION, r.predictedSpeedup / r.measuredSpeedup!));
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
        const same = record.layerHeads.every((h, l) => h === r.layerHeads[l]) && record.layerIntermediate.every((m, l) => m === r.layerIntermediate[l]);
        if (same && record.measuredSpeedup === undefined) {
          // The search chose the same levels again: the measurement stands.
          record = { ...record, measuredSpeedup: r.measuredSpeedup, deviation: r.deviation, status: r.status, ...(r.verification ? { verification: r.verification } : {}) } as MemberRecord;
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
