// Training throughput of the fine-tuning loop at the SST-2 teacher's size (BERT 4 × 128, 4 heads, FFN 512,
// 6000-token vocabulary), on wasm and, when installed, on tfjs-node:
//   - task loss only (no teacher),
//   - logit distillation only (teacher forward, λ3 = 0),
//   - logit + token distillation (Table 7 GLUE: λ2 = λ3 = 0.5),
// plus the cost of the teacher's forward pass on its own and the peak RSS.
//
//   pnpm --filter @ziplm/distill bench           (ZIPLM_BENCH_QUICK=1 for a short run)
//
// Figures only, no assertions: timings on a shared 2-core machine are noisy.

import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig, Checkpoint } from '@ziplm/models';
import { bertConfig, createModel, initBackend, loadCheckpoint, randomCheckpoint } from '@ziplm/models';
// The teachers ship in @ziplm/teachers, whose tests depend on this package: a workspace path, not a package cycle.
import { teacherDir } from '../../teachers/src/index.js';
import { disposeBatch, fineTune, makeBatch, planEpoch, SeededRng, type LossWeights, type TrainingExample } from '../src/index.js';

const quick = process.env.ZIPLM_BENCH_QUICK === '1';
const steps = quick ? 4 : 16;
const warmup = 2;
/** Scenarios run in alternation this many times; per-step medians make the figures robust to other jobs. */
const rounds = quick ? 1 : 3;
const batchSize = 32;
const seed = 3;

let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

/** The committed SST-2 teacher when present, else a random model of the same size. */
async function teacherCheckpoint(): Promise<{ checkpoint: Checkpoint; source: string }> {
  const dir = teacherDir('sst2-bert');
  if (existsSync(`${dir}/model.safetensors`)) return { checkpoint: await loadCheckpoint(dir), source: 'teachers/sst2-bert' };
  const config = bertConfig({
    vocabSize: 6000,
    hiddenSize: 128,
    numLayers: 4,
    numHeads: 4,
    intermediateSize: 512,
    maxPositions: 128,
    head: { type: 'classification', labels: ['negative', 'positive'] },
  });
  return { checkpoint: randomCheckpoint(config, { seed: 1 }), source: 'random weights (teacher not trained yet)' };
}

/** Sentences with SST-2's length profile (3..56 tokens, mean ≈ 14), deterministic. */
function syntheticSst2(n: number, vocabSize: number): TrainingExample[] {
  const rng = new SeededRng(7);
  return Array.from({ length: n }, () => {
    // A skewed length distribution like SST-2's phrases: many short, a tail of long sentences.
    const len = 3 + (Math.floor(-Math.log(1 - rng.next()) * 11) % 54);
    const ids = [2, ...Array.from({ length: len - 2 }, () => 5 + rng.int(vocabSize - 5)), 3];
    return { inputIds: ids, typeIds: ids.map(() => 0), label: rng.int(2) };
  });
}

