// The generic recipes (trainTextClassifier, trainCausalLm) on tiny data written here: the model directory and
// results.json they write, the trained length in the config, fine-tuning `from` a model directory, early stopping,
// the time budget, and an abort that saves the state a rerun resumes from.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@ziplm/core';
import { loadModelDir } from '@ziplm/models';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CorpusData,
  type ProgressEvent,
  type TextClassifierData,
  type TextExample,
  TrainingConfigError,
  TrainingStoppedError,
  trainCausalLm,
  trainTextClassifier,
} from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-custom-recipes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SPAM = ['free', 'winner', 'prize', 'cash', 'offer', 'click'];
const HAM = ['meeting', 'lunch', 'report', 'family', 'project', 'notes'];
const FILLER = ['the', 'your', 'today', 'please', 'see', 'attached', 'now', 'for'];

/** `n` short messages: label 1 (spam) iff a spam word is in it. */
function messages(n: number, seed: number): TextExample[] {
  const uniform = seededRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(uniform() * list.length)]!;
  return Array.from({ length: n }, () => {
    const label = uniform() < 0.5 ? 1 : 0;
    const words = Array.from({ length: 3 + Math.floor(uniform() * 4) }, () => pick(FILLER));
    words.splice(Math.floor(uniform() * words.length), 0, pick(label ? SPAM : HAM));
    return { text: words.join(' '), label };
  });
}

const spam: TextClassifierData = {
  labels: ['ham', 'spam'],
  train: messages(40, 1),
  validation: messages(10, 2),
  test: messages(10, 3),
  description: { source: 'written by the test', split: 'seeded: 40 / 10 / 10' },
};

const tiny = { layers: 1, hidden: 32, heads: 2, vocabSize: 200, maxLength: 16, batchSize: 8, evalEvery: 2, backend: 'wasm' as const };

