// Hand-made latency tables for the search and schema tests.
import type { LatencyTable, LevelTime } from '../src/index.js';
import { inferenceEnvironment, LATENCY_TABLE_FORMAT, LATENCY_TABLE_VERSION } from '../src/index.js';

const summary = (median: number) => ({ median, dispersion: 0.01, relativeError: 0.002, samples: 20 });

/** A table with the given level times (kept -> ms); kept 0 = 0 ms is added. */
export function handTable(options: {
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  attention: Record<number, number>;
  ffn: Record<number, number>;
  dense: number;
  nonPrunable: number;
  modelType?: 'bert' | 'gpt2';
}): LatencyTable {
  const levels = (times: Record<number, number>): LevelTime[] =>
    [...Object.entries(times).map(([k, t]) => ({ kept: Number(k), time: t, measured: summary(t) })), { kept: 0, time: 0 }].sort(
      (a, b) => b.kept - a.kept,
    );
  return {
    format: LATENCY_TABLE_FORMAT,
    version: LATENCY_TABLE_VERSION,
    createdAt: '2026-11-22T10:00:00.000Z',
    environment: inferenceEnvironment({ mode: 'latency', sequenceLength: 16 }),
    fingerprint: {
      cpuModel: 'Test CPU',
      logicalCores: 2,
      platform: 'linux',
      arch: 'x64',
      engine: 'onnxruntime-node',
      engineVersion: '1.30.0',
      runtimeVersion: 'node 20.20.2',
    },
    model: {
      modelType: options.modelType ?? 'bert',
      hiddenSize: 64,
      numHeads: options.numHeads,
      intermediateSize: options.intermediateSize,
      numLayers: options.numLayers,
      vocabSize: 100,
    },
    unit: 'ms',
    dense: summary(options.dense),
    nonPrunable: summary(options.nonPrunable),
    prunable: options.dense - options.nonPrunable,
    blockTiming: { context: 'isolated', overhead: { attention: 0, ffn: 0 }, scale: 1 },
    attention: levels(options.attention),
    ffn: levels(options.ffn),
  };
}

/** All combinations of one index per list (cartesian product). */
export function* product(sizes: readonly number[]): Generator<number[]> {
  const idx = new Array<number>(sizes.length).fill(0);
  if (sizes.some((s) => s === 0)) return;
  for (;;) {
    yield [...idx];
    let i = sizes.length - 1;
    while (i >= 0 && ++idx[i]! === sizes[i]) idx[i--] = 0;
    if (i < 0) return;
  }
}

/** The tests' two-layer table: 4 heads, FFN 8 with a 4-level grid, dense 22 ms of which 2 are not prunable. */
export function twoLayerTable(): LatencyTable {
  return handTable({
    numLayers: 2,
    numHeads: 4,
    intermediateSize: 8,
    attention: { 4: 4, 3: 3.2, 2: 2.3, 1: 1.5 },
    ffn: { 8: 6, 6: 4.6, 4: 3.1, 2: 1.7 },
    dense: 22,
    nonPrunable: 2,
  });
}
