// The latency table of a run: the one given (validated against the model and the environment, copied
// into the run directory), the one already in the run directory, or a newly measured one.

import { existsSync } from 'node:fs';
import { loadLatencyTable, saveLatencyTable, type InferenceEnvironment, type LatencyTable } from '@ziplm/latency';
import { buildLatencyTable, ortFingerprint } from '@ziplm/latency/measure';
import type { Checkpoint } from '@ziplm/models';
import type { EmitEvent } from '../context.js';
import { RunDirectoryError } from '../errors.js';
import { hashFile } from '../internal/files.js';
import type { RunDirectory } from '../internal/run-dir.js';

/** The latency table's file in the run directory. */
export const TABLE_FILE = 'latency-table.json';

/** The fields in which two environments differ, described for an error message. */
function environmentDifferences(table: InferenceEnvironment, run: InferenceEnvironment): string[] {
  return (Object.keys(run) as Array<keyof InferenceEnvironment>)
    .filter((k) => table[k] !== run[k])
    .map((k) => `${k}: table ${JSON.stringify(table[k])}, run ${JSON.stringify(run[k])}`);
}

export interface TableOptions {
  /** Use this table instead of measuring one. */
  tablePath?: string;
  emit: EmitEvent;
  /** Latency table protocol overrides (tests use fewer rounds). */
  rounds?: { minRounds?: number; maxRounds?: number };
}

/**
 * The run's latency table (see the module comment). Its hash is recorded in the manifest: a table that
 * changed since the run started is a RunDirectoryError, since its members were searched with another.
 */
export async function obtainLatencyTable(
  run: RunDirectory,
  dense: Checkpoint,
  env: InferenceEnvironment,
  options: TableOptions,
): Promise<LatencyTable> {
  const inRun = run.path(TABLE_FILE);
  const source = options.tablePath ?? (existsSync(inRun) ? inRun : undefined);
  let table: LatencyTable;
  if (source) {
    const fingerprint = await ortFingerprint();
    const loaded = await loadLatencyTable(source, { model: dense.config, fingerprint });
    for (const w of loaded.warnings) options.emit({ kind: 'warning', message: `${source}: ${w.message}` });
    table = loaded.table;
    const differs = environmentDifferences(table.environment, env);
    if (differs.length > 0)
      throw new RunDirectoryError(source, `latency table was measured in another environment (${differs.join('; ')})`);
    if (source !== inRun) await saveLatencyTable(inRun, table);
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
  const sha = await hashFile(inRun);
  if (run.manifest.tableSha256 && run.manifest.tableSha256 !== sha) {
    throw new RunDirectoryError(run.dir, `${TABLE_FILE} changed since this run started (its members were searched with another table)`);
  }
  run.manifest.tableSha256 = sha;
  await run.save();
  return table;
}
