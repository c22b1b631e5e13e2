// Tutorial 5 (tutorials/gpt2.md): the built-in tiny GPT2, pruned for throughput and for generation,
// on the built-in sample text, with quick settings.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir, loadModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { compareStructures, GPT2_ENVIRONMENTS, pruneGpt2ForBoth } from '../../tutorials/gpt2.ts';

describe('tutorial 5: GPT2 for throughput and for generation', () => {
  it('prunes the same model for both environments', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'ziplm-docs-t5-'));
    const results = await pruneGpt2ForBoth({
      modelDir: builtinModelDir('tiny-gpt2'),
      task: 'samples',
      runsDir,
      targets: [1.5],
      overrides: { calibrationSamples: 16, engine: 'js', spdy: false, tableRounds: { minRounds: 3, maxRounds: 5 }, verify: false },
    });
    expect(Object.keys(results)).toEqual(Object.keys(GPT2_ENVIRONMENTS));
    expect(results.throughput.environment).toContain('throughput 16x128');
    expect(results.generation.environment).toContain('generation');
    for (const run of Object.values(results)) {
      expect(run.metric.name).toBe('perplexity');
      expect(run.members).toHaveLength(1);
      const [member] = run.members;
      expect(member!.predictedSpeedup).toBeGreaterThanOrEqual(1.5);
      expect(member!.metric).toBeGreaterThan(1);
      // The member is a loadable, smaller GPT2.
      const { checkpoint } = await loadModelDir(
        join(runsDir, `gpt2-${run === results.throughput ? 'throughput' : 'generation'}`, member!.dir),
      );
      expect(checkpoint.config.modelType).toBe('gpt2');
      expect(checkpoint.config.layerHeads).toEqual(member!.layerHeads);
    }
    const lines = compareStructures(results);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^throughput 1\.5x: heads \d+\/24, FFN \d+\/768, perplexity/);
  });
});
