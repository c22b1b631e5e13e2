// The teacher recipes as library functions, on tiny generated data: a few steps, the model directory and
// results.json they write, resume, and the typed errors for missing data and unsafe directories.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, loadModelDir, splitWikiTextArticles } from '@ziplm/models';
import { afterAll, describe, expect, it } from 'vitest';
import { SST2_TEACHER_DEFAULTS, trainGpt2Teacher, trainSst2Teacher, TrainingConfigError, type ProgressEvent } from '../src/index.js';
import { writeTinySst2, writeTinyWikiText } from './tiny-data.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-recipes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tinyModel = { vocabSize: 300, hidden: 16, layers: 2, heads: 2, batchSize: 8, maxSteps: 3, evalEvery: 2, lr: 1e-3 };

// That the recipe defaults are the options the committed teachers were trained with is checked beside the teachers,
// in packages/teachers/test/recipes.test.ts.

describe('trainSst2Teacher', () => {
  it('trains a few steps on tiny data, writes a loadable model directory with results.json, and resumes', async () => {
    const data = writeTinySst2(join(root, 'data-sst2'));
    const outDir = join(root, 'sst2-out');
    const workDir = join(root, 'sst2-work');
    const lines: string[] = [];
    const events: ProgressEvent[] = [];
    const options = { ...tinyModel, maxLength: 16, outDir, workDir, dataDir: data, backend: 'wasm' as const };
    const results = await trainSst2Teacher(options, { log: (m) => lines.push(m), onProgress: (e) => events.push(e) });
    expect(results.steps).toBe(3);
    expect(results.history.map((h) => h.step)).toEqual([2, 3]);
    expect(results.data).toMatchObject({ train: 40, holdout: 10, dev: 10 });
    expect(results.metrics.devAccuracy).toBeGreaterThanOrEqual(0);
    expect(results.metrics.devAccuracy).toBeLessThanOrEqual(1);
    expect(results.options).toMatchObject({ hidden: 16, maxSteps: 3, epochs: SST2_TEACHER_DEFAULTS.epochs });
    expect(events.filter((e) => e.type === 'step')).toHaveLength(3);
    expect(lines.some((l) => l.startsWith('wrote '))).toBe(true);

    const { checkpoint, tokenizer } = await loadModelDir(outDir);
    expect(checkpoint.config.hiddenSize).toBe(16);
    expect(tokenizer.vocabSize).toBe(results.model.vocabSize);
    expect(JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(results)));

    // Rerunning the same command resumes a finished run: no further steps, the same figures.
    const again: ProgressEvent[] = [];
    const resumed = await trainSst2Teacher(options, { onProgress: (e) => again.push(e) });
    expect(again[0]).toMatchObject({ type: 'resumed', step: 3 });
    expect(again.filter((e) => e.type === 'step')).toHaveLength(0);
    expect(resumed.metrics).toEqual(results.metrics);
  });

  it('throws a DataError naming the missing file before doing anything', async () => {
    const empty = join(root, 'no-data');
    mkdirSync(empty, { recursive: true });
    const outDir = join(root, 'never-written');
    const run = trainSst2Teacher({ ...tinyModel, outDir, workDir: join(root, 'never-work'), dataDir: empty });
    await expect(run).rejects.toThrow(DataError);
    await expect(trainSst2Teacher({ ...tinyModel, outDir, workDir: join(root, 'never-work'), dataDir: empty })).rejects.toThrow(
      join(empty, 'glue', 'sst2', 'train.tsv'),
    );
    expect(existsSync(outDir)).toBe(false);
  });

  it('refuses output directories that would clobber the training state or a non-model directory', async () => {
    const data = writeTinySst2(join(root, 'data-sst2'));
    const workDir = join(root, 'w');
    await expect(trainSst2Teacher({ ...tinyModel, outDir: join(workDir, 'model'), workDir, dataDir: data })).rejects.toThrow(
      TrainingConfigError,
    );
    const notAModel = join(root, 'notes');
    mkdirSync(notAModel, { recursive: true });
    writeFileSync(join(notAModel, 'todo.txt'), 'keep me');
    await expect(trainSst2Teacher({ ...tinyModel, outDir: notAModel, workDir, dataDir: data })).rejects.toThrow(/not a model directory/);
    await expect(
      trainSst2Teacher({ ...tinyModel, outDir: join(root, 'x'), workDir: notAModel, fresh: true, dataDir: data }),
    ).rejects.toThrow(/more than training state/);
    expect(readFileSync(join(notAModel, 'todo.txt'), 'utf8')).toBe('keep me');
    await expect(trainSst2Teacher({ ...tinyModel, heads: 3, outDir: join(root, 'x'), workDir, dataDir: data })).rejects.toThrow(/heads/);
  });
});

describe('trainGpt2Teacher', () => {
  it('splits articles at top-level headings only', () => {
    const text = ' = A = \n text a \n = = Section = = \n more a \n = B = \n text b \n';
    expect(splitWikiTextArticles(text)).toEqual([' = A = \n text a \n = = Section = = \n more a ', ' = B = \n text b \n']);
  });

  it('trains a few steps on a tiny WikiText and holds out every tenth article', async () => {
    const data = writeTinyWikiText(join(root, 'data-wiki'), 12);
    const outDir = join(root, 'gpt2-out');
    const results = await trainGpt2Teacher({
      ...tinyModel,
      seq: 16,
      outDir,
      workDir: join(root, 'gpt2-work'),
      dataDir: data,
      backend: 'wasm',
    });
    expect(results.data).toMatchObject({ articles: 12, trainArticles: 11, heldOutArticles: 1 });
    expect(results.steps).toBe(3);
    expect(Number.isFinite(results.metrics.heldOutPerplexity)).toBe(true);
    const { checkpoint } = await loadModelDir(outDir);
    expect(checkpoint.config.modelType).toBe('gpt2');
    expect(checkpoint.config.maxPositions).toBe(16);
  });

  it('throws a DataError naming wiki.test.raw when it is missing or has too few articles', async () => {
    const empty = join(root, 'no-wiki');
    mkdirSync(empty, { recursive: true });
    const options = { ...tinyModel, seq: 16, outDir: join(root, 'g'), workDir: join(root, 'gw') };
    await expect(trainGpt2Teacher({ ...options, dataDir: empty })).rejects.toThrow(DataError);
    await expect(trainGpt2Teacher({ ...options, dataDir: empty })).rejects.toThrow(join(empty, 'wikitext-2-raw', 'wiki.test.raw'));
    const few = writeTinyWikiText(join(root, 'few-wiki'), 3);
    await expect(trainGpt2Teacher({ ...options, dataDir: few })).rejects.toThrow(/at least 10 are needed/);
  });
});
