// Guarantee benchmark (issue 4): for a BERT-base-shaped model (random weights) at batch 1 x 128 and
// batch 32 x 128, build the latency table, search a configuration for each target speedup (random
// layer-wise errors), export it, time it against the dense model, and print target / predicted /
// measured / deviation, plus the table build time.
//
// Goals: max |measured/target − 1| <= 2%, max |measured/predicted − 1| <= 2%, batch-1 table <= 10 min
// on 2 cores. Timings are only meaningful on a quiet machine.
//
//   pnpm --filter @ziplm/latency bench                  # full run (tens of minutes)
//   ZIPLM_BENCH_QUICK=1 pnpm --filter @ziplm/latency bench   # 2-layer model, batch 1, few targets
//   ZIPLM_LATENCY_CONTEXT=isolated ...                   # time levels as isolated blocks instead
//   ZIPLM_BENCH_BATCHES=1 ...                            # only batch 1 (comma list: 1,32)
//   ZIPLM_LATENCY_CONTEXT_LAYERS=12 ...                  # layers of the context models (default 4)
//   ZIPLM_LATENCY_CALIBRATE=1 ...                        # scale level times to reproduce the dense model
//   ZIPLM_VISIT_RUNS=3 ...                               # runs per visit (the last one timed; default 2)

import { bertConfig, withLayerShapes } from '@ziplm/models';
import {
  describeEnvironment,
  inferenceEnvironment,
  type LatencyTable,
  maxAchievableSpeedup,
  predictRuntime,
  saveLatencyTable,
  searchForSpeedup,
  type SearchResult,
} from '../src/index.js';
import { buildLatencyTable, timingCheckpoint, verifySpeedups } from '../src/measure/index.js';
import { outputFile, pad, pct, progressLogger, protocols, quick, randomErrors } from './common.js';

const context = (process.env.ZIPLM_LATENCY_CONTEXT ?? 'model') as 'model' | 'isolated';
const contextLayers = process.env.ZIPLM_LATENCY_CONTEXT_LAYERS ? Number(process.env.ZIPLM_LATENCY_CONTEXT_LAYERS) : undefined;
const calibrateToDense = process.env.ZIPLM_LATENCY_CALIBRATE === '1';
const batches = (process.env.ZIPLM_BENCH_BATCHES ?? (quick ? '1' : '1,32')).split(',').map(Number);
const config = quick ? bertConfig({ numLayers: 2 }) : bertConfig();
const allTargets = quick ? [1.5, 2, 3, 4] : [1.5, 2, 3, 4, 6, 8, 10, 12, 15, 20, 25, 30];
const visitRuns = process.env.ZIPLM_VISIT_RUNS ? Number(process.env.ZIPLM_VISIT_RUNS) : undefined;
console.log(
  `@ziplm/latency guarantee benchmark${quick ? ' (QUICK)' : ''}: BERT-base shape, ${config.numLayers} layers, level context "${context}"` +
    `${contextLayers ? ` (${contextLayers} layers)` : ''}${calibrateToDense ? ', calibrated to the dense model' : ''}`,
);
console.log('Timings are noisy unless the machine is quiet; the protocol interleaves configurations to share the noise.\n');

