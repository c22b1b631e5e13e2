// `ziplm train` in-process: a tiny SST-2 recipe run for a couple of steps on a data directory this test writes
// itself (never the real data), the model directory it writes, and the exit codes for missing data and bad flags.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDir } from '@ziplm/models';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import { runCli } from '../run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ziplm-cli-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// dataDir() of @ziplm/models reads $ZIPLM_DATA_DIR when called: each test points it at its own directory.
const savedDataDir = process.env.ZIPLM_DATA_DIR;
function useDataDir(path: string): string {
  process.env.ZIPLM_DATA_DIR = path;
  return path;
}
afterEach(() => {
  if (savedDataDir === undefined) delete process.env.ZIPLM_DATA_DIR;
  else process.env.ZIPLM_DATA_DIR = savedDataDir;
});

/** glue/sst2/{train,train-holdout,dev}.tsv with `n` deterministic training sentences (label = sentiment word). */
function writeTinySst2(root: string, n: number): string {
  const words = { 1: ['good', 'great', 'warm', 'clever'], 0: ['bad', 'dull', 'grim', 'flat'] } as const;
  const filler = ['the', 'film', 'is', 'a', 'story', 'and', 'very', 'plot'];
  const lines = (count: number, offset: number) =>
    Array.from({ length: count }, (_, i) => {
      const k = i + offset;
      const label = (k * 7) % 2 === 0 ? 1 : 0;
      return `${filler[k % 8]} ${filler[(k * 3) % 8]} ${words[label][k % 4]} ${filler[(k * 5) % 8]} \t${label}`;
    });
  const sst2 = join(root, 'glue', 'sst2');
  mkdirSync(sst2, { recursive: true });
  writeFileSync(join(sst2, 'train.tsv'), `sentence\tlabel\n${lines(n, 0).join('\n')}\n`);
  writeFileSync(join(sst2, 'train-holdout.tsv'), `sentence\tlabel\n${lines(10, 100).join('\n')}\n`);
  writeFileSync(join(sst2, 'dev.tsv'), `sentence\tlabel\n${lines(10, 200).join('\n')}\n`);
  return root;
}

const tiny = [
  '--vocab-size',
  '200',
  '--hidden',
  '16',
  '--layers',
  '2',
  '--heads',
  '2',
  '--max-length',
  '16',
  '--batch-size',
  '8',
  '--max-steps',
  '2',
  '--eval-every',
  '1',
];

describe('ziplm train', () => {
  it('trains the sst2-bert recipe for two steps on tiny data and writes a model directory that loads back', async () => {
    useDataDir(writeTinySst2(join(dir, 'data'), 40));
    const out = join(dir, 'model');
    const work = join(dir, 'state');
    const { code, stdout, stderr } = await runCli(['train', 'sst2-bert', ...tiny, '--out', out, '--work', work, '--json']);
    expect(stderr).not.toContain('internal error');
    expect(code).toBe(EXIT.ok);
    const results = JSON.parse(stdout);
    expect(results).toMatchObject({
      outDir: out,
      workDir: work,
      recipe: 'ziplm train sst2-bert',
      steps: 2,
      data: { train: 40, holdout: 10, dev: 10 },
    });
    expect(results.options).toMatchObject({ hidden: 16, layers: 2, heads: 2, maxSteps: 2 });
    expect(results.metrics.devAccuracy).toBeGreaterThanOrEqual(0);
    const { checkpoint, tokenizer } = await loadModelDir(out);
    expect(checkpoint.config.modelType).toBe('bert');
    expect(checkpoint.config.hiddenSize).toBe(16);
    expect(tokenizer.vocabSize).toBe(results.model.vocabSize);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).steps).toBe(2);

    // Without --json: a summary on stdout, stage lines on stderr; the same command resumes the finished run.
    const again = await runCli(['train', 'sst2-bert', ...tiny, '--out', out, '--work', work]);
    expect(again.code).toBe(EXIT.ok);
    expect(again.stderr).toContain('resumed at step 2');
    expect(again.stdout).toMatch(/sst2-bert: dev accuracy \d+\.\d\d% .*best at step \d of 2/);
    expect(again.stdout).toContain(`model: ${out}`);
  });

  it('a missing data directory exits 3 with a message naming the file', async () => {
    const dataDir = useDataDir(join(dir, 'no-such-data'));
    const { code, stderr } = await runCli(['train', 'sst2-bert', ...tiny, '--out', join(dir, 'never'), '--work', join(dir, 'never-state')]);
    expect(code).toBe(EXIT.input);
    expect(stderr).toContain(join(dataDir, 'glue', 'sst2', 'train.tsv'));
    const gpt2 = await runCli([
      'train',
      'wikitext2-gpt2',
      '--data-dir',
      dataDir,
      '--out',
      join(dir, 'never'),
      '--work',
      join(dir, 'never-state'),
    ]);
    expect(gpt2.code).toBe(EXIT.input);
    expect(gpt2.stderr).toContain(join(dataDir, 'wikitext-2-raw', 'wiki.test.raw'));
  });

  it('bad invocations exit 2', async () => {
    useDataDir(writeTinySst2(join(dir, 'data'), 40));
    expect((await runCli(['train'])).code).toBe(EXIT.usage);
    const unknown = await runCli(['train', 'bert-large']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain('sst2-bert, wikitext2-gpt2');
    expect((await runCli(['train', 'sst2-bert', '--seq', '64'])).code).toBe(EXIT.usage);
    expect((await runCli(['train', 'sst2-bert', '--max-steps', '1.5'])).code).toBe(EXIT.usage);
    const heads = await runCli(['train', 'sst2-bert', ...tiny, '--heads', '3', '--out', join(dir, 'h'), '--work', join(dir, 'h-state')]);
    expect(heads.code).toBe(EXIT.usage);
    expect(heads.stderr).toContain('heads');
  });
});
