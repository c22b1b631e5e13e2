// Tutorial 2 (tutorials/prune-your-bert.md): the programmatic one-shot run, on the built-in tiny BERT
// (a Hugging Face-layout directory like yours), on a small GLUE SST-2 directory the test writes (the
// path a reader's run takes: $ZIPLM_DATA_DIR/glue/sst2/{train,dev}.tsv) and on the built-in sample text.

import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { describeModel, pruneOnGlue, summarize } from '../../tutorials/prune-your-bert.ts';

describe('tutorial 2: prune your own BERT', () => {
  it('describes the model directory, and fails on a broken one naming the file', async () => {
    expect(await describeModel(builtinModelDir('tiny-bert'))).toBe(
      'BERT, 4 layers, hidden 48, 6 heads, FFN 192, 2-label classifier, vocabulary 1024',
    );
    const broken = mkdtempSync(join(tmpdir(), 'ziplm-docs-t2-bad-'));
    writeFileSync(join(broken, 'config.json'), '{"model_type": "bert"');
    await expect(describeModel(broken)).rejects.toThrow(/config\.json/);
    await expect(describeModel(builtinModelDir('tiny-gpt2'))).rejects.toThrow(/expected a BERT model, got gpt2/);
  });

  it('runs on a GLUE task read from $ZIPLM_DATA_DIR, scoring accuracy on its dev set', async () => {
    const data = mkdtempSync(join(tmpdir(), 'ziplm-docs-t2-data-'));
    mkdirSync(join(data, 'glue', 'sst2'), { recursive: true });
    const words = [
      'a great film',
      'a dull mess',
      'wonderful acting',
      'boring and long',
      'truly moving',
      'badly written',
      'a joy',
      'a chore',
    ];
    const rows = (n: number) =>
      `${['sentence\tlabel', ...Array.from({ length: n }, (_, i) => `${words[i % words.length]} ${i}\t${(i + 1) % 2}`)].join('\n')}\n`;
    writeFileSync(join(data, 'glue', 'sst2', 'train.tsv'), rows(48));
    writeFileSync(join(data, 'glue', 'sst2', 'dev.tsv'), rows(16));
    const saved = process.env.ZIPLM_DATA_DIR;
    process.env.ZIPLM_DATA_DIR = data;
    try {
      const runDir = mkdtempSync(join(tmpdir(), 'ziplm-docs-t2-glue-'));
      const results = await pruneOnGlue({
        modelDir: builtinModelDir('tiny-bert'),
        task: 'sst2',
        runDir,
        targets: [1.5],
        overrides: { calibrationSamples: 16, engine: 'js', spdy: false, tableRounds: { minRounds: 3, maxRounds: 5 }, verify: false },
      });
      expect(results.task).toBe('sst2');
      expect(results.metric.name).toBe('accuracy');
      expect(results.metric.label).toMatch(/SST-2 dev accuracy/);
      expect(results.members).toHaveLength(3);
      for (const m of results.members) expect(m.metric).toBeGreaterThanOrEqual(0);
      expect(summarize(results)[0]).toMatch(/^ziplm {5}1\.5x: predicted \d\.\d\dx, not re-timed, accuracy \d+\.\d\d/);
    } finally {
      if (saved === undefined) delete process.env.ZIPLM_DATA_DIR;
      else process.env.ZIPLM_DATA_DIR = saved;
    }
  });

  it('prunes with ZipLM and both baselines, and summarizes every member', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'ziplm-docs-t2-'));
    const results = await pruneOnGlue({
      modelDir: builtinModelDir('tiny-bert'),
      task: 'samples',
      runDir,
      targets: [1.5, 2],
      overrides: { calibrationSamples: 16, engine: 'js', spdy: false, tableRounds: { minRounds: 3, maxRounds: 5 }, verify: false },
    });
    expect(results.members.map((m) => `${m.method} ${m.target}`)).toEqual([
      'ziplm 1.5',
      'ziplm 2',
      'magnitude 1.5',
      'magnitude 2',
      'uniform 1.5',
      'uniform 2',
    ]);
    for (const m of results.members) expect(existsSync(join(runDir, m.dir, 'model.onnx'))).toBe(true);
    const lines = summarize(results);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(
      /^ziplm {5}1\.5x: predicted \d\.\d\dx, not re-timed, agreement \d+\.\d\d \([+-]\d+\.\d\d vs dense\), members\/ziplm-1\.50x$/,
    );
    expect(existsSync(join(runDir, 'report.md'))).toBe(true);
  });
});
