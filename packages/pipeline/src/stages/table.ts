// The latency table of a run: the one given (validated against the model and the environment, copied
// into the run directory), the one already in the run directory, or a newly measured one.

import { existsSync } from 'node:fs';
import { writeFileAtomic } from '@ziplm/core/node';
import {
  environmentDifferences,
  workloadDifferences,
  loadLatencyTable,
  saveLatencyTable,
  serializeLatencyTable,
  type InferenceEnvironment,
  type LatencyTable,
} from '@ziplm/latency';
import { buildLatencyTable, ortFingerprint } from '@ziplm/latency/measure';
import type { Checkpoint } from '@ziplm/models';
import type { EmitEvent, RunContext } from '../context.js';
import { RunDirectoryError } from '../errors.js';
import { hashFile, hashString } from '../internal/files.js';
import type { RunDirectory } from '../internal/run-dir.js';

/** The latency table's file in the run directory. */
export const TABLE_FILE = 'latency-table.json';

export interface TableOptions {
  /** Use this table instead of measuring one. */
  tablePath?: string;
  emit: EmitEvent;
  /** Latency table protocol overrides (tests use fewer rounds). */
  rounds?: { minRounds?: number; maxRounds?: number };
}

/**
 * Whether the members of a run with this table can be re-timed here: the table was measured by this run's engine
 * (onnxruntime-node). A table measured in a browser (onnxruntime-web) is searched with, but its members are re-timed
 * in that browser (the docs site's "Measure this device" page), not by this process.
 */
export function retimesHere(table: LatencyTable, env: InferenceEnvironment): boolean {
  return table.environment.engine === env.engine;
}

/**
 * Whether a run re-times its members: asked to (`verify`, default true) and able to (`retimesHere`). The one
 * rule every place that re-times (one-shot members, gradual resumes, the final verification) follows.
 */
export function verifiesMembers(ctx: Pick<RunContext, 'table' | 'env'>, verify: boolean | undefined): boolean {
  return (verify ?? true) && retimesHere(ctx.table, ctx.env);
}

/** What a run says about a table measured by another engine. */
export function foreignTableNote(table: LatencyTable): string {
  const e = table.environment;
  return (
    `the latency table was measured with ${e.engine}${e.backend ? ` (${e.backend})` : ''}, ${e.threads} thread(s), on another device: ` +
    'members are searched for that device and not re-timed here; re-time them where the table was measured ' +
    '(the docs site\'s "Measure this device" page, "verify in this browser")'
  );
}

/**
 * The run's latency table (see the module comment). Its hash is recorded in the manifest when the run
 * first has one, and checked on every later run before anything is written: a table file that changed
 * or disappeared since, or a given table that differs from it, is a RunDirectoryError (its members
 * were searched with the recorded table), and the run directory's copy is left as it was.
 */
export async function obtainLatencyTable(
  run: RunDirectory,
  dense: Checkpoint,
  env: InferenceEnvironment,
  options: TableOptions,
): Promise<LatencyTable> {
  const inRun = run.path(TABLE_FILE);
  const recorded = run.manifest.tableSha256;
  if (recorded !== undefined) {
    const restore = `restore the table this run was searched with (sha256 ${recorded}), or remove the run directory (or choose another run directory) to start afresh`;
    if (!existsSync(inRun)) throw new RunDirectoryError(inRun, `is missing; ${restore}`);
    const sha = await hashFile(inRun);
    if (sha !== recorded)
      throw new RunDirectoryError(
        inRun,
        `changed since this run started (sha256 ${sha}), so its members were searched with another table; ${restore}`,
      );
  }
  const source = options.tablePath ?? (existsSync(inRun) ? inRun : undefined);
  let table: LatencyTable;
  if (source) {
    const fingerprint = await ortFingerprint();
    const loaded = await loadLatencyTable(source, { model: dense.config, fingerprint });
    for (const w of loaded.warnings) options.emit({ kind: 'warning', message: `${source}: ${w.message}` });
    table = loaded.table;
    // A table measured by another engine (onnxruntime-web in a browser) describes that device: the run searches
    // for it if the work is the same, and leaves re-timing to that device (`retimesHere`).
    const foreign = !retimesHere(table, env);
    const differs = foreign
      ? workloadDifferences(table.environment, env, ['table', 'run'])
      : environmentDifferences(table.environment, env, ['table', 'run']);
    if (differs.length > 0)
      throw new RunDirectoryError(source, `latency table was measured in another environment (${differs.join('; ')})`);
    if (foreign) options.emit({ kind: 'warning', message: foreignTableNote(table) });
    if (source !== inRun) {
      const copy = serializeLatencyTable(table);
      if (recorded !== undefined && hashString(copy) !== recorded)
        throw new RunDirectoryError(
          source,
          `differs from the table this run was searched with (${inRun}); run without a table file to use that one, or choose another run directory`,
        );
      await writeFileAtomic(inRun, copy);
    }
  } else {
    options.emit({
      kind: 'stage',
      stage: 'latency',
      message: `measuring the latency table (${dense.config.numLayers} layers, this takes a while)`,
    });
    table = await buildLatencyTable(dense.config, env, {
      ...(options.rounds ?? {}),
      onProgress: (p) => {
        if (p.phase === 'prepare') options.emit({ kind: 'progress', stage: 'latency', done: p.done, total: p.total });
      },
    });
    await saveLatencyTable(inRun, table);
  }
  if (recorded === undefined) {
    run.manifest.tableSha256 = await hashFile(inRun);
  }
  await run.save();
  return table;
}
