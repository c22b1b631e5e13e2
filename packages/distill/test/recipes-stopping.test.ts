// The teacher recipes record the length they trained on in the model's config, and take the same stop options
// as the generic recipes (an abort rejects with TrainingStoppedError, early stopping is recorded in results.json).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDir } from '@ziplm/models';
import { afterAll, describe, expect, it } from 'vitest';
import { TrainingConfigError, TrainingStoppedError, trainGpt2Teacher, trainSst2Teacher } from '../src/index.js';
import { writeTinySst2, writeTinyWikiText } from './tiny-data.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-recipes-stopping-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tinyModel = { vocabSize: 300, hidden: 16, layers: 1, heads: 2, batchSize: 8, backend: 'wasm' as const };

describe('teacher recipes', () => {
  it('record maxLength (BERT) and seq (GPT2) as the trained length of the model they write', async () => {
    const sst2Out = join(root, 'sst2-out');
    const sst2 = await trainSst2Teacher({
      ...tinyModel,
      maxLength: 24,
      maxSteps: 4,
      evalEvery: 1,
      patience: 1,
      lr: 1e-12, // no prediction changes: the second evaluation does not improve on the first
      outDir: sst2Out,
      workDir: join(root, 'sst2-work'),
      dataDir: writeTinySst2(join(root, 'data-sst2')),
    });
    expect(sst2).toMatchObject({ stopReason: 'patience', steps: 2, bestStep: 1 });
    expect((await loadModelDir(sst2Out)).checkpoint.config).toMatchObject({ maxPositions: 128, maxSequenceLength: 24 });

    const gpt2Out = join(root, 'gpt2-out');
    await trainGpt2Teacher({
      ...tinyModel,
      seq: 16,
      maxSteps: 1,
      outDir: gpt2Out,
      workDir: join(root, 'gpt2-work'),
      dataDir: writeTinyWikiText(join(root, 'data-wiki')),
    });
    expect(JSON.parse(readFileSync(join(gpt2Out, 'config.json'), 'utf8')).ziplm).toEqual({ format: 1, max_sequence_length: 16 });
  });

  it('stop on their signal without writing a model, and check the stop options first', async () => {
    const options = {
      ...tinyModel,
      maxSteps: 2,
      outDir: join(root, 'never'),
      workDir: join(root, 'stopped-work'),
      dataDir: writeTinySst2(join(root, 'data-stopped')),
    };
    await expect(trainSst2Teacher({ ...options, signal: AbortSignal.abort() })).rejects.toThrow(TrainingStoppedError);
    await expect(trainSst2Teacher({ ...options, patience: 0 })).rejects.toThrow(TrainingConfigError);
    await expect(trainSst2Teacher({ ...options, maxMinutes: -1 })).rejects.toThrow(/maxMinutes/);
  });
});
