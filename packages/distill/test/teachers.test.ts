// The committed teachers: self-contained model directories that load with loadModelDir and still give the
// figures their recipes reported (a change in the model code that alters their outputs fails here).
import { existsSync, readFileSync } from 'node:fs';
import { createModel, dataPath, hasData, headDim, initBackend, loadModelDir, readGlue } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { evaluateClassification, teacherDir, type TrainingExample } from '../src/index.js';

const sst2Dir = teacherDir('sst2-bert');
const gpt2Dir = teacherDir('wikitext2-gpt2');

describe('committed teachers', () => {
  it('teacherDir resolves the shipped directories and rejects unknown names', () => {
    expect(existsSync(`${sst2Dir}/config.json`)).toBe(true);
    expect(() => teacherDir('nope' as 'sst2-bert')).toThrow(/unknown teacher/);
  });

  it('sst2-bert loads on its own and has a prunable shape', async () => {
    const { checkpoint, tokenizer } = await loadModelDir(sst2Dir);
    const c = checkpoint.config;
    expect(c.modelType).toBe('bert');
    expect(c.numLayers).toBeGreaterThanOrEqual(4);
    expect(c.numHeads).toBeGreaterThanOrEqual(4);
    expect(headDim(c)).toBeGreaterThanOrEqual(32);
    expect(c.intermediateSize).toBe(4 * c.hiddenSize);
    // The project's own vocabulary (bert-base-uncased has 30,522 tokens).
    expect(tokenizer.vocabSize).toBe(c.vocabSize);
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(8000);
  });

  it.skipIf(!hasData('glue/sst2/dev.tsv'))('sst2-bert reproduces its reported dev accuracy', async () => {
    await initBackend('wasm');
    const { checkpoint, tokenizer } = await loadModelDir(sst2Dir);
    const reported = JSON.parse(readFileSync(`${sst2Dir}/results.json`, 'utf8')).metrics.devAccuracy as number;
    const dev: TrainingExample[] = readGlue(dataPath('glue', 'sst2', 'dev.tsv'), 'sst2').map((e) => {
      const enc = tokenizer.encode(e.textA, undefined, { maxLength: 64 });
      return { inputIds: enc.ids, typeIds: enc.typeIds, label: e.label };
    });
    const model = createModel(checkpoint);
    const { accuracy, count } = await evaluateClassification(model, dev, { batchSize: 64 });
    model.dispose();
    expect(count).toBe(872);
    // The same backend gives the same number; allow one flipped borderline example for another backend.
    expect(Math.abs(accuracy - reported)).toBeLessThanOrEqual(1 / 872 + 1e-12);
    expect(accuracy).toBeGreaterThan(0.75);
  });

  it.skipIf(!existsSync(`${gpt2Dir}/model.safetensors`))('wikitext2-gpt2 loads on its own and has a prunable shape', async () => {
    const { checkpoint, tokenizer } = await loadModelDir(gpt2Dir);
    const c = checkpoint.config;
    expect(c.modelType).toBe('gpt2');
    expect(c.numLayers).toBeGreaterThanOrEqual(4);
    expect(c.numHeads).toBeGreaterThanOrEqual(4);
    expect(c.intermediateSize).toBe(4 * c.hiddenSize);
    expect(tokenizer.vocabSize).toBe(c.vocabSize);
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(8000);
  });
});
