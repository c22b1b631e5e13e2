// Benchmark of @ziplm/hessian against the reference figures of issue 3 (PyTorch 1.13 + OpenBLAS,
// float32, 2 threads, 8192 calibration tokens, on the project machines):
//   FFN 768×3072 sweep through all 44 levels   309 s   target ≤ 30 s
//   attention 768×768 sweep, 12 heads          0.4 s   target ≤ 0.4 s
//   Cholesky inverse of 3072 (float64)         0.8 s   target ≤ 2 s
//   Hessian accumulation 8192×3072             1.2 s   target ≤ 2.4 s (2× PyTorch)
//   peak memory of the FFN sweep                       target ≤ 4 copies of H
// plus the structure-magnitude baseline on the same FFN layer (no reference; its errors are printed
// next to the OBS errors, level by level).
//
//   pnpm --filter @ziplm/hessian bench                 (onnxruntime engine when @ziplm/onnx/runtime has it)
//   ZIPLM_BENCH_ENGINE=js pnpm --filter @ziplm/hessian bench      (plain TypeScript engine)
//   ZIPLM_BENCH_QUICK=1 ...                            (small shapes: a smoke test, not the figures)
//
// Figures are printed, never asserted (CONTRIBUTING.md). Timings on a shared 2-core machine are noisy:
// the load average is printed with them, and each figure also shows the process CPU time (all
// threads; onnxruntime runs 2), which other processes inflate much less than wall time.

import { loadavg } from 'node:os';
import {
  HessianAccumulator,
  attentionLevels,
  ffnLevels,
  invertHessian,
  magnitudeSweep,
  obsSweep,
  preparedHessian,
  type MatMulEngine,
  type SweepResult,
} from '../src/index.js';
import { layerInputs, median, pickEngine, randomWeight, time } from './common.js';

const QUICK = process.env.ZIPLM_BENCH_QUICK === '1';
const HIDDEN = QUICK ? 256 : 768;
const FFN = QUICK ? 1024 : 3072;
const TOKENS = QUICK ? 2048 : 8192;
const HEADS = QUICK ? 4 : 12;
/** Runs of the short figures (median reported); the FFN sweep runs once. */
const RUNS = 3;

interface Row {
  name: string;
  seconds: number;
  /** Process CPU time (all threads): less sensitive to other processes than wall time. */
  cpu?: number;
  /** Wall times of every run when the figure is a median. */
  all?: number[];
  reference: number | null;
  target: number;
  unit?: string;
}
const rows: Row[] = [];

/** Checks a sweep: all finite, errors non-decreasing, and the smallest levels equal the closed form. */
function validate(result: SweepResult, weight: Float32Array, hp: Float64Array, label: string): string {
  const { rows, cols, groupSize } = result;
  const problems: string[] = [];
  for (const s of result.snapshots) {
    if (!Number.isFinite(s.error) || !Number.isFinite(s.obsLoss)) problems.push(`level ${s.kept}: non-finite error/loss`);
    for (let i = 0; i < s.weight.length; i++) {
      if (!Number.isFinite(s.weight[i]!)) {
        problems.push(`level ${s.kept}: non-finite weight`);
        break;
      }
    }
  }
  for (let i = 1; i < result.snapshots.length; i++) {
    if (result.snapshots[i]!.error < result.snapshots[i - 1]!.error - 1e-9)
      problems.push(`error decreases at level ${result.snapshots[i]!.kept}`);
  }
  // Closed form Ŵ_K = W·H_p[:,K]·(H_p[K,K])⁻¹ for the two smallest non-empty levels (cheap to solve).
  const w0 = Float64Array.from(weight);
  for (const d of result.dead) for (let i = 0; i < rows; i++) w0[i * cols + d] = 0;
  let worst = 0;
  for (const s of result.snapshots.filter((x) => x.kept > 0).slice(-2)) {
    const kept: number[] = [];
    for (const q of s.keptIndices) for (let a = 0; a < groupSize; a++) kept.push(q * groupSize + a);
    const k = kept.length;
    const hkk = new Float64Array(k * k);
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) hkk[r * k + c] = hp[kept[r]! * cols + kept[c]!]!;
    // Cholesky of H_KK, then solve for each row: ŵ = (H_KK)⁻¹·(H[K,:]·w).
    for (let j = 0; j < k; j++) {
      for (let i = j; i < k; i++) {
        let v = hkk[i * k + j]!;
        for (let p = 0; p < j; p++) v -= hkk[i * k + p]! * hkk[j * k + p]!;
        hkk[i * k + j] = i === j ? Math.sqrt(v) : v / hkk[j * k + j]!;
      }
    }
    const rhs = new Float64Array(k);
    for (let row = 0; row < rows; row++) {
      for (let r = 0; r < k; r++) {
        let v = 0;
        const hr = kept[r]! * cols;
        for (let c = 0; c < cols; c++) v += hp[hr + c]! * w0[row * cols + c]!;
        rhs[r] = v;
      }
      for (let r = 0; r < k; r++) {
        let v = rhs[r]!;
        for (let p = 0; p < r; p++) v -= hkk[r * k + p]! * rhs[p]!;
        rhs[r] = v / hkk[r * k + r]!;
      }
      for (let r = k - 1; r >= 0; r--) {
        let v = rhs[r]!;
        for (let p = r + 1; p < k; p++) v -= hkk[p * k + r]! * rhs[p]!;
        rhs[r] = v / hkk[r * k + r]!;
      }
      let scale = 0;
      for (let r = 0; r < k; r++) scale = Math.max(scale, Math.abs(rhs[r]!));
      for (let r = 0; r < k; r++) worst = Math.max(worst, Math.abs(s.weight[row * k + r]! - rhs[r]!) / scale);
    }
  }
  // Snapshots are float32: agreement to float32 rounding is what can be checked here (the float64
  // path is checked to 1e-9 by the unit tests).
  if (worst > 1e-5) problems.push(`closed-form mismatch ${worst.toExponential(2)}`);
  return problems.length === 0
    ? `${label}: OK (finite, monotone errors, closed form at the smallest levels to ${worst.toExponential(1)})`
    : `${label}: FAILED ${problems.join('; ')}`;
}

