// Gradual ZipLM end to end on the built-in tiny BERT with built-in sample text: each target prunes
// the previous (fine-tuned) member, fine-tunes with distillation from the dense model, and a rerun
// resumes without recomputing anything.

import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir, loadModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { runGradual, type GradualOptions } from '../../src/gradual.js';

const runDir = mkdtempSync(join(tmpdir(), 'ziplm-gradual-'));
const options: GradualOptions = {
  modelDir: builtinModelDir('tiny-bert'),
  runDir,
  targets: [2, 1.5],
  task: 'samples',
  calibrationSamples: 16,
  engine: 'js',
  spdy: { randomInits: 1, steps: 1 },
  tableRounds: { minRounds: 3, maxRounds: 5 },
  verify: false,
  fineTune: { epochs: 1, batchSize: 8, learningRate: 1e-3 },
  variants: [{}, { name: 'no token distillation', weights: { token: 0 } }],
};

describe('runGradual', () => {
  it('prunes each target from the previous member, fine-tunes, and never grows a layer', async () => {
    const stages: string[] = [];
    const results = await runGradual({ ...options, onEvent: (e) => e.kind === 'stage' && stages.push(e.stage) });
    expect(stages).toContain('fine-tune');
    expect(results.mode).toBe('gradual');
    expect(results.members.map((m) => [m.variant ?? '', m.target])).toEqual([
      ['', 1.5],
      ['', 2],
      ['no token distillation', 1.5],
      ['no token distillation', 2],
    ]);
    for (const variant of [undefined, 'no token distillation']) {
      const [a, b] = results.members.filter((m) => m.variant === variant);
      expect(b!.predictedSpeedup).toBeGreaterThanOrEqual(2);
      // Monotone: the 2x member was pruned from the 1.5x member.
      b!.layerHeads.forEach((h, l) => {
        expect(h).toBeLessThanOrEqual(a!.layerHeads[l]!);
      });
      b!.layerIntermediate.forEach((f, l) => {
        expect(f).toBeLessThanOrEqual(a!.layerIntermediate[l]!);
      });
      // Fine-tuning changed the weights: the member is not the stitched model.
      const { checkpoint } = await loadModelDir(join(runDir, b!.dir));
      expect(checkpoint.config.layerHeads).toEqual(b!.layerHeads);
    }
    const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
    expect(manifest.identity.mode).toBe('gradual');
    expect(manifest.members).toHaveLength(4);
  });

  it('resumes without recomputing anything', async () => {
    const before = JSON.parse(await readFile(join(runDir, 'results.json'), 'utf8'));
    const stages = new Set<string>();
    const again = await runGradual({ ...options, onEvent: (e) => e.kind === 'stage' && stages.add(e.stage) });
    expect(stages.has('fine-tune')).toBe(false);
    expect(stages.has('calibrate')).toBe(false);
    expect(JSON.parse(JSON.stringify(again))).toEqual(before);
  });
});
