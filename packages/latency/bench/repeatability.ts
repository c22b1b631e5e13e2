// Repeatability of a measured speedup: how far apart two verifications of the SAME pruned models
// come out on this machine. No latency table can be checked more precisely than this: if two
// measurements of one pair of models differ by 4%, a prediction error of 2% cannot be told from noise.
//
// Loads the batch-1 table the guarantee benchmark saved (runs/latency/bert-base-b1-s128-model.json;
// run `ZIPLM_BENCH_BATCHES=1 pnpm --filter @ziplm/latency bench` first), searches a few targets with
// random layer-wise errors, then verifies the same configurations `ZIPLM_REPEATS` times (default 2),
// each a separate protocol (fresh sessions), back to back, and prints every measured speedup and the
// spread.
//
//   pnpm exec tsx --conditions=@ziplm/source packages/latency/bench/repeatability.ts
//   ZIPLM_REPEATS=3 ZIPLM_BENCH_TARGETS=2,4,8 ...

import { bertConfig, withLayerShapes } from '@ziplm/models';
import { describeEnvironment, loadLatencyTable, searchForSpeedup } from '../src/index.js';
import { timingCheckpoint, verifySpeedups } from '../src/measure/index.js';
import { outputFile, pad, pct, protocols, randomErrors } from './common.js';

const repeats = Number(process.env.ZIPLM_REPEATS ?? 2);
const targets = (process.env.ZIPLM_BENCH_TARGETS ?? '2,4,8,15,30').split(',').map(Number);
const file = process.env.ZIPLM_BENCH_TABLE ?? outputFile('bert-base-b1-s128-model.json');

const { table } = await loadLatencyTable(file);
const env = table.environment;
const config = bertConfig();
console.log(
  `@ziplm/latency repeatability: ${describeEnvironment(env)}; table ${file}; ${repeats} verifications of targets ${targets.join(', ')}`,
);
const errors = randomErrors(table, 1);
const results = targets.map((target) => searchForSpeedup(table, errors, { target }));
const runs: number[][] = [];
const drifts: number[] = [];
for (let r = 0; r < repeats; r++) {
  const started = performance.now();
  const reports = await verifySpeedups({
    dense: timingCheckpoint(config),
    env,
    table,
    ...protocols(table.environment.batchSize).verify,
    seed: r,
    candidates: results.map((res) => ({
      model: timingCheckpoint(withLayerShapes(config, res.layerHeads, res.layerIntermediate)),
      target: res.target,
      predicted: res.predictedSpeedup,
    })),
  });
  runs.push(reports.map((x) => x.measured));
  drifts.push(reports[0]?.denseDrift ?? 0);
  console.log(
    `  verification ${r + 1}: ${((performance.now() - started) / 1000).toFixed(0)} s, dense ${reports[0]!.dense.median.toFixed(2)} ms (vs table ${pct(drifts[r]!)}); ` +
      `± of the speedups ${reports.map((x) => `${(100 * x.uncertainty).toFixed(1)}%`).join(', ')}`,
  );
}
const widths = [7, 10, ...runs.map(() => 11), 10];
console.log(pad(['target', 'predicted', ...runs.map((_, r) => `measured ${r + 1}`), 'spread'], widths));
let worst = 0;
results.forEach((res, i) => {
  const values = runs.map((run) => run[i]!);
  const spread = Math.max(...values) / Math.min(...values) - 1;
  worst = Math.max(worst, spread);
  console.log(pad([res.target.toFixed(1), res.predictedSpeedup.toFixed(3), ...values.map((v) => v.toFixed(3)), pct(spread)], widths));
});
console.log(`largest spread between verifications of the same model: ${pct(worst)}; dense drift vs table ${drifts.map(pct).join(', ')}`);
