// Guarantee benchmark (issues 4 and 13): for a BERT-base-shaped model (random weights) at batch 1 x 128
// and batch 32 x 128, build the latency table, search a configuration for each target speedup (random
// layer-wise errors), export it, time it against the dense model, and then do what a one-shot
// pipeline run does with members that miss their target: search them again. Before the re-search the
// table is calibrated to the members just measured (`calibrateToMembers`: kept only when it predicts
// held-out members better than the table), and a missing member's search target is corrected by
// what the calibrated table still gets wrong on it (target · predicted / measured, as the pipeline's
// retarget) when that is more than twice the measurement's standard error. Every verification re-times ALL members against the dense model in one session, so
// the last one is an independent measurement of the final family.
//
// Per member it prints target, predicted, measured, measured/target − 1 with its uncertainty, the
// table's prediction error (measured/predicted − 1) and a verdict against the 2% goal:
//   within        |measured/target − 1| <= 2%
//   outside       the whole 95% interval of measured/target − 1 lies outside ±2%
//   inconclusive  the point estimate is outside ±2% but the interval reaches inside: this machine's
//                 noise cannot settle it (re-run on a quieter machine or with more rounds).
// Goals: every member within 2% after retargeting, batch-1 table <= 10 min on 2 cores. Timings are
// only meaningful on a quiet machine.
//
//   pnpm --filter @ziplm/latency bench                  # full run (tens of minutes)
//   ZIPLM_BENCH_QUICK=1 pnpm --filter @ziplm/latency bench   # 2-layer model, batch 1, few targets
//   ZIPLM_BENCH_BATCHES=1 ...                            # only batch 1 (comma list: 1,32)
//   ZIPLM_BENCH_LAYERS=4 ...                             # model depth (default 12; quick 2)
//   ZIPLM_BENCH_TARGETS=2,4,8 ...                        # targets (default 1.5…30; quick 1.5…4)
//   ZIPLM_BENCH_RETARGET=0 ...                           # re-search rounds (default 2, as the pipeline)
//   ZIPLM_BENCH_MEMBER_CALIBRATION=0 ...                 # re-search with the plain table (the pipeline's rule alone)
//   ZIPLM_BENCH_REUSE_TABLE=1 ...                        # load the table a previous run saved instead of building it
//   ZIPLM_BENCH_VERIFY_ROUNDS=20,60 ...                  # min,max rounds of every verification
//   ZIPLM_LATENCY_CONTEXT=isolated ...                   # time levels as isolated blocks instead
//   ZIPLM_LATENCY_CONTEXT_LAYERS=12 ...                  # layers of the context models (default 4)
//   ZIPLM_LATENCY_CALIBRATE=1 ...                        # scale level times to reproduce the dense model
//   ZIPLM_VISIT_RUNS=3 ...                               # runs per visit (the last one timed; default 2)
//   ZIPLM_BENCH_PRECISION=int8-dynamic ...               # INT8 levels (or int8-static); targets count from the dense
//                                                        # FP32 model, timed in the same table (compound speedups)

import { existsSync } from 'node:fs';
import { bertConfig, withLayerShapes } from '@ziplm/models';
import {
  applyMemberCalibration,
  calibrateToMembers,
  describeEnvironment,
  inferenceEnvironment,
  type InferencePrecision,
  type LatencyTable,
  loadLatencyTable,
  type MeasuredMember,
  maxAchievableSpeedup,
  predictRuntime,
  saveLatencyTable,
  searchForSpeedup,
  type SearchResult,
} from '../src/index.js';
import { buildLatencyTable, timingCheckpoint, type VerificationReport, verifySpeedups } from '../src/measure/index.js';
import { outputFile, pad, pct, progressLogger, protocols, quick, randomErrors } from './common.js';

const TOLERANCE = 0.02;
/** The pipeline's bound on one re-search's correction (MAX_RETARGET_CORRECTION of @ziplm/pipeline). */
const MAX_CORRECTION = 1.25;

