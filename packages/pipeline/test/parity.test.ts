// checkEngineParity (what `ziplm check` prints): the built-in models agree between TensorFlow.js and
// onnxruntime, the result is typed and complete, nothing leaks, and bad options are OptionsErrors.

import * as tf from '@tensorflow/tfjs-core';
import { builtinModelDir, initBackend, loadModelDir, SAMPLE_SENTENCES } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { OptionsError } from '../src/errors.js';
import { checkEngineParity } from '../src/parity.js';

describe('checkEngineParity', () => {
  it('finds TensorFlow.js and onnxruntime in agreement on the built-in models', async () => {
    await initBackend();
    for (const name of ['tiny-bert', 'tiny-gpt2'] as const) {
      const model = await loadModelDir(builtinModelDir(name));
      const tensors = tf.memory().numTensors;
      const result = await checkEngineParity(model, { repeats: 2 });
      expect(tf.memory().numTensors).toBe(tensors);
      const { config } = model.checkpoint;
      expect(result).toMatchObject({
        modelType: config.modelType,
        layers: config.numLayers,
        hiddenSize: config.hiddenSize,
        tolerance: 1e-4,
        ok: true,
      });
      expect(result.layerHeads).toEqual(config.layerHeads);
      expect(result.maxAbsDiffLogits).toBeLessThan(1e-4);
      expect(result.maxAbsDiffHiddenStates).toBeLessThan(1e-4);
      if (name === 'tiny-bert') expect(result.batch.size).toBe(SAMPLE_SENTENCES.length);
      expect(result.batch.seqLength).toBeGreaterThan(1);
      for (const ms of [result.tfjsMedianMs, result.onnxExportMs, result.onnxSessionMs, result.onnxMedianMs])
        expect(ms).toBeGreaterThanOrEqual(0);
      expect(result.backend.length).toBeGreaterThan(0);
    }
  });

  it('passes only differences within the tolerance', async () => {
    const result = await checkEngineParity(await loadModelDir(builtinModelDir('tiny-bert')), { repeats: 1, tolerance: 0 });
    expect(result.tolerance).toBe(0);
    expect(result.ok).toBe(result.maxAbsDiffLogits === 0 && result.maxAbsDiffHiddenStates === 0);
  });

  it('refuses a repeat count below 1 or a negative tolerance before running anything', async () => {
    const model = await loadModelDir(builtinModelDir('tiny-bert'));
    await expect(checkEngineParity(model, { repeats: 0 })).rejects.toThrow(OptionsError);
    await expect(checkEngineParity(model, { tolerance: -1 })).rejects.toThrow(OptionsError);
  });
});