async function main(): Promise<void> {
  const { engine, dispose, note } = await pickEngine();
  console.log(`@ziplm/hessian benchmark${QUICK ? ' (QUICK: small shapes, figures not comparable)' : ''}`);
  console.log(`engine: ${engine.name} (${note})`);
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (2-core machine; timings are noisy when it is busy)`,
  );
  console.log(`after a warm-up on a small layer (JIT, engine sessions); median of ${RUNS} runs, FFN sweep once\n`);
  const checks: string[] = [];

  // Warm-up on a small layer: JIT-compiles the kernels and creates the engine's sessions for every
  // GEMM variant, one-time costs that a database build pays once, not per layer.
  {
    const x = layerInputs(512, 256, 9, true);
    const acc = new HessianAccumulator(256, { engine });
    await acc.add(x, 512);
    const stats = await acc.finalize();
    const w = randomWeight(64, 256, 10);
    await obsSweep(
      { weight: w, rows: 64, cols: 256, hessian: stats.hessian.slice(), mean: stats.mean },
      { engine, levels: ffnLevels(256), snapshotPrecision: 'float32', overwriteHessian: true },
    );
    await obsSweep(
      { weight: w, rows: 64, cols: 256, hessian: stats.hessian, mean: stats.mean },
      { engine, groupSize: 64, levels: attentionLevels(4), snapshotPrecision: 'float32' },
    );
  }

  // 1. Hessian accumulation of the FFN input (float32 activations, float32 chunk GEMMs, float64 sum).
  const ffnInputs = layerInputs(TOKENS, FFN, 1, true);
  const accumulation = await median(RUNS, async () => {
    const acc = new HessianAccumulator(FFN, { engine });
    for (let t = 0; t < TOKENS; t += 1024) await acc.add(ffnInputs.subarray(t * FFN, (t + 1024) * FFN), 1024);
    return acc.finalize();
  });
  rows.push({
    name: `Hessian accumulation ${TOKENS}×${FFN}`,
    seconds: accumulation.seconds,
    cpu: accumulation.cpu,
    reference: 1.2,
    target: 2.4,
    all: accumulation.all,
  });
  const ffnStats = accumulation.value;
  const attnInputs = layerInputs(TOKENS, HIDDEN, 2, false);
  const attnAcc = new HessianAccumulator(HIDDEN, { engine });
  await attnAcc.add(attnInputs, TOKENS);
  const attnStats = await attnAcc.finalize();

  // 2. Cholesky inverse of the FFN Hessian (float64, 1% damping).
  const inverse = await median(RUNS, () => invertHessian(ffnStats.hessian, FFN, { engine }));
  rows.push({
    name: `Cholesky inverse ${FFN}×${FFN} (float64)`,
    seconds: inverse.seconds,
    cpu: inverse.cpu,
    reference: 0.8,
    target: 2,
    all: inverse.all,
  });
  const hpFfn = preparedHessian(ffnStats.hessian, FFN, inverse.value);

  // 3. Attention output projection: 12 heads of 64 columns, every head count.
  const attnWeight = randomWeight(HIDDEN, HIDDEN, 3);
  const attnBias = randomWeight(1, HIDDEN, 4);
  const attention = await median(RUNS, () =>
    obsSweep(
      { weight: attnWeight, rows: HIDDEN, cols: HIDDEN, hessian: attnStats.hessian, mean: attnStats.mean, bias: attnBias },
      { engine, groupSize: HIDDEN / HEADS, levels: attentionLevels(HEADS), snapshotPrecision: 'float32' },
    ),
  );
  rows.push({
    name: `attention sweep ${HIDDEN}×${HIDDEN}, ${HEADS} heads (incl. inverse)`,
    seconds: attention.seconds,
    cpu: attention.cpu,
    reference: 0.4,
    target: 0.4,
    all: attention.all,
  });
  const hpAttn = preparedHessian(attnStats.hessian, HIDDEN, attention.value);
  checks.push(validate(attention.value, attnWeight, hpAttn, 'attention'));

  // 4. FFN output projection (FC2): group size 1, all 44 levels + removed, as the database builder
  //    runs it (H handed over and inverted in place, float32 snapshots).
  const ffnWeight = randomWeight(HIDDEN, FFN, 5);
  const ffnBias = randomWeight(1, HIDDEN, 6);
  const runFfn = (engineForRun: MatMulEngine, onProgress?: (removed: number) => void): Promise<SweepResult> =>
    obsSweep(
      { weight: ffnWeight, rows: HIDDEN, cols: FFN, hessian: ffnStats.hessian.slice(), mean: ffnStats.mean, bias: ffnBias },
      {
        engine: engineForRun,
        levels: ffnLevels(FFN),
        snapshotPrecision: 'float32',
        overwriteHessian: true,
        ...(onProgress ? { onProgress } : {}),
      },
    );
  let inverseSeconds = 0;
  // Process RSS during the timed run (no forced GC: engine results that are already garbage count).
  const hBytes = FFN * FFN * 8;
  const rssBase = process.memoryUsage().rss + hBytes; // + the H copy runFfn makes
  let rssPeak = 0;
  const sampleRss = (): void => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  };
  const rssEngine: MatMulEngine = {
    name: engine.name,
    matmulF64: async (...args) => {
      const r = await engine.matmulF64(...args);
      sampleRss();
      return r;
    },
    matmulF32: async (...args) => {
      const r = await engine.matmulF32(...args);
      sampleRss();
      return r;
    },
  };
  const ffnStart = performance.now();
  // The preparation ends when the first removal happens.
  const ffn = await time(() =>
    runFfn(rssEngine, (removed) => {
      sampleRss();
      if (removed === 1) inverseSeconds = (performance.now() - ffnStart) / 1000;
    }),
  );
  const rssCopies = 1 + (rssPeak - rssBase) / hBytes;
  rows.push({
    name: `FFN sweep ${HIDDEN}×${FFN}, ${ffnLevels(FFN).length - 1} levels + removed (incl. inverse)`,
    seconds: ffn.seconds,
    cpu: ffn.cpu,
    reference: 309,
    target: 30,
  });
  rows.push({
    name: '  of which preparation (inverse, Gram matrix) and the first removal',
    seconds: inverseSeconds,
    reference: null,
    target: Number.NaN,
  });
  rows.push({
    name: '  of which the greedy sweep and snapshots',
    seconds: ffn.seconds - inverseSeconds,
    reference: null,
    target: Number.NaN,
  });
  checks.push(validate(ffn.value, ffnWeight, hpFfn, 'FFN'));
  const ffnErrors = ffn.value.snapshots.map((s) => `${s.kept}:${s.error.toFixed(4)}`);

  // 4b. The structure-magnitude baseline on the same layer: one Gram GEMM, then O(cols²) bookkeeping.
  const magnitude = await median(RUNS, () =>
    magnitudeSweep(
      { weight: ffnWeight, rows: HIDDEN, cols: FFN, hessian: ffnStats.hessian, mean: ffnStats.mean, bias: ffnBias },
      { engine, levels: ffnLevels(FFN), snapshotPrecision: 'float32' },
    ),
  );
  rows.push({
    name: `magnitude baseline ${HIDDEN}×${FFN}, ${ffnLevels(FFN).length - 1} levels + removed`,
    seconds: magnitude.seconds,
    cpu: magnitude.cpu,
    reference: null,
    target: Number.NaN,
    all: magnitude.all,
  });
  const versus = ffn.value.snapshots.map((s, i) => `${s.kept}:${s.error.toFixed(4)}/${magnitude.value.snapshots[i]!.error.toFixed(4)}`);

  // 5. Peak memory of the same sweep, in a second run: live ArrayBuffer memory (typed arrays, engine
  //    results included), measured after a forced GC at every GEMM and every removal, relative to just
  //    before the sweep; the input H counts as one copy (the sweep inverts it in place).
  const gc = (globalThis as { gc?: () => void }).gc;
  let liveCopies = Number.NaN;
  if (gc) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const baseLive = process.memoryUsage().arrayBuffers + hBytes; // + the H copy runFfn makes
    let peakLive = 0;
    // Engine results collected by a GC are released by finalizers on a later tick: collect, yield,
    // collect again, so that only reachable memory is counted.
    const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const sample = async (): Promise<void> => {
      gc();
      await tick();
      gc();
      await tick();
      peakLive = Math.max(peakLive, process.memoryUsage().arrayBuffers);
    };
    const sampling: MatMulEngine = {
      name: engine.name,
      matmulF64: async (...args) => {
        const r = await engine.matmulF64(...args);
        await sample();
        return r;
      },
      matmulF32: async (...args) => {
        const r = await engine.matmulF32(...args);
        await sample();
        return r;
      },
    };
    // Removals between flushes allocate nothing large; the flush GEMMs are where the peak can be.
    await runFfn(sampling);
    liveCopies = 1 + (peakLive - baseLive) / hBytes;
  }

  await dispose();

  const pad = (s: string, n: number): string => s.padEnd(n);
  console.log(`${pad('figure', 66)} ${pad('wall', 10)} ${pad('(CPU)', 10)} ${pad('reference', 10)} ${pad('wall/reference', 24)} target`);
  for (const row of rows) {
    const ratio =
      row.reference === null ? '' : `${(row.seconds / row.reference).toFixed(3)} (${(row.reference / row.seconds).toFixed(1)}x faster)`;
    const target = Number.isNaN(row.target)
      ? ''
      : QUICK
        ? '(quick shapes: no target)'
        : `≤ ${row.target} s ${row.seconds <= row.target ? 'met' : 'NOT met'}`;
    const cpu = row.cpu === undefined ? '' : `(${row.cpu.toFixed(2)} s)`;
    console.log(
      `${pad(row.name, 66)} ${pad(`${row.seconds.toFixed(3)} s`, 10)} ${pad(cpu, 10)} ${pad(row.reference === null ? '' : `${row.reference} s`, 10)} ${pad(ratio, 24)} ${target}`,
    );
  }
  console.log(
    `(median of ${RUNS} runs where several: ${rows
      .filter((r) => r.all)
      .map((r) => `${r.name.split(' ')[0]} ${r.all!.map((x) => x.toFixed(2)).join('/')} s`)
      .join('; ')})`,
  );
  const memoryRow = (label: string, copies: number): void =>
    console.log(
      `${pad(label, 66)} ${pad(Number.isNaN(copies) ? 'n/a (run with --expose-gc)' : copies.toFixed(2), 21)} ${pad('', 10)} ${pad('', 24)} ${QUICK ? '(quick shapes: no target)' : `≤ 4 ${copies <= 4 ? 'met' : 'NOT met'}`}`,
    );
  memoryRow(`FFN sweep peak live memory, copies of H (${(hBytes / 1e6).toFixed(1)} MB)`, liveCopies);
  memoryRow('FFN sweep peak RSS in the timed run (incl. uncollected garbage)', rssCopies);
  console.log(
    `\ndamping used: FFN ${ffn.value.damping.relative} (tried ${ffn.value.damping.tried.join(', ')}), dead inputs ${ffn.value.dead.length}; attention ${attention.value.damping.relative}`,
  );
  console.log(`FFN relative output errors (kept:error): ${ffnErrors.join(' ')}`);
  console.log(`FFN errors, OBS vs magnitude baseline (kept:obs/magnitude): ${versus.join(' ')}`);
  for (const check of checks) console.log(check);
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

await main();