const context = (process.env.ZIPLM_LATENCY_CONTEXT ?? 'model') as 'model' | 'isolated';
const contextLayers = process.env.ZIPLM_LATENCY_CONTEXT_LAYERS ? Number(process.env.ZIPLM_LATENCY_CONTEXT_LAYERS) : undefined;
const calibrateToDense = process.env.ZIPLM_LATENCY_CALIBRATE === '1';
const batches = (process.env.ZIPLM_BENCH_BATCHES ?? (quick ? '1' : '1,32')).split(',').map(Number);
const layers = Number(process.env.ZIPLM_BENCH_LAYERS ?? (quick ? 2 : 12));
const config = bertConfig({ numLayers: layers });
const allTargets = process.env.ZIPLM_BENCH_TARGETS
  ? process.env.ZIPLM_BENCH_TARGETS.split(',').map(Number)
  : quick
    ? [1.5, 2, 3, 4]
    : [1.5, 2, 3, 4, 6, 8, 10, 12, 15, 20, 25, 30];
const precision = (process.env.ZIPLM_BENCH_PRECISION ?? 'fp32') as InferencePrecision;
const visitRuns = process.env.ZIPLM_VISIT_RUNS ? Number(process.env.ZIPLM_VISIT_RUNS) : undefined;
const retargetRounds = Number(process.env.ZIPLM_BENCH_RETARGET ?? 2);
const memberCalibration = process.env.ZIPLM_BENCH_MEMBER_CALIBRATION !== '0';
const reuseTable = process.env.ZIPLM_BENCH_REUSE_TABLE === '1';
/** `min,max` rounds of every verification instead of the protocol's (a shorter loop while iterating). */
const verifyRounds = process.env.ZIPLM_BENCH_VERIFY_ROUNDS?.split(',').map(Number);
const verifyProtocol = (batchSize: number) => ({
  ...protocols(batchSize).verify,
  ...(verifyRounds ? { minRounds: verifyRounds[0]!, maxRounds: verifyRounds[1] ?? verifyRounds[0]! } : {}),
});
console.log(
  `@ziplm/latency guarantee benchmark${quick ? ' (QUICK)' : ''}: BERT-base shape, ${config.numLayers} layers, level context "${context}"` +
    `${contextLayers ? ` (${contextLayers} layers)` : ''}${calibrateToDense ? ', calibrated to the dense model' : ''}; ` +
    `${retargetRounds} re-search round(s)${retargetRounds > 0 ? (memberCalibration ? ' with member calibration' : ' with the plain table') : ''}`,
);
console.log('Timings are noisy unless the machine is quiet; the protocol interleaves configurations to share the noise.\n');

/** One member of the family: the target, the table it was searched with, and the search's answer. */
interface Member {
  readonly target: number;
  readonly searchTarget: number;
  /** The table the member's prediction comes from (calibrated after a re-search). */
  readonly table: LatencyTable;
  readonly result: SearchResult;
}

type Verdict = 'within' | 'outside' | 'inconclusive';

/** The 2% verdict of one measurement, from its point estimate and 95% interval (see the file comment). */
function verdictOf(report: VerificationReport): Verdict {
  if (Math.abs(report.deviation) <= TOLERANCE) return 'within';
  const low = report.interval[0] / report.target - 1;
  const high = report.interval[1] / report.target - 1;
  return low > TOLERANCE || high < -TOLERANCE ? 'outside' : 'inconclusive';
}

/** The pipeline's rule (`missesTarget`): short of the target, or over it by more than the table predicted. */
function misses(report: VerificationReport): boolean {
  if (report.deviation < -TOLERANCE) return true;
  return report.deviation > TOLERANCE && report.predictionError! > TOLERANCE;
}

