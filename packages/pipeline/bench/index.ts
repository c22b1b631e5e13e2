// Benchmark (issue 6): one-shot ZipLM of a BERT-base-shaped model (12 layers, 768, 12 heads, 3072;
// random weights), 256 calibration sequences of 128 tokens, targets 2x–8x: calibration, database
// build, search, shrink and export. Goal: <= 5 minutes and <= 4 GB peak RSS on 2 cores.
//
// The latency table is per device and measured once (the latency benchmark times its build); here
// it is read from runs/latency/ when the latency benchmark left one, else measured with few rounds,
// and that time is reported separately. Search is the plain DP: SPDY scores every candidate with a
// calibration forward pass, a cost that scales with the model (reported as the time of one scoring).
//
//   pnpm --filter @ziplm/pipeline bench            (ZIPLM_BENCH_QUICK=1: a 2-layer model)

import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seededRandom } from '@ziplm/core';
import { inferenceEnvironment, loadLatencyTable, searchForSpeedup, saveLatencyTable, type LatencyTable } from '@ziplm/latency';
import { buildLatencyTable, timingCheckpoint } from '@ziplm/latency/measure';
import { bertConfig, exportModelToOnnx, findRepoRoot, saveCheckpoint } from '@ziplm/models';
import { createOrtMatMulEngine, createSession, loadOrt } from '@ziplm/onnx/runtime';
import { collectHessians } from '../src/stages/calibrate.js';
import { buildLevelDatabase } from '../src/stages/database.js';
import { stitchModel } from '../src/internal/stitch.js';
import type { TaskItem } from '../src/tasks/index.js';

const quick = process.env.ZIPLM_BENCH_QUICK === '1';
const layers = quick ? 2 : 12;
const config = bertConfig({ numLayers: layers, head: { type: 'classification', labels: ['a', 'b'] } });
const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 128 });
const targets = [2, 3, 4, 5, 6, 8];
const SEQUENCES = 256;
const LENGTH = 128;

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const gb = (b: number) => `${(b / 2 ** 30).toFixed(2)} GB`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const stages: Array<[string, number]> = [];
async function stage<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  stages.push([name, performance.now() - t0]);
  console.log(`  ${name.padEnd(34)} ${s(performance.now() - t0).padStart(8)}   rss ${gb(process.memoryUsage().rss)}`);
  return out;
}

console.log(
  `one-shot ZipLM, BERT-base shape (${layers} layers), ${SEQUENCES} × ${LENGTH} calibration tokens, targets ${targets.join(', ')}x`,
);
const checkpoint = timingCheckpoint(config, 1);
const work = mkdtempSync(join(tmpdir(), 'ziplm-bench-'));

// The latency table: reused from the latency benchmark when it left one for this shape.
const root = findRepoRoot() ?? process.cwd();
const saved = resolve(root, 'runs', 'latency', `bert-base-b1-s128-model.json`);
let table: LatencyTable;
const tableStart = performance.now();
if (!quick && existsSync(saved)) {
  table = (await loadLatencyTable(saved, { model: config })).table;
  console.log(`  latency table: ${saved}`);
} else {
  table = await buildLatencyTable(config, env, { minRounds: 5, maxRounds: 10 });
  await saveLatencyTable(join(work, 'table.json'), table);
  console.log(`  latency table measured in ${s(performance.now() - tableStart)} (not part of the budget)`);
}

const engine = await createOrtMatMulEngine();
const ort = await loadOrt();
const started = performance.now();
const rand = seededRandom(12345);
const items: TaskItem[] = Array.from({ length: SEQUENCES }, () => {
  const ids = [101, ...Array.from({ length: LENGTH - 2 }, () => 1000 + Math.floor(rand() * 28000)), 102];
  return { ids, typeIds: new Array<number>(LENGTH).fill(0) };
});

const hessians = await stage('calibration (Hessians, onnxruntime)', () =>
  collectHessians(checkpoint, items, 0, ort, { engine, batchSize: 8 }),
);
const db = await stage('level database (OBS, all modules)', () =>
  buildLevelDatabase(join(work, 'database'), checkpoint, hessians, { engine, fingerprint: 'bench' }),
);
hessians.clear();
const errors = await db.toLayerErrors();
const results: Array<{ target: number; predicted: number; heads: number; ffn: number }> = [];
await stage(`search + shrink + export (${targets.length} targets)`, async () => {
  for (const target of targets) {
    const choice = searchForSpeedup(table, errors, { target });
    const { checkpoint: pruned } = await stitchModel(checkpoint, db, choice);
    const dir = join(work, `member-${target}`);
    await saveCheckpoint(dir, pruned);
    exportModelToOnnx(pruned);
    results.push({
      target,
      predicted: choice.predictedSpeedup,
      heads: choice.layerHeads.reduce((a, b) => a + b, 0),
      ffn: choice.layerIntermediate.reduce((a, b) => a + b, 0),
    });
  }
});
const total = performance.now() - started;

// What one SPDY scoring would cost at this size (a calibration forward pass of the stitched model).
const spdyScore = await (async () => {
  const choice = searchForSpeedup(table, errors, { target: 4 });
  const t0 = performance.now();
  const { checkpoint: pruned } = await stitchModel(checkpoint, db, choice);
  const session = await createSession(exportModelToOnnx(pruned));
  for (let i = 0; i < 64; i += 8) {
    const ids = BigInt64Array.from(items.slice(i, i + 8).flatMap((it) => it.ids.map(BigInt)));
    const dims = [8, LENGTH];
    await session.run({
      input_ids: new ort.Tensor('int64', ids, dims),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(8 * LENGTH).fill(1n), dims),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(8 * LENGTH), dims),
    });
  }
  await session.release();
  return performance.now() - t0;
})();
clearInterval(sampler);
await engine.dispose();
await rm(work, { recursive: true, force: true });

console.log('');
console.log('target  predicted  heads kept  FFN neurons kept');
for (const r of results)
  console.log(
    `${`${r.target}x`.padStart(6)}  ${`${r.predicted.toFixed(2)}x`.padStart(9)}  ${String(r.heads).padStart(10)}  ${String(r.ffn).padStart(16)}`,
  );
console.log('');
console.log(
  `total (calibration + database + search + shrink + export): ${s(total)}  (goal <= 300 s: ${total <= 300_000 ? 'met' : 'NOT met'}, ratio ${(total / 300_000).toFixed(2)})`,
);
console.log(
  `peak RSS: ${gb(peakRss)}  (goal <= 4 GB: ${peakRss <= 4 * 2 ** 30 ? 'met' : 'NOT met'}, ratio ${(peakRss / (4 * 2 ** 30)).toFixed(2)})`,
);
console.log(`one SPDY scoring at this size (stitch + export + 64 calibration sequences): ${s(spdyScore)}`);
