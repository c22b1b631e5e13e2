// The real path: a latency table measured with onnxruntime-node on a tiny model, searched, the
// chosen configuration exported and verified. Few repeats: this checks that everything fits
// together, not timings (those are machine- and load-dependent; see bench/).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attentionLevels, ffnLevels, type LayerErrors } from '@ziplm/hessian';
import { bertConfig, gpt2Config, withLayerShapes } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { inferenceEnvironment, loadLatencyTable, maxAchievableSpeedup, saveLatencyTable, searchForSpeedup } from '../src/index.js';
import { buildLatencyTable, ortFingerprint, timingCheckpoint, verifySpeedup, type BuildProgress } from '../src/measure/index.js';

const config = bertConfig({ hiddenSize: 64, numHeads: 4, intermediateSize: 256, numLayers: 2, vocabSize: 100, maxPositions: 32 });
const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 16 });
const protocol = { warmupRuns: 1, minRounds: 3, maxRounds: 5 };

describe('onnxruntime-node table on a tiny model', () => {
  it('builds, saves, loads, searches and verifies', async () => {
    const progress: BuildProgress['phase'][] = [];
    const table = await buildLatencyTable(config, env, { ...protocol, onProgress: (p) => progress.push(p.phase) });
    expect(progress[0]).toBe('prepare');
    expect(progress).toContain('rounds');
    expect(progress[progress.length - 1]).toBe('done');

    expect(table.attention.map((l) => l.kept)).toEqual(attentionLevels(4));
    expect(table.ffn.map((l) => l.kept)).toEqual(ffnLevels(256));
    for (const l of [...table.attention, ...table.ffn]) {
      expect(Number.isFinite(l.time) && l.time >= 0).toBe(true);
      if (l.kept > 0) expect(l.measured!.samples).toBeGreaterThanOrEqual(3);
    }
    expect(table.dense.median).toBeGreaterThan(0);
    expect(table.nonPrunable.median).toBeGreaterThan(0);
    expect(table.fingerprint.engineVersion).toBe('1.30.0');
    expect(table.fingerprint.cpuModel.length).toBeGreaterThan(0);
    expect(table.build!.seconds).toBeGreaterThan(0);

    const dir = await mkdtemp(join(tmpdir(), 'ziplm-latency-'));
    const file = join(dir, 'tiny.json');
    await saveLatencyTable(file, table);
    const { table: loaded, warnings } = await loadLatencyTable(file, { model: config, fingerprint: await ortFingerprint() });
    expect(warnings).toEqual([]);
    expect(loaded).toEqual(table);

    // Errors that fall with kept size; search for a modest target within reach.
    const errors: LayerErrors[] = [0, 1].flatMap((layer) =>
      (['attention', 'ffn'] as const).map((module) => ({
        layer,
        module,
        levels: (module === 'attention' ? table.attention : table.ffn).map((l) => ({
          kept: l.kept,
          error: l.kept === 0 ? 1 : (1 - l.kept / (module === 'attention' ? 4 : 256)) ** 2,
        })),
      })),
    );
    const target = Math.min(1.5, 1 + (maxAchievableSpeedup(table, errors) - 1) / 2);
    const result = searchForSpeedup(table, errors, { target });
    expect(result.predictedSpeedup).toBeGreaterThanOrEqual(target);

    const pruned = timingCheckpoint(withLayerShapes(config, result.layerHeads, result.layerIntermediate));
    const report = await verifySpeedup({
      dense: timingCheckpoint(config),
      pruned,
      env,
      target,
      predicted: result.predictedSpeedup,
      table,
      ...protocol,
    });
    expect(Number.isFinite(report.measured) && report.measured > 0).toBe(true);
    expect(report.deviation).toBeCloseTo(report.measured / target - 1, 12);
    expect(report.predictionError).toBeCloseTo(report.measured / result.predictedSpeedup - 1, 12);
    expect(['pass', 'fail', 'inconclusive']).toContain(report.status);
    expect(report.message).toMatch(/^target \d/);
  });

  it('builds an isolated-context table', async () => {
    const table = await buildLatencyTable(config, env, { ...protocol, context: 'isolated', ffnLevels: [256, 128, 32, 0] });
    expect(table.blockTiming.context).toBe('isolated');
    if (table.blockTiming.context === 'isolated') expect(table.blockTiming.overhead.ffn).toBeGreaterThan(0);
    expect(table.ffn.map((l) => l.kept)).toEqual([256, 128, 32, 0]);
  });

  it('builds a GPT2 generation-mode table (one token against a KV cache)', async () => {
    const gpt2 = gpt2Config({
      hiddenSize: 32,
      numHeads: 2,
      intermediateSize: 64,
      numLayers: 2,
      vocabSize: 60,
      maxPositions: 64,
      bosTokenId: 0,
      eosTokenId: 0,
    });
    const genEnv = inferenceEnvironment({ mode: 'generation', pastLength: 20 });
    const table = await buildLatencyTable(gpt2, genEnv, { ...protocol, ffnLevels: [64, 16, 0] });
    expect(table.environment).toMatchObject({ mode: 'generation', sequenceLength: 1, pastLength: 20 });
    expect(table.attention.map((l) => l.kept)).toEqual([2, 1, 0]);
    expect(table.dense.median).toBeGreaterThan(0);
  });
});
