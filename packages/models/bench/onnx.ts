// ONNX export benchmark (issue 2, "Speed and memory"): a BERT-base-shaped model (12 layers, hidden
// 768, 12 heads, FFN 3072; random weights) exported and run in onnxruntime-node at batch 1 x seq 128.
// Prints the export time and peak RSS (goals: < 10 s, < 2 GB), the whole-model time and the sum of
// its single-layer block times (goal: within 10%), the latency table's additivity assumption
// (guide/latency.md). Also a GPT2-small decode step with a 50-token KV cache (the generation setting).
//
//   pnpm exec tsx --conditions=@ziplm/source bench/onnx.ts [--reps 20] [--threads N] [--no-gpt2]
//
// Figures only: nothing here asserts a timing. Medians over interleaved rounds, so load from other
// processes hits the whole model and the blocks alike.

import { performance } from 'node:perf_hooks';
import { seededRandom } from '@ziplm/core';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { ModelConfig } from '../src/config.js';
import { bertConfig, gpt2Config, headDim } from '../src/config.js';
import { exportAttentionBlock, exportFfnBlock, exportModelToOnnx } from '../src/onnx/index.js';
import { fastRandomCheckpoint } from './_checkpoint.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const reps = arg('reps', 20);
const warmup = 3;
const threads = process.argv.includes('--threads') ? arg('threads', 2) : undefined;
const withGpt2 = !process.argv.includes('--no-gpt2');

const ort = await loadOrt();
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const maxRss = () => process.resourceUsage().maxRSS * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Runner = { name: string; run: () => Promise<unknown>; times: number[] };

/** Interleaves the runners round by round (warm-up first) and records each call's time in ms. */
async function measure(runners: Runner[]): Promise<void> {
  for (let i = 0; i < warmup; i++) for (const r of runners) await r.run();
  for (let i = 0; i < reps; i++) {
    for (const r of runners) {
      const t0 = performance.now();
      await r.run();
      r.times.push(performance.now() - t0);
    }
  }
}

async function open(bytes: Uint8Array): Promise<InferenceSession> {
  // No spin-waiting: the sessions take turns, and spinning idle threads would slow the next one.
  return createSession(bytes, { graphOptimizationLevel: 'all', allowSpinning: false, ...(threads !== undefined ? { threads } : {}) });
}

function int64(batch: number, seq: number, value: (i: number) => number): OrtTensor {
  return new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(value(i))),
    [batch, seq],
  );
}

function floats(dims: number[], seed: number): OrtTensor {
  const random = seededRandom(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => random() - 0.5);
  return new ort.Tensor('float32', data, dims);
}

/** Block runners for every distinct (module, size) of the config, and how many layers use each. */
type Feeds = Record<string, OrtTensor>;

async function blockRunners(config: ModelConfig, feeds: (module: 'attention' | 'ffn', size: number) => Feeds, mode: 'full' | 'decode') {
  const runners: Array<Runner & { count: number }> = [];
  const counts = new Map<string, number>();
  for (let l = 0; l < config.numLayers; l++) {
    if (config.layerHeads[l]! > 0)
      counts.set(`attention:${config.layerHeads[l]}`, (counts.get(`attention:${config.layerHeads[l]}`) ?? 0) + 1);
    if (config.layerIntermediate[l]! > 0)
      counts.set(`ffn:${config.layerIntermediate[l]}`, (counts.get(`ffn:${config.layerIntermediate[l]}`) ?? 0) + 1);
  }
  for (const [key, count] of counts) {
    const [module, sizeText] = key.split(':') as ['attention' | 'ffn', string];
    const size = Number(sizeText);
    const bytes = module === 'attention' ? exportAttentionBlock(config, size, { mode }) : exportFfnBlock(config, size, { mode });
    const s = await open(bytes);
    const f = feeds(module, size);
    runners.push({ name: `${module} block (${size})`, run: () => s.run(f), times: [], count });
  }
  return runners;
}

function report(whole: Runner, blocks: Array<Runner & { count: number }>): void {
  const w = median(whole.times);
  let sum = 0;
  for (const b of blocks) {
    const t = median(b.times);
    sum += t * b.count;
    console.log(`  ${b.name.padEnd(28)} ${t.toFixed(2).padStart(8)} ms  x ${b.count} layers`);
  }
  console.log(`  ${'sum of single-layer blocks'.padEnd(28)} ${sum.toFixed(2).padStart(8)} ms`);
  console.log(`  ${whole.name.padEnd(28)} ${w.toFixed(2).padStart(8)} ms  (min ${Math.min(...whole.times).toFixed(2)})`);
  const ratio = w / sum;
  console.log(
    `  whole / sum = ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)}%; goal within 10%: ${Math.abs(ratio - 1) <= 0.1 ? 'yes' : 'NO'})`,
  );
}

