// INT8 vs FP32 in onnxruntime-node (issue 15, "Goals"): a BERT-base-shaped model (12 layers, hidden 768,
// 12 heads, FFN 3072; random weights, round-to-nearest INT8) exported fp32, INT8 with dynamic activation
// quantization and INT8 static (QDQ, nominal ranges: timings do not depend on them), timed at batch
// 1 x 128 and 32 x 128 on 2 intra-op threads. Prints medians, the speedups over fp32, the CPU and the
// load average (other processes on the machine skew every figure; the rounds interleave the three
// models so that load hits them alike).
//
//   pnpm exec tsx --conditions=@ziplm/source bench/int8.ts [--threads N]
//   ZIPLM_BENCH_QUICK=1 …   smaller run: batch 1 only, fewer repetitions
//
// Figures only: nothing here asserts a timing.

import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { bertConfig } from '../src/config.js';
import { exportModelToOnnx, type OnnxQuantizeOptions, quantizableLinears } from '../src/onnx/index.js';
import { fastRandomCheckpoint } from './_checkpoint.js';

const quick = process.env.ZIPLM_BENCH_QUICK === '1';
const threadsArg = process.argv.indexOf('--threads');
const threads = threadsArg >= 0 ? Number(process.argv[threadsArg + 1]) : 2;
const seq = 128;
// Batch 32 x 128 runs ~1 s (INT8) to several s (fp32) per call here, so it gets fewer repetitions.
const shapes = quick
  ? [{ batch: 1, reps: 5 }]
  : [
      { batch: 1, reps: 15 },
      { batch: 32, reps: 3 },
    ];
const warmup = quick ? 1 : 2;

const ort = await loadOrt();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const config = bertConfig({ head: { type: 'classification', labels: ['0', '1'] } });
const checkpoint = fastRandomCheckpoint(config, 1);
const ranges = new Map(quantizableLinears(config).map((l) => [l.input, { min: -8, max: 8 }]));
const variants: Array<{ name: string; quantize?: OnnxQuantizeOptions }> = [
  { name: 'fp32' },
  { name: 'int8 dynamic', quantize: { activations: 'dynamic' } },
  { name: 'int8 static (QDQ)', quantize: { activations: 'static', ranges } },
];

console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} logical cores), load average ${load()}`);
console.log(`onnxruntime-node ${ort.env.versions.node}, ${threads} intra-op threads, graph optimisation 'all', median ms`);
console.log(
  `BERT-base (${config.numLayers} x ${config.hiddenSize}, ${config.numHeads} heads, FFN ${config.intermediateSize}), random weights`,
);

const sessions: Array<{ name: string; session: InferenceSession }> = [];
for (const v of variants) {
  const t0 = performance.now();
  const bytes = exportModelToOnnx(checkpoint, v.quantize ? { quantize: v.quantize } : {});
  const exportMs = performance.now() - t0;
  // No spin-waiting: the sessions take turns, and spinning idle threads would slow the next one.
  const session = await createSession(bytes, { threads, allowSpinning: false });
  console.log(`  ${v.name.padEnd(18)} export ${(exportMs / 1000).toFixed(2)} s, ${(bytes.length / 2 ** 20).toFixed(0)} MB`);
  sessions.push({ name: v.name, session });
}

function int64(batch: number, value: (i: number) => number): OrtTensor {
  return new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(value(i))),
    [batch, seq],
  );
}

for (const { batch, reps } of shapes) {
  const feeds = {
    input_ids: int64(batch, (i) => (i * 7919) % config.vocabSize),
    attention_mask: int64(batch, () => 1),
    token_type_ids: int64(batch, () => 0),
  };
  const times = sessions.map(() => [] as number[]);
  for (let i = 0; i < warmup; i++) for (const s of sessions) await s.session.run(feeds);
  for (let i = 0; i < reps; i++) {
    for (const [k, s] of sessions.entries()) {
      const t0 = performance.now();
      await s.session.run(feeds);
      times[k]!.push(performance.now() - t0);
    }
  }
  const fp32 = median(times[0]!);
  console.log(`\nbatch ${batch} x seq ${seq} (${reps} interleaved rounds after ${warmup} warm-up; load average ${load()}):`);
  for (const [k, s] of sessions.entries()) {
    const m = median(times[k]!);
    const speedup = k === 0 ? '' : `  ${(fp32 / m).toFixed(2)}x faster than fp32`;
    console.log(`  ${s.name.padEnd(18)} ${m.toFixed(1).padStart(9)} ms  (min ${Math.min(...times[k]!).toFixed(1)})${speedup}`);
  }
}
for (const s of sessions) await s.session.release();
