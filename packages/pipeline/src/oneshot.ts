// One-shot ZipLM (method doc §1, `oneshot_prune`): latency table → calibration → level database →
// search per target (DP + SPDY) → stitch + shrink → export → score → verify → report. Every stage
// writes its output into the run directory and is skipped on a rerun when that output is complete.

import type { LevelDatabase } from './database.js';
import { layerParameterCount, memberDir, readMember, scoreCheckpoint, writeMember, type MemberRecord } from './members.js';
import { checkChoice, optionError } from './options.js';
import type { PruningMethod, RunResults } from './results.js';
import { ensureDatabase, finishRun, openRun, searchLevels, type RunOptions } from './run.js';
import { stitchModel } from './stitch.js';

export interface OneShotOptions extends RunOptions {
  /** Methods to run (default ['ziplm']); 'magnitude' and 'uniform' are the baselines. */
  methods?: readonly PruningMethod[];
}

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

  const records: MemberRecord[] = [];
  for (const method of methods) {
    const db = await database(method === 'magnitude' ? 'magnitude' : 'obs');
    const errors = await db.toLayerErrors();
    for (const target of ctx.targets) {
      const dir = memberDir(run, method, target);
      const existing = await readMember(dir);
      if (existing) {
        records.push(existing);
        emit({ kind: 'member', member: existing, resumed: true });
        continue;
      }
      emit({ kind: 'stage', stage: 'search', message: `${method}: searching ${target}x${ctx.spdy === false ? '' : ' (DP + SPDY on the calibration loss)'}` });
      const { choice, info } = await searchLevels(ctx, method, dense, db, errors, target);
      const { checkpoint: pruned, kept } = await stitchModel(dense, db, choice);
      const scores = ctx.denseScores ? await scoreCheckpoint(pruned, task, ctx.denseScores, (done, total) => emit({ kind: 'progress', stage: `evaluate ${method} ${target}x`, done, total })) : undefined;
      const record: MemberRecord = {
        method,
        target,
        predictedSpeedup: choice.predictedSpeedup,
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
      records.push(record);
      emit({ kind: 'member', member: record });
    }
  }
  return finishRun(ctx, records, options);
}
