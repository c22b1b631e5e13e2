// Verification: the latency table predicts, the device decides. Members are re-timed against the
// dense model in one interleaved protocol (@ziplm/latency's verifySpeedups), and each record gets the
// measured speedup (the median per-round ratio, the point estimate the retarget loop acts on), its
// deviation from the target, the verdict from the ratio's 95% interval (pass / fail / inconclusive,
// with the reasons of a verdict that is not a pass) and the diagnostics. What is timed is the
// member's shipped model.onnx (checked against its recorded hash when the member was read back), or,
// for a re-search candidate not yet written, the graph of its checkpoint: the bytes that will be
// written for an FP32 member; for a compound member, its weights rounded at export (static ranges
// nominal), which has the shipped graph's operators and shapes but not yet its GPTQ weights and ranges.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifySpeedups } from '@ziplm/latency/measure';
import type { RunContext } from '../context.js';
import type { MemberRecord, MemberVerification } from '../results.js';
import { ONNX_FILE, recordDir, updateMember } from './members.js';

/** What re-timing a member adds to its record (`statusReason` only for a verdict that is not a pass). */
export type MeasuredFields = Required<Pick<MemberRecord, 'measuredSpeedup' | 'deviation' | 'status' | 'verification'>> &
  Pick<MemberRecord, 'statusReason'>;

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
  // Keys in the order of the member.json schema (a record read back and written again is byte-identical).
  return reports.map((r) => {
    const verification: MemberVerification = {
      uncertainty: r.uncertainty,
      interval: r.interval,
      ...(r.predictionError !== undefined ? { predictionError: r.predictionError } : {}),
      ...(r.denseDrift !== undefined ? { denseDrift: r.denseDrift } : {}),
      denseMs: r.dense.median,
      memberMs: r.pruned.median,
      rounds: r.pruned.samples,
    };
    return {
      measuredSpeedup: r.measured,
      deviation: r.deviation,
      status: r.status,
      ...(r.status !== 'pass' ? { statusReason: r.reasons.join('; ') } : {}),
      verification,
    };
  });
}

/** A member record without what re-timing added to it (the fields of {@link MeasuredFields}). */
export function withoutMeasurement(record: MemberRecord): MemberRecord {
  const { measuredSpeedup: _speedup, deviation: _deviation, status: _status, statusReason: _reason, verification: _v, ...rest } = record;
  return rest;
}

/**
 * A member read back when a run resumes, as the run carries it on when it verifies. A stored
 * 'inconclusive' verdict is a timing that could not decide (a busy machine, too few rounds for the
 * noise), not a result: its measurement is dropped so that the member is re-timed with the pending
 * ones (`verifyPending`) instead of replayed. A stored 'pass' stands, and so does a 'fail' (the whole
 * interval was below the bound: a real miss, which the one-shot retarget loop re-searches as before,
 * up to its rounds).
 */
export function retimeInconclusive(ctx: RunContext, record: MemberRecord): MemberRecord {
  if (record.status !== 'inconclusive') return record;
  ctx.emit({
    kind: 'stage',
    stage: 'verify',
    message: `${record.variant ?? record.method} ${record.target}x: its stored speedup verdict was inconclusive; it will be re-timed`,
  });
  return withoutMeasurement(record);
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
  // A new measurement replaces the whole old one (a pass has no statusReason to overwrite a stale one).
  return members.map((m, i) => ({ ...withoutMeasurement(m), ...measured[i]! }));
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
