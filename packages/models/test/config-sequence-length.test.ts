// The trained sequence length (`maxSequenceLength`, config.json's `ziplm.max_sequence_length`): written in the
// `ziplm` block of a dense model without making it pruned, kept through pruning and the files, and validated.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bertConfig, fromHfConfig, gpt2Config, isPruned, toHfConfig, validateConfig, withLayerShapes } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { randomCheckpoint } from '../src/random.js';
import { shrinkWeights } from '../src/shrink.js';

const bert = bertConfig({
  vocabSize: 50,
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 2,
  intermediateSize: 32,
  maxPositions: 128,
  maxSequenceLength: 64,
  head: { type: 'classification', labels: ['ham', 'spam'] },
});
const gpt2 = gpt2Config({
  vocabSize: 50,
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 2,
  maxPositions: 32,
  maxSequenceLength: 32,
  bosTokenId: 0,
  eosTokenId: 0,
});

/** `f()`'s ConfigError (the test fails when it does not throw one). */
function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('maxSequenceLength in config.json', () => {
  it('a dense model records it in a ziplm block without layer shapes, and is not pruned', () => {
    for (const config of [bert, gpt2]) {
      const json = toHfConfig(config);
      expect(json.ziplm).toEqual({ format: 1, max_sequence_length: config.maxSequenceLength });
      const read = fromHfConfig(JSON.parse(JSON.stringify(json)), 'config.json');
      expect(read).toEqual(config);
      expect(isPruned(read)).toBe(false);
      expect(read.layerHeads).toEqual([2, 2]);
    }
  });

  it('a config without it writes no block (as before) and reads back without it', () => {
    const { maxSequenceLength: _, ...withoutLength } = bert;
    const json = toHfConfig(withoutLength);
    expect(json).not.toHaveProperty('ziplm');
    expect(fromHfConfig(json)).not.toHaveProperty('maxSequenceLength');
    // A block holding only its format is a dense model with no recorded length.
    const read = fromHfConfig({ ...json, ziplm: { format: 1 } });
    expect(isPruned(read)).toBe(false);
    expect(read).not.toHaveProperty('maxSequenceLength');
  });

  it('is kept through pruning (withLayerShapes, shrinkWeights) and written next to the layer shapes', () => {
    const pruned = withLayerShapes(bert, [1, 0], [32, 7]);
    expect(pruned.maxSequenceLength).toBe(64);
    expect(toHfConfig(pruned).ziplm).toEqual({
      format: 1,
      layer_heads: [1, 0],
      layer_intermediate_sizes: [32, 7],
      max_sequence_length: 64,
    });
    expect(fromHfConfig(toHfConfig(pruned))).toEqual(pruned);
    const shrunk = shrinkWeights(randomCheckpoint(gpt2, { seed: 1 }), { heads: [[0], []], neurons: [[1, 2, 3], []] });
    expect(isPruned(shrunk.config)).toBe(true);
    expect(shrunk.config.maxSequenceLength).toBe(32);
  });

  it('survives saveCheckpoint and loadCheckpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ziplm-seqlen-'));
    try {
      await saveCheckpoint(dir, randomCheckpoint(bert, { seed: 2 }));
      const written = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      expect(written.ziplm).toEqual({ format: 1, max_sequence_length: 64 });
      expect((await loadCheckpoint(dir)).config).toEqual(bert);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a length that is not an integer in [2, the positions], naming the field and the file', () => {
    const json = toHfConfig(bert);
    for (const [bad, problem] of [
      [1, 'must be >= 2'],
      [64.5, 'must be an integer'],
      ['64', 'must be an integer'],
      [129, 'must be <= max_position_embeddings (128)'],
    ] as const) {
      const error = configError(() => fromHfConfig({ ...json, ziplm: { format: 1, max_sequence_length: bad } }, 'model/config.json'));
      expect(error.field).toBe('ziplm.max_sequence_length');
      expect(error.file).toBe('model/config.json');
      expect(error.problem).toContain(problem);
    }
    const gpt2Error = configError(() => fromHfConfig({ ...toHfConfig(gpt2), ziplm: { format: 1, max_sequence_length: 33 } }));
    expect(gpt2Error.problem).toContain('n_positions (32)');
    expect(configError(() => validateConfig({ ...bert, maxSequenceLength: 129 })).field).toBe('maxSequenceLength');
    expect(configError(() => bertConfig({ maxPositions: 16, maxSequenceLength: 17 })).field).toBe('maxSequenceLength');
  });

  it('still requires both layer lists once the block has one of them', () => {
    const json = toHfConfig(bert);
    const error = configError(() => fromHfConfig({ ...json, ziplm: { format: 1, layer_heads: [1, 2], max_sequence_length: 64 } }));
    expect(error.field).toBe('ziplm.layer_intermediate_sizes');
    expect(configError(() => fromHfConfig({ ...json, ziplm: { format: 2, max_sequence_length: 64 } })).field).toBe('ziplm.format');
  });
});