const summary: string[] = [];
for (const batchSize of batches) {
  const env = inferenceEnvironment({ mode: batchSize === 1 ? 'latency' : 'throughput', batchSize, sequenceLength: 128, precision });
  const label = `batch ${batchSize}x128`;
  console.log(`== ${describeEnvironment(env)}`);
  const file = outputFile(
    `bert-base${quick ? '-quick' : ''}${layers !== 12 && !quick ? `-l${layers}` : ''}-b${batchSize}-s128-${context}${env.precision ? `-${env.precision}` : ''}.json`,
  );
  let table: LatencyTable;
  if (reuseTable && existsSync(file)) {
    table = (await loadLatencyTable(file, { model: config })).table;
    console.log(`table (reused): ${file}`);
  } else {
    table = await buildLatencyTable(config, env, {
      ...protocols(batchSize).build,
      context,
      ...(visitRuns ? { visitRuns } : {}),
      ...(contextLayers ? { contextLayers } : {}),
      calibrateToDense,
      onProgress: progressLogger(label),
    });
    await saveLatencyTable(file, table);
    console.log(`table: ${file}`);
  }
  const b = table.build!;
  console.log(
    `  build ${b.seconds.toFixed(1)} s; dense ${table.dense.median.toFixed(2)} ms (±${(100 * table.dense.relativeError).toFixed(2)}%), ` +
      `non-prunable ${table.nonPrunable.median.toFixed(2)} ms${table.reference ? `; dense FP32 (the reference) ${table.reference.median.toFixed(2)} ms, INT8's own factor ${(table.reference.median / table.dense.median).toFixed(2)}x` : ''}; rounds ${b.rounds.min}–${b.rounds.max}; re-measured ${b.remeasured.length}; ` +
      `monotonicity violations ${b.monotonicity.length} (${b.monotonicity.filter((m) => m.resolved).length} resolved by re-measuring); ` +
      `additivity (dense measured / predicted − 1) ${pct(b.additivity!.residual)}`,
  );
  if (b.calibration) {
    const c = b.calibration;
    console.log(
      `  build calibration on ${c.points.length} whole models: scale ${table.blockTiming.scale.toFixed(4)}, offset ${((table.blockTiming.offset ?? 0) * 1000).toFixed(1)} µs per module` +
        `${c.applied ? '' : ' (REJECTED, table uncalibrated)'}; largest model-time error ${pct(c.uncalibratedError)} before, ${pct(c.error)} after`,
    );
  }

  const errors = randomErrors(table, 1);
  const max = maxAchievableSpeedup(table, errors);
  const targets = allTargets.filter((t) => t <= max);
  console.log(`  max predicted speedup ${max.toFixed(2)}x; targets ${targets.join(', ')}`);
  let members: Member[] = targets.map((target) => ({
    target,
    searchTarget: target,
    table,
    result: searchForSpeedup(table, errors, { target }),
  }));
  const dense = timingCheckpoint(config);
  // Every measured member so far: the points of the member calibration.
  const measured: MeasuredMember[] = [];
  let reports: VerificationReport[] = [];
  for (let round = 0; ; round++) {
    const started = performance.now();
    reports = await verifySpeedups({
      dense,
      env,
      table,
      ...verifyProtocol(batchSize),
      ...(visitRuns ? { visitRuns } : {}),
      seed: round,
      candidates: members.map((m) => ({
        model: timingCheckpoint(withLayerShapes(config, m.result.layerHeads, m.result.layerIntermediate)),
        target: m.target,
        predicted: m.result.predictedSpeedup,
      })),
    });
    console.log(
      `  verification ${round + 1} (${round === 0 ? 'as searched' : `after re-search round ${round}`}): ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `dense today vs table ${pct(reports[0]?.denseDrift ?? 0)}`,
    );
    printMembers(members, reports);
    for (const [i, m] of members.entries()) {
      measured.push({
        layerHeads: m.result.layerHeads,
        layerIntermediate: m.result.layerIntermediate,
        measuredSpeedup: reports[i]!.measured,
      });
    }
    const missing = members.map((_, i) => i).filter((i) => misses(reports[i]!));
    if (round >= retargetRounds || missing.length === 0) break;
    const calibration = memberCalibration ? calibrateToMembers(table, measured) : undefined;
    const searchTable = calibration ? applyMemberCalibration(table, calibration) : table;
    if (calibration) {
      const held = Object.entries(calibration.heldOutError)
        .map(([model, e]) => `${model} ${(100 * e).toFixed(2)}%`)
        .join(', ');
      console.log(
        `  member calibration on ${calibration.members} measured members: ${calibration.model}` +
          `${calibration.model === 'none' ? '' : ` (scale ${calibration.scale.toFixed(4)}, offset ${(calibration.offset * 1000).toFixed(1)} µs per module)`}; ` +
          `RMS prediction error: table ${(100 * calibration.uncalibratedError).toFixed(2)}%, held out ${held || '—'}; ${calibration.reason}`,
      );
    }
    // The pipeline's re-search: the search target corrected by the error the (calibrated) table
    // still makes on this member, bounded, never below 1. With the member calibration, that error
    // is corrected only when the measurement can tell it from noise (beyond two standard errors):
    // a correction from one noisy measurement adds its noise to the next member (measured here: a
    // member 18% short in a noisy first verification, re-searched 8% higher, landed 10% over).
    members = members.map((m, i) => {
      if (!missing.includes(i)) return m;
      const report = reports[i]!;
      const predicted = predictRuntime(searchTable, m.result).speedup;
      const residual = predicted / report.measured;
      const significant = !calibration || Math.abs(residual - 1) > 2 * report.uncertainty;
      const correction = significant ? Math.min(MAX_CORRECTION, Math.max(1 / MAX_CORRECTION, residual)) : 1;
      const searchTarget = Math.max(1, m.target * correction);
      return {
        target: m.target,
        searchTarget,
        table: searchTable,
        result: searchForSpeedup(searchTable, errors, { target: searchTarget }),
      };
    });
    console.log(
      `  re-search round ${round + 1}: ${missing.length} member(s) missed the target (${missing.map((i) => members[i]!.target).join(', ')}x)`,
    );
  }
  const deviations = reports.map((r) => Math.abs(r.deviation));
  const verdicts = reports.map(verdictOf);
  const count = (v: Verdict) => verdicts.filter((x) => x === v).length;
  const maxTarget = Math.max(...deviations);
  const maxPred = Math.max(...reports.map((r) => Math.abs(r.predictionError!)));
  const line =
    `${label}: ${count('within')}/${reports.length} within 2%, ${count('inconclusive')} inconclusive, ${count('outside')} outside; ` +
    `max |measured/target − 1| ${(100 * maxTarget).toFixed(2)}%; max |measured/predicted − 1| ${(100 * maxPred).toFixed(2)}%; ` +
    `table build ${b.seconds.toFixed(0)} s${batchSize === 1 ? ` (goal 600 s) ${b.seconds <= 600 ? 'MET' : 'NOT MET'}` : ''}`;
  summary.push(line);
  console.log(`  ${line}\n`);
}
console.log('Summary');
for (const line of summary) console.log(`  ${line}`);

function printMembers(members: readonly Member[], reports: readonly VerificationReport[]): void {
  const widths = [7, 9, 10, 10, 18, 18, 10, 11, 11, 13];
  console.log(
    pad(
      ['target', 'searched', 'predicted', 'measured', 'meas/target ±σ', '95% interval', 'meas/pred', 'heads kept', 'ffn kept', 'verdict'],
      widths,
    ),
  );
  reports.forEach((r, i) => {
    const m = members[i]!;
    const heads = m.result.layerHeads.reduce((a, x) => a + x, 0) / (config.numLayers * config.numHeads);
    const ffn = m.result.layerIntermediate.reduce((a, x) => a + x, 0) / (config.numLayers * config.intermediateSize);
    console.log(
      pad(
        [
          r.target.toFixed(1),
          m.searchTarget.toFixed(3),
          r.predicted!.toFixed(3),
          r.measured.toFixed(3),
          `${pct(r.deviation)} ±${(100 * r.uncertainty).toFixed(2)}%`,
          `${pct(r.interval[0] / r.target - 1)}…${pct(r.interval[1] / r.target - 1)}`,
          pct(r.predictionError!),
          `${(100 * heads).toFixed(1)}%`,
          `${(100 * ffn).toFixed(1)}%`,
          verdictOf(r),
        ],
        widths,
      ),
    );
  });
}
