// createOrtMatMulEngine throughput (the OBS solver's Hessian products; toolchain.md reports ~59
// GFLOP/s f32 and ~29 f64 for 3072x4096 @ 4096x3072 on the project machines) and per-call overhead.
//
//   pnpm exec tsx --conditions=@ziplm/source bench/matmul.ts [--threads N] [--reps 3]
//
// Figures only; nothing here asserts a timing.

import { performance } from 'node:perf_hooks';
import { seededRandom } from '@ziplm/test-utils';
import { createOrtMatMulEngine } from '../src/runtime/index.js';

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}
const threads = arg('threads');
const reps = arg('reps') ?? 3;

const engine = await createOrtMatMulEngine(threads !== undefined ? { threads } : {});
console.log(`${engine.name}, threads ${threads ?? 'default'}, best of ${reps}`);

function fill<T extends Float32Array | Float64Array>(a: T): T {
  const random = seededRandom(12345);
  for (let i = 0; i < a.length; i++) a[i] = random() - 0.5;
  return a;
}

const [m, k, n] = [3072, 4096, 3072];
for (const precision of ['f32', 'f64'] as const) {
  const a = precision === 'f32' ? fill(new Float32Array(m * k)) : fill(new Float64Array(m * k));
  const b = precision === 'f32' ? fill(new Float32Array(k * n)) : fill(new Float64Array(k * n));
  for (const [transA, transB] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    const call = () =>
      precision === 'f32'
        ? engine.matmulF32(a as Float32Array, b as Float32Array, m, k, n, { transA, transB })
        : engine.matmulF64(a as Float64Array, b as Float64Array, m, k, n, { transA, transB });
    await call(); // session creation + warm-up
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await call();
      best = Math.min(best, performance.now() - t0);
    }
    const label = `${precision} ${m}x${k}x${n}${transA ? ' transA' : ''}${transB ? ' transB' : ''}`;
    console.log(
      `  ${label.padEnd(36)} ${best.toFixed(0).padStart(6)} ms  ${((2 * m * k * n) / best / 1e6).toFixed(1).padStart(6)} GFLOP/s`,
    );
  }
}

// Per-call overhead: a 4x4 product is all overhead (session lookup, tensor wrapping, run, result).
const tiny = fill(new Float64Array(16));
await engine.matmulF64(tiny, tiny, 4, 4, 4);
const calls = 2000;
const t0 = performance.now();
for (let i = 0; i < calls; i++) await engine.matmulF64(tiny, tiny, 4, 4, 4);
console.log(`  per-call overhead (4x4x4 f64, ${calls} calls)   ${(((performance.now() - t0) / calls) * 1000).toFixed(0).padStart(6)} µs`);
await engine.dispose();