describe('trainTextClassifier', () => {
  const outDir = join(root, 'spam-model');

  it('trains a new model and writes it with its labels, trained length and results.json', async () => {
    const lines: string[] = [];
    const results = await trainTextClassifier(spam, { ...tiny, maxSteps: 4, outDir }, { log: (m) => lines.push(m) });
    expect(results).toMatchObject({ task: 'text-classification', steps: 4, stopReason: 'completed', labels: ['ham', 'spam'] });
    expect(results.options).toMatchObject({ layers: 1, hidden: 32, ffn: 128, maxLength: 16 });
    expect(results.examples).toMatchObject({ train: 40, validation: 10, test: 10, pairs: false });
    expect(results.metrics.test?.examples).toBe(10);
    expect(results.history.map((r) => r.step)).toEqual([2, 4]);

    const { checkpoint, tokenizer } = await loadModelDir(outDir);
    const config = checkpoint.config;
    expect(config.maxSequenceLength).toBe(16);
    expect(config.modelType === 'bert' && config.head).toEqual({ type: 'classification', labels: ['ham', 'spam'] });
    expect(tokenizer.vocabSize).toBe(results.model.vocabSize);
    const written = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'));
    expect(written).toEqual(JSON.parse(JSON.stringify(results)));
    expect(written.data).toEqual(spam.description);
    expect(JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8')).ziplm).toEqual({ format: 1, max_sequence_length: 16 });
    // The default state directory sits beside the model.
    expect(existsSync(`${outDir}.state`)).toBe(true);
    expect(lines.some((l) => l.startsWith('wrote '))).toBe(true);
    // What the training costs is said before it starts.
    expect(lines.find((l) => l.startsWith('plan: '))).toMatch(
      /^plan: 4 updates of \d+ sequences over 40 training sequences \(\d+ tokens; about \d+ tokens in all\), evaluating every 2 updates$/,
    );
  });

  it('fine-tunes an existing model directory on text pairs with other labels, replacing its head', async () => {
    const pairs: TextClassifierData = {
      labels: ['a', 'b', 'c'],
      train: messages(24, 4).map((e, i) => ({ text: e.text, textPair: `reply ${i}`, label: i % 3 })),
      validation: messages(6, 5).map((e, i) => ({ text: e.text, textPair: 'reply', label: i % 3 })),
      test: [],
    };
    const lines: string[] = [];
    const out = join(root, 'pairs-model');
    const results = await trainTextClassifier(
      pairs,
      { from: outDir, maxSteps: 2, batchSize: 8, evalEvery: 2, outDir: out },
      { log: (m) => lines.push(m) },
    );
    expect(lines.some((l) => l.includes('replacing its classification head (labels ham, spam)'))).toBe(true);
    expect(results.from).toBe(outDir);
    expect(results.metrics.test).toBeUndefined();
    expect(results.examples.pairs).toBe(true);
    const { checkpoint, tokenizer } = await loadModelDir(out);
    const config = checkpoint.config;
    expect(config).toMatchObject({ hiddenSize: 32, numLayers: 1, maxSequenceLength: 16 }); // the length `from` was trained on
    expect(config.modelType === 'bert' && config.head).toEqual({ type: 'classification', labels: ['a', 'b', 'c'] });
    expect(tokenizer.vocabSize).toBe((await loadModelDir(outDir)).tokenizer.vocabSize);

    await expect(trainTextClassifier(pairs, { from: outDir, hidden: 64, outDir: join(root, 'never') })).rejects.toThrow(
      /hidden.*keeps its checkpoint's shape/,
    );
  });

  it('stops early when the validation accuracy stops improving, and still writes the best model', async () => {
    // A learning rate too small to change a prediction: the second evaluation cannot beat the first.
    const results = await trainTextClassifier(spam, {
      ...tiny,
      lr: 1e-12,
      maxSteps: 20,
      evalEvery: 1,
      patience: 1,
      outDir: join(root, 'patience'),
    });
    expect(results).toMatchObject({ stopReason: 'patience', steps: 2, totalSteps: 20, bestStep: 1, stopping: { patience: 1 } });
    expect(JSON.parse(readFileSync(join(root, 'patience', 'results.json'), 'utf8')).stopReason).toBe('patience');
  });

  it('on abort saves the state and writes no model; the same call resumes', async () => {
    const out = join(root, 'aborted');
    const options = { ...tiny, maxSteps: 4, outDir: out };
    const controller = new AbortController();
    const stopped = trainTextClassifier(
      spam,
      { ...options, signal: controller.signal },
      {
        onProgress: (e) => {
          if (e.type === 'step' && e.step === 2) controller.abort();
        },
      },
    );
    await expect(stopped).rejects.toThrow(TrainingStoppedError);
    await expect(stopped).rejects.toMatchObject({ workDir: `${out}.state`, step: 2, totalSteps: 4, code: 'ERR_ZIPLM_TRAINING_STOPPED' });
    expect(existsSync(out)).toBe(false);

    // Aborted before training: rejects at once, the state untouched.
    await expect(trainTextClassifier(spam, { ...options, signal: AbortSignal.abort() })).rejects.toMatchObject({ step: undefined });

    const events: ProgressEvent[] = [];
    const results = await trainTextClassifier(spam, options, { onProgress: (e) => events.push(e) });
    expect(events[0]).toMatchObject({ type: 'resumed', step: 2 });
    expect(results).toMatchObject({ steps: 4, stopReason: 'completed' });
    expect(existsSync(join(out, 'config.json'))).toBe(true);
  });

  it('refuses bad data naming the example', async () => {
    const bad = { ...spam, train: [...spam.train, { text: 'x', label: 2 }] };
    const run = trainTextClassifier(bad, { ...tiny, outDir: join(root, 'never') });
    await expect(run).rejects.toThrow(TrainingConfigError);
    await expect(run).rejects.toThrow('data.train[40].label');
  });
});

describe('trainCausalLm', () => {
  const documents = (n: number, seed: number) =>
    messages(n, seed).map((e, i) => `Document ${i}. ${e.text}. The ${e.label ? 'offer' : 'meeting'} is today, see the notes.`);
  const corpus: CorpusData = {
    train: documents(30, 6),
    validation: documents(4, 7),
    test: documents(4, 8),
    description: { source: 'written by the test' },
  };
  const outDir = join(root, 'lm-model');

  it('trains a new GPT2, then fine-tunes it from its directory within a time budget', async () => {
    const results = await trainCausalLm(corpus, { ...tiny, vocabSize: 300, maxSteps: 3, outDir });
    expect(results).toMatchObject({ task: 'causal-lm', steps: 3, stopReason: 'completed', data: corpus.description });
    expect(results.examples.trainDocuments).toBe(30);
    expect(Number.isFinite(results.metrics.validation.perplexity)).toBe(true);
    expect(results.metrics.test?.predictedTokens).toBeGreaterThan(0);
    const { checkpoint } = await loadModelDir(outDir);
    expect(checkpoint.config).toMatchObject({ modelType: 'gpt2', maxPositions: 16, maxSequenceLength: 16, numLayers: 1 });

    // A budget that runs out during the first update: the model of that update is evaluated and written.
    const tuned = await trainCausalLm(corpus, {
      from: outDir,
      maxSteps: 10,
      evalEvery: 5,
      maxMinutes: 1e-6,
      outDir: join(root, 'lm-tuned'),
    });
    expect(tuned).toMatchObject({ stopReason: 'time-budget', steps: 1, bestStep: 1, from: outDir, stopping: { maxMinutes: 1e-6 } });
    expect((await loadModelDir(join(root, 'lm-tuned'))).checkpoint.config.maxSequenceLength).toBe(16);
  });
});
