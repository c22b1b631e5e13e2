// Verification: the latency table predicts, the device decides. Members are re-timed against the
// dense model in one interleaved protocol (@ziplm/latency's verifySpeedups), and each record gets the
// measured speedup, its deviation from the target, a pass/fail status and the diagnostics.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifySpeedups } from '@ziplm/latency/measure';
import type { RunContext } from '../context.js';
import type { MemberVerification } from '../results.js';
import type { MemberRecord } from '../results.js';
import { ONNX_FILE, updateMember } from './members.js';

/**
 * Re-times members against the dense model; returns the updated records with the measured speedup,
 * its deviation and status, and the verification's diagnostics.
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

/** Re-times the members of `records` that have no measured speedup yet (in place, and in their member.json). */
export async function verifyPending(ctx: RunContext, records: MemberRecord[], tolerance: number): Promise<void> {
  const unverified = records.filter((r) => r.measuredSpeedup === undefined);
  if (unverified.length === 0) return;
  ctx.emit({ kind: 'stage', stage: 'verify', message: `re-timing ${unverified.length} members against the dense model` });
  const verified = await verifyMembers(ctx, unverified, tolerance);
  for (const v of verified) {
    await updateMember(ctx.run.path(v.dir), v);
    records[records.findIndex((r) => r.dir === v.dir)] = v;
  }
}
