// Verification: the latency table predicts, the device decides. Members are re-timed against the
// dense model in one interleaved protocol (@ziplm/latency's verifySpeedups), and each record gets the
// measured speedup, its deviation from the target, a pass/fail status and the diagnostics. What is
// timed is the member's shipped model.onnx (checked against its recorded hash when the member was
// read back), or, for a re-search candidate not yet written, the bytes that will be written.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifySpeedups } from '@ziplm/latency/measure';
import type { RunContext } from '../context.js';
import type { MemberRecord, MemberVerification } from '../results.js';
import { ONNX_FILE, recordDir, updateMember } from './members.js';

/** What re-timing a member adds to its record. */
export type MeasuredFields = Required<Pick<MemberRecord, 'measuredSpeedup' | 'deviation' | 'status' | 'verification'>>;

/** An ONNX graph to re-time, with the target and the table's prediction it is judged by. */
export interface SpeedupCandidate {
  readonly onnx: Uint8Array;
  readonly target: number;
  readonly predicted: number;
}

/** Re-times graphs against the dense model in one interleaved protocol; the measured fields of each, in order. */
export async function measureSpeedups(
  ctx: RunContext,
  candidates: readonly SpeedupCandidate[],
  tolerance: number,
): Promise<MeasuredFields[]> {
  const reports = await verifySpeedups({
    dense: ctx.dense,
    env: ctx.env,
    table: ctx.table,
    tolerance,
    candidates: candidates.map((c) => ({
      model: { onnx: c.onnx, vocabSize: ctx.dense.config.vocabSize },
      target: c.target,
      predicted: c.predicted,
    })),
  });
  return reports.map((r) => {
    const verification: MemberVerification = {
      uncertainty: r.uncertainty,
      ...(r.predictionError !== undefined ? { predictionError: r.predictionError } : {}),
      ...(r.denseDrift !== undefined ? { denseDrift: r.denseDrift } : {}),
      denseMs: r.dense.median,
      memberMs: r.pruned.median,
      rounds: r.pruned.samples,
    };
    return { measuredSpeedup: r.measured, deviation: r.deviation, status: r.status, verification };
  });
}

/**
 * Re-times members against the dense model; returns the updated records with the measured speedup,
 * its deviation and status, and the verification's diagnostics.
 */
export async function verifyMembers(ctx: RunContext, members: readonly MemberRecord[], tolerance: number): Promise<MemberRecord[]> {
  const candidates = await Promise.all(
    members.map(async (m) => ({
      onnx: new Uint8Array(await readFile(join(recordDir(ctx.run, m), ONNX_FILE))),
      target: m.target,
      predicted: m.predictedSpeedup,
    })),
  );
  const measured = await measureSpeedups(ctx, candidates, tolerance);
  return members.map((m, i) => ({ ...m, ...measured[i]! }));
}

/** Re-times the members of `records` that have no measured speedup yet (in place, and in their member.json). */
export async function verifyPending(ctx: RunContext, records: MemberRecord[], tolerance: number): Promise<void> {
  const unverified = records.filter((r) => r.measuredSpeedup === undefined);
  if (unverified.length === 0) return;
  ctx.emit({ kind: 'stage', stage: 'verify', message: `re-timing ${unverified.length} members against the dense model` });
  const verified = await verifyMembers(ctx, unverified, tolerance);
  for (const v of verified) {
    await updateMember(recordDir(ctx.run, v), v);
    records[records.findIndex((r) => r.dir === v.dir)] = v;
  }
}