const summary: string[] = [];
for (const batchSize of batches) {
  const env = inferenceEnvironment({ mode: batchSize === 1 ? 'latency' : 'throughput', batchSize, sequenceLength: 128 });
  const label = `batch ${batchSize}x128`;
  console.log(`== ${describeEnvironment(env)}`);
  const table = await buildLatencyTable(config, env, {
    ...protocols(batchSize).build,
    context,
    ...(visitRuns ? { visitRuns } : {}),
    ...(contextLayers ? { contextLayers } : {}),
    calibrateToDense,
    onProgress: progressLogger(label),
  });
  const file = outputFile(`bert-base${quick ? '-quick' : ''}-b${batchSize}-s128-${context}.json`);
  await saveLatencyTable(file, table);
  const b = table.build!;
  console.log(`table: ${file}`);
  console.log(
    `  build ${b.seconds.toFixed(1)} s; dense ${table.dense.median.toFixed(2)} ms (±${(100 * table.dense.relativeError).toFixed(2)}%), ` +
      `non-prunable ${table.nonPrunable.median.toFixed(2)} ms; rounds ${b.rounds.min}–${b.rounds.max}; re-measured ${b.remeasured.length}; ` +
      `monotonicity violations ${b.monotonicity.length} (${b.monotonicity.filter((m) => m.resolved).length} resolved by re-measuring); ` +
      `additivity (dense measured / predicted − 1) ${pct(b.additivity!.residual)}`,
  );
  for (const m of b.monotonicity) console.log(`    ${m.module} ${m.smaller} vs ${m.larger}: ${m.resolved ? 'resolved' : 'persists'}`);
  if (b.calibration) {
    const c = b.calibration;
    console.log(
      `  calibration on ${c.points.length} whole models: scale ${table.blockTiming.scale.toFixed(4)}, offset ${((table.blockTiming.offset ?? 0) * 1000).toFixed(1)} µs per module` +
        `${c.applied ? '' : ' (REJECTED, table uncalibrated)'}; largest model-time error ${pct(c.uncalibratedError)} before, ${pct(c.error)} after`,
    );
  }

  const errors = randomErrors(table, 1);
  const max = maxAchievableSpeedup(table, errors);
  const targets = allTargets.filter((t) => t <= max);
  console.log(`  max predicted speedup ${max.toFixed(2)}x; targets ${targets.join(', ')}`);
  const results: SearchResult[] = targets.map((target) => searchForSpeedup(table, errors, { target }));
  const dense = timingCheckpoint(config);
  const started = performance.now();
  const reports = await verifySpeedups({
    dense,
    env,
    table,
    ...protocols(batchSize).verify,
    ...(visitRuns ? { visitRuns } : {}),
    candidates: results.map((r) => ({
      model: timingCheckpoint(withLayerShapes(config, r.layerHeads, r.layerIntermediate)),
      target: r.target,
      predicted: r.predictedSpeedup,
    })),
  });
  console.log(
    `  verification ${((performance.now() - started) / 1000).toFixed(1)} s; dense today vs table ${pct(reports[0]?.denseDrift ?? 0)}`,
  );
  // The same prediction without the whole-model calibration (level times as timed in context):
  // shows what the calibration contributed on these members.
  const raw = uncalibrated(table);
  const widths = [7, 10, 10, 12, 11, 12, 7, 12, 12, 6];
  console.log(
    pad(['target', 'predicted', 'measured', 'meas/target', 'meas/pred', 'meas/uncal', '±', 'heads kept', 'ffn kept', 'status'], widths),
  );
  reports.forEach((r, i) => {
    const res = results[i]!;
    const heads = res.layerHeads.reduce((a, x) => a + x, 0) / (config.numLayers * config.numHeads);
    const ffn = res.layerIntermediate.reduce((a, x) => a + x, 0) / (config.numLayers * config.intermediateSize);
    console.log(
      pad(
        [
          r.target.toFixed(1),
          r.predicted!.toFixed(3),
          r.measured.toFixed(3),
          pct(r.deviation),
          pct(r.predictionError!),
          pct(r.measured / predictRuntime(raw, res).speedup - 1),
          `${(100 * r.uncertainty).toFixed(1)}%`,
          `${(100 * heads).toFixed(1)}%`,
          `${(100 * ffn).toFixed(1)}%`,
          r.status,
        ],
        widths,
      ),
    );
  });
  const maxTarget = Math.max(...reports.map((r) => Math.abs(r.deviation)));
  const maxPred = Math.max(...reports.map((r) => Math.abs(r.predictionError!)));
  const line =
    `${label}: max |measured/target − 1| ${(100 * maxTarget).toFixed(2)}% (goal 2%) ${maxTarget <= 0.02 ? 'MET' : 'NOT MET'}; ` +
    `max |measured/predicted − 1| ${(100 * maxPred).toFixed(2)}% (goal 2%) ${maxPred <= 0.02 ? 'MET' : 'NOT MET'}; ` +
    `table build ${b.seconds.toFixed(0)} s${batchSize === 1 ? ` (goal 600 s) ${b.seconds <= 600 ? 'MET' : 'NOT MET'}` : ''}`;
  summary.push(line);
  console.log(`  ${line}\n`);
}
console.log('Summary');
for (const line of summary) console.log(`  ${line}`);

/** The table with its whole-model calibration undone (scale · t + offset → t for present levels). */
function uncalibrated(table: LatencyTable): LatencyTable {
  const { scale } = table.blockTiming;
  const offset = table.blockTiming.offset ?? 0;
  const undo = (levels: LatencyTable['attention']) => levels.map((l) => (l.kept > 0 ? { ...l, time: (l.time - offset) / scale } : l));
  return { ...table, attention: undo(table.attention), ffn: undo(table.ffn) };
}
