// Tutorial 2 (tutorials/prune-your-bert.md): the programmatic one-shot run, on the built-in tiny BERT
// (a Hugging Face-layout directory like yours) with the built-in sample text instead of GLUE.

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { describeModel, pruneOnGlue, summarize } from '../tutorials/prune-your-bert.ts';

describe('tutorial 2: prune your own BERT', () => {
  it('describes the model directory, and fails on a broken one naming the file', async () => {
    expect(await describeModel(builtinModelDir('tiny-bert'))).toBe('BERT, 4 layers, hidden 48, 6 heads, FFN 192, 2-label classifier, vocabulary 1024');
    const broken = mkdtempSync(join(tmpdir(), 'ziplm-docs-t2-bad-'));
    writeFileSync(join(broken, 'config.json'), '{"model_type": "bert"');
    await expect(describeModel(broken)).rejects.toThrow(/config\.json/);
    await expect(describeModel(builtinModelDir('tiny-gpt2'))).rejects.toThrow(/expected a BERT model, got gpt2/);
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
    expect(results.members.map((m) => `${m.method} ${m.target}`)).toEqual(['ziplm 1.5', 'ziplm 2', 'magnitude 1.5', 'magnitude 2', 'uniform 1.5', 'uniform 2']);
    for (const m of results.members) expect(existsSync(join(runDir, m.dir, 'model.onnx'))).toBe(true);
    const lines = summarize(results);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^ziplm {5}1\.5x: predicted \d\.\d\dx, not re-timed, agreement \d+\.\d\d \([+-]\d+\.\d\d vs dense\), members\/ziplm-1\.50x$/);
    expect(existsSync(join(runDir, 'report.md'))).toBe(true);
  });
});
