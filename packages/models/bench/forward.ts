// TensorFlow.js forward pass of a BERT-base-shaped model (12 layers, hidden 768, 12 heads,
// FFN 3072, random weights) at batch 1 x seq 128, on the backend initBackend() selects (wasm
// unless tfjs-node is installed; ZIPLM_BACKEND overrides). Also times the same model with half
// the heads and FFN per layer, and the built-in tiny models, for scale.
//
// FLOPs per layer at seq s, hidden d, FFN f: 2·s·(4·d² + 2·d·f) for the projections plus
// 4·s²·d for attention (QKᵀ and PV).

import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig } from '../src/config.js';
import { bertConfig } from '../src/config.js';
import { builtinModelDir } from '../src/io/builtin.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { createModel, initBackend } from '../src/tfjs/index.js';
import { randomCheckpoint } from '../src/random.js';
import type { Checkpoint } from '../src/weights.js';

const quick = process.env.ZIPLM_BENCH_QUICK === '1';
const runs = quick ? 2 : 5;
const seq = 128;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function flops(config: BertConfig, s: number): number {
  const d = config.hiddenSize;
  let total = 0;
  for (let l = 0; l < config.numLayers; l++) {
    const a = config.layerHeads[l]! * (d / config.numHeads);
    const f = config.layerIntermediate[l]!;
    total += 2 * s * (4 * d * a + 2 * d * f) + 4 * s * s * a;
  }
  return total;
}

function time(label: string, ckpt: Checkpoint, batch: number, s: number, n: number): void {
  const t0 = performance.now();
  const model = createModel(ckpt);
  const buildMs = performance.now() - t0;
  const vocab = ckpt.config.vocabSize;
  const inputIds = tf.tensor2d(
    Array.from({ length: batch }, (_, b) => Array.from({ length: s }, (_, i) => (b * 7919 + i * 104729) % vocab)),
    [batch, s],
    'int32',
  );
  const once = (): number => {
    const start = performance.now();
    const out = model.forward({ inputIds });
    out.logits.dataSync(); // wait for the result
    tf.dispose(out);
    return performance.now() - start;
  };
  once(); // warm-up (kernel setup, first allocations)
  const times = Array.from({ length: n }, once);
  const ms = median(times);
  const gflops = ckpt.config.modelType === 'bert' ? (flops(ckpt.config, s) * batch) / (ms / 1000) / 1e9 : NaN;
  console.log(
    `${label.padEnd(34)} batch ${batch} x seq ${s}: ${ms.toFixed(0).padStart(6)} ms median of ${n} ` +
      `(min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})` +
      `${Number.isNaN(gflops) ? '' : `, ${gflops.toFixed(1)} GFLOP/s`}; model build ${buildMs.toFixed(0)} ms`,
  );
  inputIds.dispose();
  model.dispose();
}

const info = await initBackend();
console.log(`backend: ${info.backend} (${info.reason})`);

const cls = { type: 'classification', labels: ['negative', 'positive'] } as const;
const base = bertConfig({ head: cls, ...(quick ? { numLayers: 2 } : {}) });
time(`BERT-base${quick ? ' (2 layers, quick)' : ''}`, randomCheckpoint(base, { seed: 1 }), 1, seq, runs);
const half = bertConfig({ ...base, layerHeads: base.layerHeads.map(() => 6), layerIntermediate: base.layerIntermediate.map(() => 1536) });
time('BERT-base, 6 heads / FFN 1536', randomCheckpoint(half, { seed: 2 }), 1, seq, runs);
for (const name of ['tiny-bert', 'tiny-gpt2'] as const) {
  time(name, await loadCheckpoint(builtinModelDir(name)), 1, seq, runs);
}
console.log(`tf.memory() after disposing everything: ${tf.memory().numTensors} tensors`);
