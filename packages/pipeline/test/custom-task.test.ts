// Tasks from the user's own data files: the parts a spec resolves into, how labels map to a model's
// ids, and the prepared task's name, metric and labels. Every file is written by the test.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir, loadModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { TaskDataError } from '../src/errors.js';
import { prepareTask, readTaskData, type ClassificationTaskSpec, type LanguageModelingTaskSpec } from '../src/tasks/index.js';

const WORDS = ['cheap', 'offer', 'meeting', 'lunch', 'winner', 'report', 'click', 'agenda', 'prize', 'notes'];

/** `n` rows of a spam-like TSV: "spam" rows use the first words, "ham" rows the others. */
function spamTsv(dir: string, n: number, name = 'spam.tsv'): string {
  const lines = ['message\tcategory'];
  for (let i = 0; i < n; i++) {
    const spam = i % 3 === 0;
    const words = Array.from({ length: 4 + (i % 5) }, (_, k) => WORDS[(spam ? 0 : 5) + ((i + k) % 5)]);
    lines.push(`${words.join(' ')} ${i}\t${spam ? 'spam' : 'ham'}`);
  }
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const spec = (data: string, extra: Partial<ClassificationTaskSpec> = {}): ClassificationTaskSpec => ({
  kind: 'classification',
  name: 'spam',
  data,
  columns: { text: 'message', label: 'category' },
  ...extra,
});

describe('readTaskData', () => {
  it('splits a table into disjoint train, validation and test parts, stratified, the same for the same seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-'));
    const file = spamTsv(dir, 300);
    const a = readTaskData(spec(file));
    const b = readTaskData(spec(file));
    expect(a.labels).toEqual(['ham', 'spam']);
    expect(a.train.length + a.validation.length + a.test.length).toBe(300);
    expect(a.test.length).toBe(30);
    expect(a.validation.length).toBe(30);
    expect(a.test.map((e) => e.line)).toEqual(b.test.map((e) => e.line));
    // Stratified: the test part has the data's share of spam (1 in 3).
    expect(a.test.filter((e) => e.label === 'spam').length).toBe(10);
    const test = new Set(a.test.map((e) => e.line));
    // Calibration sees everything but the test part, in file order.
    expect(a.calibrationPool.length).toBe(270);
    expect(a.calibrationPool.some((e) => test.has(e.line))).toBe(false);
    const lines = a.calibrationPool.map((e) => e.line);
    expect(lines).toEqual([...lines].sort((x, y) => x - y));
    expect(a.splitRule).toMatch(/spam\.tsv: .*seed 42/);
    // Another seed, another test part.
    const c = readTaskData(spec(file, { split: { kind: 'seeded', validation: 0.1, test: 0.1, seed: 7 } }));
    expect(c.test.map((e) => e.line)).not.toEqual(a.test.map((e) => e.line));
  });

  it('takes the test part from a test file, and then calibrates on the whole data file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-'));
    const data = readTaskData(spec(spamTsv(dir, 60), { testData: spamTsv(dir, 12, 'test.tsv') }));
    expect(data.test.length).toBe(12);
    expect(data.calibrationPool.length).toBe(60);
    expect(data.validation.length + data.train.length).toBe(60);
    expect(data.splitRule).toMatch(/test: test\.tsv/);
  });

  it('refuses an unknown label with the file and line, and a split that leaves nothing to score', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-'));
    const file = spamTsv(dir, 40);
    expect(() => readTaskData(spec(file, { labels: ['ham'] }))).toThrow(/spam\.tsv: line \d+, column "category": unknown label "spam"/);
    expect(() => readTaskData(spec(file, { split: { kind: 'seeded', validation: 0.1, test: 0, seed: 1 } }))).toThrow(TaskDataError);
  });

  it('splits a text corpus by document', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-'));
    const file = join(dir, 'corpus.txt');
    writeFileSync(file, Array.from({ length: 50 }, (_, i) => `document ${i} says ${WORDS.slice(0, 1 + (i % 9)).join(' ')}`).join('\n\n'));
    const lm: LanguageModelingTaskSpec = { kind: 'language-modeling', name: 'corpus', data: file, documents: 'blank-line' };
    const data = readTaskData(lm);
    expect(data.train.length + data.validation.length + data.test.length).toBe(50);
    expect(data.test.length).toBe(5);
    expect(data.files).toEqual([file]);
  });
});

describe('prepareTask with a spec', () => {
  it("names the task, its metric and the model's labels, and maps the data's labels by --labels order", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-'));
    const file = spamTsv(dir, 200);
    const { checkpoint, tokenizer } = await loadModelDir(builtinModelDir('tiny-bert'));
    // tiny-bert's labels are negative/positive: the data's ham/spam are mapped in the order given.
    const task = prepareTask(spec(file, { labels: ['ham', 'spam'] }), checkpoint.config, tokenizer, { calibrationSamples: 64 });
    expect(task.name).toBe('spam');
    expect(task.labels).toEqual(['negative', 'positive']);
    expect(task.metric.label).toBe('spam test accuracy (%)');
    expect(task.metric.items).toBe(20);
    expect(task.calibration).toHaveLength(64);
    expect(task.evaluationLabels!.filter((l) => l === 1).length).toBe(7);
    expect(task.files).toEqual([file]);
    // Without --labels the data's names must be the model's.
    expect(() => prepareTask(spec(file), checkpoint.config, tokenizer)).toThrow(
      /label "ham" is not one of the model's labels \(negative, positive\)/,
    );
  });

  it('refuses a classification spec for a language model, and the reverse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-'));
    const gpt2 = await loadModelDir(builtinModelDir('tiny-gpt2'));
    expect(() => prepareTask(spec(spamTsv(dir, 20)), gpt2.checkpoint.config, gpt2.tokenizer)).toThrow(/needs a BERT sequence classifier/);
    const bert = await loadModelDir(builtinModelDir('tiny-bert'));
    const lm: LanguageModelingTaskSpec = { kind: 'language-modeling', name: 'corpus', data: join(dir, 'spam.tsv'), documents: 'line' };
    expect(() => prepareTask(lm, bert.checkpoint.config, bert.tokenizer)).toThrow(/needs a language model \(GPT2 or LLaMA\)/);
  });

  it('scores perplexity on fixed-length chunks of the test documents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-'));
    const file = join(dir, 'corpus.txt');
    writeFileSync(file, Array.from({ length: 60 }, (_, i) => `${WORDS.join(' ')} ${i}. ${WORDS.slice(i % 7).join(' ')}`).join('\n\n'));
    const { checkpoint, tokenizer } = await loadModelDir(builtinModelDir('tiny-gpt2'));
    const lm: LanguageModelingTaskSpec = { kind: 'language-modeling', name: 'corpus', data: file, documents: 'blank-line' };
    const task = prepareTask(lm, checkpoint.config, tokenizer, { maxLength: 16 });
    expect(task.metric).toMatchObject({
      name: 'perplexity',
      label: 'corpus test perplexity, 16-token chunks (lower is better)',
      higherIsBetter: false,
    });
    expect(task.calibration.every((item) => item.ids.length === 16)).toBe(true);
    expect(task.labels).toBeUndefined();
    // Too little test text for one chunk is a TaskDataError naming the file.
    const short = join(dir, 'short.txt');
    writeFileSync(short, Array.from({ length: 10 }, (_, i) => `note ${i}`).join('\n\n'));
    expect(() => prepareTask({ ...lm, data: short }, checkpoint.config, tokenizer, { maxLength: 64 })).toThrow(
      /short\.txt: the test part .* holds fewer than 64 tokens/,
    );
  });
});