interface Row {
  scenario: string;
  /** Median over the timed steps of all rounds. */
  msPerStep: number;
  tokensPerSecond: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per-step wall times (ms) and real tokens of the timed steps of one short training run. */
async function trainingRun(
  student: Checkpoint,
  teacher: ReturnType<typeof createModel> | undefined,
  weights: LossWeights,
  data: TrainingExample[],
): Promise<{ ms: number[]; tokens: number[] }> {
  let last = 0;
  const ms: number[] = [];
  const tokens: number[] = [];
  const result = await fineTune({
    task: 'classification',
    student,
    ...(teacher ? { teacher } : {}),
    train: data,
    batchSize,
    maxSteps: warmup + steps,
    learningRate: 1e-4,
    weights,
    seed,
    onProgress: (e) => {
      sampleRss();
      if (e.type !== 'step') return;
      const now = performance.now();
      if (e.step > warmup) {
        ms.push(now - last);
        tokens.push(e.tokens);
      }
      last = now;
    },
  });
  result.model.dispose();
  return { ms, tokens };
}

/** Median wall time of the teacher's inference forward over the same batches the training steps use. */
function teacherForwardCost(
  teacher: ReturnType<typeof createModel>,
  data: TrainingExample[],
): { msPerBatch: number; tokensPerBatch: number } {
  const padId = (teacher.config as BertConfig).padTokenId;
  // Exactly the (length-bucketed) batches the training runs see: fineTune's first epoch plan for `seed`.
  const plan = planEpoch(
    data.map((e) => e.inputIds.length),
    new SeededRng(seed),
    { batchSize },
  );
  const ms: number[] = [];
  let tokens = 0;
  for (let i = 0; i < warmup + steps; i++) {
    const batch = makeBatch(data, plan[i]!, { task: 'classification', padId, tokenTypes: true });
    const t0 = performance.now();
    tf.tidy(() => {
      const out = teacher.forward(batch.inputs, { training: false });
      out.logits.dataSync();
    });
    if (i >= warmup) {
      ms.push(performance.now() - t0);
      tokens += batch.tokens;
    }
    disposeBatch(batch);
    sampleRss();
  }
  return { msPerBatch: median(ms), tokensPerBatch: tokens / steps };
}

async function benchBackend(backend: string): Promise<Row[]> {
  const { checkpoint, source } = await teacherCheckpoint();
  const data = syntheticSst2(batchSize * (warmup + steps), checkpoint.config.vocabSize);
  const meanLength = data.reduce((s, e) => s + e.inputIds.length, 0) / data.length;
  console.log(
    `\n[${backend}] model: ${source}; batch ${batchSize}, mean length ${meanLength.toFixed(1)} tokens; ` +
      `${rounds} round(s) × ${steps} timed steps (after ${warmup} warm-up steps) per scenario, per-step medians`,
  );
  const teacher = createModel(checkpoint);
  const scenarios: Array<[string, ReturnType<typeof createModel> | undefined, LossWeights]> = [
    ['task loss only (no teacher)', undefined, { task: 1, logit: 0, token: 0 }],
    ['logit distillation (λ2 = 1)', teacher, { task: 0, logit: 1, token: 0 }],
    ['logit + token distillation (GLUE)', teacher, { task: 0, logit: 0.5, token: 0.5 }],
  ];
  const times = scenarios.map(() => ({ ms: [] as number[], tokens: [] as number[] }));
  const forwardMs: number[] = [];
  let forwardTokens = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < scenarios.length; i++) {
      const [, t, weights] = scenarios[i]!;
      const run = await trainingRun(checkpoint, t, weights, data);
      times[i]!.ms.push(...run.ms);
      times[i]!.tokens.push(...run.tokens);
    }
    const f = teacherForwardCost(teacher, data);
    forwardMs.push(f.msPerBatch);
    forwardTokens = f.tokensPerBatch;
  }
  const meanTokens = times[0]!.tokens.reduce((a, b) => a + b, 0) / times[0]!.tokens.length;
  const rows: Row[] = scenarios.map(([scenario], i) => {
    const msPerStep = median(times[i]!.ms);
    return { scenario, msPerStep, tokensPerSecond: (1000 * meanTokens) / msPerStep };
  });
  const forward = { msPerBatch: median(forwardMs), tokensPerSecond: (1000 * forwardTokens) / median(forwardMs) };
  teacher.dispose();
  const base = rows[0]!.msPerStep;
  for (const r of rows) {
    console.log(
      `  ${r.scenario.padEnd(36)} ${r.msPerStep.toFixed(0).padStart(6)} ms/step  ${r.tokensPerSecond.toFixed(0).padStart(6)} tokens/s  (${(r.msPerStep / base).toFixed(2)}× the task-only step)`,
    );
  }
  console.log(
    `  ${'teacher forward alone (inference)'.padEnd(36)} ${forward.msPerBatch.toFixed(0).padStart(6)} ms/batch ${forward.tokensPerSecond.toFixed(0).padStart(6)} tokens/s  (${((100 * forward.msPerBatch) / base).toFixed(0)}% of a task-only step)`,
  );
  console.log(
    `  token distillation adds ${(rows[2]!.msPerStep - rows[1]!.msPerStep).toFixed(0)} ms/step over logit-only; ` +
      `distillation as a whole (teacher forward + losses) adds ${(rows[2]!.msPerStep - base).toFixed(0)} ms/step`,
  );
  return rows;
}

console.log(`@ziplm/distill training throughput${quick ? ' (quick)' : ''}`);
const wasm = await initBackend('wasm');
console.log(`wasm: ${wasm.reason}`);
await benchBackend('wasm');

// tfjs-node, only when the user installed it (it cannot be installed on every machine).
let nodeBackend: string | undefined;
try {
  const info = await initBackend('node');
  if (info.backend === 'tensorflow') nodeBackend = info.backend;
  else console.log(`\n[tfjs-node] skipped: ${info.reason}`);
} catch (error) {
  console.log(`\n[tfjs-node] skipped: ${(error as Error).message}`);
}
if (nodeBackend) await benchBackend(nodeBackend);

sampleRss();
const maxRss = process.resourceUsage().maxRSS * 1024;
console.log(
  `\npeak RSS: ${(Math.max(peakRss, maxRss) / 2 ** 20).toFixed(0)} MiB (whole process: both models, optimizer moments, tfjs/wasm heaps)`,
);
