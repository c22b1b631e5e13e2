// Tutorial 4 (tutorials/gradual.md): gradual ZipLM with and without token distillation on the
// built-in tiny BERT and sample sentences (tutorials/gradual.ts), then the CLI part (gradual.sh).

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '@ziplm/cli';
import { builtinModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { gradualWithDistillation, tokenDistillationGain } from '../../tutorials/gradual.ts';
import { readScript, runZiplm } from '../cli-script.ts';

describe('tutorial 4: gradual pruning with token distillation', () => {
  it('prunes ascending targets, each from the previous member, in two families', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'ziplm-docs-t4-'));
    const results = await gradualWithDistillation({
      modelDir: builtinModelDir('tiny-bert'),
      task: 'samples',
      runDir,
      targets: [1.5, 2],
      trainSamples: 16,
      overrides: {
        calibrationSamples: 16,
        engine: 'js',
        spdy: false,
        tableRounds: { minRounds: 3, maxRounds: 5 },
        verify: false,
        fineTune: { trainSamples: 16, epochs: 1, batchSize: 8, learningRate: 1e-3 },
      },
    });
    expect(results.mode).toBe('gradual');
    expect(results.members.map((m) => `${m.variant ?? 'ziplm'} ${m.target}`)).toEqual([
      'ziplm 1.5',
      'ziplm 2',
      'no token distillation 1.5',
      'no token distillation 2',
    ]);
    for (const family of [undefined, 'no token distillation']) {
      const [a, b] = results.members.filter((m) => m.variant === family);
      // Gradual: the 2x member is pruned from the 1.5x one, so no layer grows back.
      a!.layerHeads.forEach((h, l) => {
        expect(b!.layerHeads[l]).toBeLessThanOrEqual(h);
      });
      a!.layerIntermediate.forEach((n, l) => {
        expect(b!.layerIntermediate[l]).toBeLessThanOrEqual(n);
      });
      expect(b!.predictedSpeedup).toBeGreaterThanOrEqual(2);
    }
    const gains = tokenDistillationGain(results);
    expect(gains.map((g) => g.target)).toEqual([1.5, 2]);
    for (const g of gains) expect(g.gain).toBeCloseTo(g.withToken - g.withoutToken, 12);
  });

  it('runs the command-line part', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ziplm-docs-t4-cli-'));
    const script = readScript(join(import.meta.dirname, '../../tutorials/gradual.sh'));
    expect(script.map((c) => c.argv[0])).toEqual(['latency', 'gradual']);
    for (const command of script) {
      const result = await runZiplm(command.argv, cwd);
      // Exit 5: a member measured below its target on a busy machine (a timing check, not an error).
      expect(command.argv[0] === 'gradual' ? [EXIT.ok, EXIT.checkFailed] : [EXIT.ok], `${command.line}\n${result.stderr}`).toContain(
        result.code,
      );
    }
    const results = JSON.parse(readFileSync(join(cwd, 'runs/tiny-bert-gradual/results.json'), 'utf8'));
    expect(results.mode).toBe('gradual');
    expect(results.members.map((m: { target: number }) => m.target)).toEqual([1.5, 2]);
  });
});