console.log(`onnxruntime-node ${ort.env.versions.node}, threads ${threads ?? 'default'}, ${reps} reps after ${warmup} warm-up, median ms`);

// ------------------------------------------------------------------ BERT-base, batch 1 x seq 128
{
  const config = bertConfig({ head: { type: 'classification', labels: ['0', '1'] } });
  let t0 = performance.now();
  const checkpoint = fastRandomCheckpoint(config, 1);
  const randomMs = performance.now() - t0;
  const rssBefore = process.memoryUsage().rss;
  const peakBefore = maxRss();
  t0 = performance.now();
  const bytes = exportModelToOnnx(checkpoint);
  const exportMs = performance.now() - t0;
  const rssAfter = process.memoryUsage().rss;
  const peak = maxRss();
  console.log(
    `\nBERT-base (${config.numLayers} x ${config.hiddenSize}, ${config.numHeads} heads, FFN ${config.intermediateSize}), random weights (${randomMs.toFixed(0)} ms to draw)`,
  );
  console.log(`  export: ${(exportMs / 1000).toFixed(2)} s (goal < 10 s), ${mb(bytes.length)} file`);
  console.log(
    `  RSS: ${mb(rssBefore)} with the checkpoint (peak so far ${mb(peakBefore)}), ${mb(rssAfter)} after export, process peak ${mb(peak)} (goal < 2048 MB)`,
  );
  t0 = performance.now();
  const model = await open(bytes);
  console.log(`  InferenceSession.create: ${(performance.now() - t0).toFixed(0)} ms; RSS now ${mb(process.memoryUsage().rss)}`);
  const [batch, seq] = [1, 128];
  const modelFeeds = {
    input_ids: int64(batch, seq, (i) => (i * 7919) % config.vocabSize),
    attention_mask: int64(batch, seq, () => 1),
    token_type_ids: int64(batch, seq, () => 0),
  };
  const whole: Runner = { name: 'whole model', run: () => model.run(modelFeeds), times: [] };
  const hidden = floats([batch, seq, config.hiddenSize], 3);
  const mask = int64(batch, seq, () => 1);
  const blocks = await blockRunners(
    config,
    (module): Feeds => (module === 'attention' ? { hidden_states: hidden, attention_mask: mask } : { hidden_states: hidden }),
    'full',
  );
  await measure([whole, ...blocks]);
  console.log(`  batch ${batch} x seq ${seq}:`);
  report(whole, blocks);
  await model.release();
}

// ------------------------------------------------------- GPT2-small decode step, 50-token cache
if (withGpt2) {
  const config = gpt2Config();
  const checkpoint = fastRandomCheckpoint(config, 2);
  let t0 = performance.now();
  const bytes = exportModelToOnnx(checkpoint, { mode: 'decode' });
  const exportMs = performance.now() - t0;
  console.log(`\nGPT2-small decode (vocab ${config.vocabSize}), export ${(exportMs / 1000).toFixed(2)} s, ${mb(bytes.length)} file`);
  t0 = performance.now();
  const model = await open(bytes);
  console.log(`  InferenceSession.create: ${(performance.now() - t0).toFixed(0)} ms`);
  const [batch, past, hd] = [1, 50, headDim(config)];
  const feeds: Record<string, OrtTensor> = { input_ids: int64(batch, 1, () => 42), attention_mask: int64(batch, past + 1, () => 1) };
  for (let l = 0; l < config.numLayers; l++) {
    feeds[`past_key_${l}`] = floats([batch, config.layerHeads[l]!, past, hd], 10 + l);
    feeds[`past_value_${l}`] = floats([batch, config.layerHeads[l]!, past, hd], 100 + l);
  }
  const whole: Runner = { name: 'whole model (1 token)', run: () => model.run(feeds), times: [] };
  const hidden = floats([batch, 1, config.hiddenSize], 4);
  const mask = int64(batch, past + 1, () => 1);
  const blocks = await blockRunners(
    config,
    (module, size): Feeds =>
      module === 'attention'
        ? {
            hidden_states: hidden,
            attention_mask: mask,
            past_key: floats([batch, size, past, hd], 5),
            past_value: floats([batch, size, past, hd], 6),
          }
        : { hidden_states: hidden },
    'decode',
  );
  await measure([whole, ...blocks]);
  console.log(`  batch ${batch}, 1 new token, ${past}-token cache. The whole model adds the ${config.vocabSize}-way LM head, and a`);
  console.log('  decode step is memory-bound: each block alone runs with its weights in cache, inside the model it streams them.');
  report(whole, blocks);
}
