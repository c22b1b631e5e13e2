// Additivity benchmark: how well does "non-prunable + Σ per-layer level times" predict the speedup
// of whole pruned models, with level times measured inside R-layer models (context "model") or as
// isolated blocks minus a per-run overhead (context "isolated")? Random mixed configurations (every
// layer its own head count and FFN size, removed modules included) are exported whole and timed
// against the dense model in one interleaved protocol; each table's predicted speedup is compared
// with the measured one. A small model keeps this to a few minutes.
//
//   pnpm exec tsx --conditions=@ziplm/source packages/latency/bench/additivity.ts
//   ZIPLM_BENCH_QUICK=1 ...                # 2 layers, fewer configurations and rounds
//   ZIPLM_BENCH_BATCH=32 ...               # batch 32 x 128 instead of 1 x 128
//   ZIPLM_BENCH_LAYERS=12 ...              # model depth (default 4; quick 2)
//   ZIPLM_BENCH_CONTEXTS=model:4,model:12,isolated   # tables to compare (default model:<layers>,isolated)

import { seededRandom } from '@ziplm/core';
import { bertConfig, withLayerShapes } from '@ziplm/models';
import { describeEnvironment, inferenceEnvironment, predictRuntime, type LatencyTable } from '../src/index.js';
import { buildLatencyTable, timingCheckpoint, verifySpeedups } from '../src/measure/index.js';
import { pad, pct, progressLogger, quick } from './common.js';

const layers = Number(process.env.ZIPLM_BENCH_LAYERS ?? (quick ? 2 : 4));
const batchSize = Number(process.env.ZIPLM_BENCH_BATCH ?? 1);
const config = bertConfig({ numLayers: layers });
const env = inferenceEnvironment({ mode: batchSize === 1 ? 'latency' : 'throughput', batchSize, sequenceLength: 128 });
const heads = [12, 9, 6, 3, 1, 0];
const neurons = [3072, 1814, 1071, 632, 336, 179, 95, 33, 0]; // members of the paper's grid for 3072
const protocol = quick
  ? { warmupRuns: 2, minRounds: 6, maxRounds: 12, precision: 0.01 }
  : { warmupRuns: 3, minRounds: 20, maxRounds: 80, precision: 0.003 };

console.log(
  `@ziplm/latency additivity benchmark${quick ? ' (QUICK)' : ''}: BERT-base width, ${layers} layers, ${describeEnvironment(env)}`,
);
const contexts = (process.env.ZIPLM_BENCH_CONTEXTS ?? `model:${layers},isolated`).split(',');
const tables: Record<string, LatencyTable> = {};
for (const spec of contexts) {
  const [context, r] = spec.split(':') as ['model' | 'isolated', string | undefined];
  tables[spec] = await buildLatencyTable(config, env, {
    ...protocol,
    context,
    ...(r ? { contextLayers: Number(r) } : {}),
    attentionLevels: heads,
    ffnLevels: neurons,
    onProgress: progressLogger(spec),
  });
}
for (const [name, t] of Object.entries(tables)) {
  console.log(
    `  ${name}: build ${t.build!.seconds.toFixed(0)} s, dense ${t.dense.median.toFixed(2)} ms, additivity residual ${pct(t.build!.additivity!.residual)}`,
  );
}

const random = seededRandom(7);
const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
const shapes: Array<{ layerHeads: number[]; layerIntermediate: number[] }> = [];
for (const k of [6, 1])
  shapes.push({ layerHeads: new Array(layers).fill(k), layerIntermediate: new Array(layers).fill(k === 6 ? 1071 : 95) });
for (let i = 0; i < (quick ? 4 : 10); i++) {
  shapes.push({
    layerHeads: Array.from({ length: layers }, () => pick(heads)),
    layerIntermediate: Array.from({ length: layers }, () => pick(neurons)),
  });
}
const candidates = shapes.map((s) => {
  const predicted = predictRuntime(tables[contexts[0]!]!, s).speedup;
  return { model: timingCheckpoint(withLayerShapes(config, s.layerHeads, s.layerIntermediate)), target: predicted, predicted };
});
const reports = await verifySpeedups({ dense: timingCheckpoint(config), env, ...protocol, candidates });

const widths = [28, 34, 9, ...contexts.flatMap((c) => [Math.max(9, c.length), 8]), 6];
console.log(pad(['heads', 'ffn', 'measured', ...contexts.flatMap((c) => [c, 'err']), '±'], widths));
const errs: Record<string, number[]> = Object.fromEntries(contexts.map((c) => [c, []]));
reports.forEach((r, i) => {
  const s = shapes[i]!;
  const cells: string[] = [];
  for (const c of contexts) {
    const p = predictRuntime(tables[c]!, s).speedup;
    errs[c]!.push(r.measured / p - 1);
    cells.push(p.toFixed(3), pct(r.measured / p - 1));
  }
  console.log(
    pad(
      [s.layerHeads.join(','), s.layerIntermediate.join(','), r.measured.toFixed(3), ...cells, `${(100 * r.uncertainty).toFixed(1)}%`],
      widths,
    ),
  );
});
for (const [name, e] of Object.entries(errs)) {
  const max = Math.max(...e.map(Math.abs));
  const mean = e.reduce((a, x) => a + x, 0) / e.length;
  console.log(`${name.padEnd(10)} measured/predicted − 1: mean ${pct(mean)}, max |.| ${(100 * max).toFixed(2)}% (goal 2%)`);
}
