// The latency side of a run: the table (given, resumed or measured) and the verification of members.

import { existsSync } from 'node:fs';
import { loadLatencyTable, saveLatencyTable, type InferenceEnvironment, type LatencyTable } from '@ziplm/latency';
import { buildLatencyTable, ortFingerprint, verifySpeedups } from '@ziplm/latency/measure';
import type { Checkpoint } from '@ziplm/models';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunDirectoryError } from './errors.js';
import { hashFile } from './files.js';
import { ONNX_FILE, type MemberRecord } from './members.js';
import type { PipelineEvent, RunContext } from './run.js';
import type { MemberVerification } from './results.js';
import type { RunDirectory } from './run-dir.js';

export const TABLE_FILE = 'latency-table.json';

function sameEnvironment(a: InferenceEnvironment, b: InferenceEnvironment): string[] {
  return (Object.keys(b) as Array<keyof InferenceEnvironment>).filter((k) => a[k] !== b[k]).map((k) => `${k}: table ${JSON.stringify(a[k])}, run ${JSON.stringify(b[k])}`);
}

/**
 * The run's latency table: the one given (validated against the model and the environment, copied
 * into the run directory), the one already in the run directory, or a newly measured one.
 */
export async function obtainLatencyTable(
  run: RunDirectory,
  dense: Checkpoint,
  env: InferenceEnvironment,
  options: { tablePath?: string; emit: (e: PipelineEvent) => void; rounds?: { minRounds?: number; maxRounds?: number } },
): Promise<LatencyTable> {
  const inRun = run.path(TABLE_FILE);
  const source = options.tablePath ?? (existsSync(inRun) ? inRun : undefined);
  let table: LatencyTable;
  if (source) {
    const fingerprint = await ortFingerprint();
    const loaded = await loadLatencyTable(source, { model: dense.config, fingerprint });
    for (const w of loaded.warnings) options.emit({ kind: 'warning', message: `${source}: ${w.message}` });
    table = loaded.table;
    const differs = sameEnvironment(table.environment, env);
    if (differs.length > 0) throw new RunDirectoryError(source, `latency table was measured in another environment (${differs.join('; ')})`);
    if (source !== inRun) await saveLatencyTable(inRun, table);
  } else {
    options.emit({ kind: 'stage', stage: 'latency', message: `measuring the latency table (${dense.config.numLayers} layers, this takes a while)` });
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

/**
 * Re-times members against the dense model in one interleaved protocol; returns the updated records
 * with the measured speedup, its deviation and status, and the verification's diagnostics.
 */
export async function verifyMembers(ctx: RunContext, members: readonly MemberRecord[], tolerance: number): Promise<MemberRecord[]> {
  const candidates = await Promise.all(
    members.map(async (m) => ({
      model: { onnx: new Uint8Array(await readFile(join(ctx.run.dir, m.dir, ONNX_FILE))), vocabSize: ctx.dense.config.vocabSize },
      target: m.target,
      predicted: m.predictedSpeedup,
    })),
  );
  const reports = await verifySpeedups({ dense: ctx.dense, env: ctx.env, table: ctx.table, tolerance, candidates });
  return members.map((m, i) => {
    const r = reports[i]!;
    const verification: MemberVerification = {
      uncertainty: r.uncertainty,
      ...(r.predictionError !== undefined ? { predictionError: r.predictionError } : {}),
      ...(r.denseDrift !== undefined ? { denseDrift: r.denseDrift } : {}),
      denseMs: r.dense.median,
      memberMs: r.pruned.median,
      rounds: r.pruned.samples,
    };
    return { ...m, measuredSpeedup: r.measured, deviation: r.deviation, status: r.status, verification };
  });
}
