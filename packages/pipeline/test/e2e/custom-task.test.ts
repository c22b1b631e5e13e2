// A one-shot run on the user's own data: the task's name, metric and labels reach results.json, the
// report and the plots, and the spec is part of the run's identity.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { RunDirectoryError } from '../../src/errors.js';
import { runGradual } from '../../src/gradual.js';
import { runOneShot, type OneShotOptions } from '../../src/oneshot.js';
import type { ClassificationTaskSpec } from '../../src/tasks/index.js';

function writeTickets(dir: string): string {
  const topics = { billing: ['invoice', 'refund', 'charge', 'payment'], bug: ['crash', 'error', 'freeze', 'broken'] };
  const lines = ['id,body,queue'];
  for (let i = 0; i < 120; i++) {
    const queue = i % 2 === 0 ? 'billing' : 'bug';
    const words = topics[queue];
    // CSV with quoting: a comma inside the text.
    lines.push(`${i},"my ${words[i % 4]}, again ${words[(i + 1) % 4]} ${i}",${queue}`);
  }
  const file = join(dir, 'tickets.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The tickets as a classification task, their queues mapped onto tiny-bert's two labels in order. */
function ticketsTask(dir: string): ClassificationTaskSpec {
  return {
    kind: 'classification',
    name: 'tickets',
    data: writeTickets(dir),
    columns: { text: 'body', label: 'queue' },
    labels: ['billing', 'bug'],
  };
}

describe('a one-shot run on a custom classification task', () => {
  it('records the task name, metric and labels everywhere, and refuses to resume with other columns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-run-'));
    const task = ticketsTask(dir);
    const runDir = join(dir, 'run');
    const options: OneShotOptions = {
      modelDir: builtinModelDir('tiny-bert'),
      runDir,
      targets: [1.5],
      task,
      methods: ['ziplm'],
      calibrationSamples: 16,
      engine: 'js',
      spdy: false,
      tableRounds: { minRounds: 3, maxRounds: 3 },
      verify: false,
    };
    const stages: string[] = [];
    const results = await runOneShot({ ...options, onEvent: (e) => e.kind === 'stage' && stages.push(e.message) });
    expect(results.task).toBe('tickets');
    expect(results.labels).toEqual(['negative', 'positive']);
    expect(results.metric.label).toBe('tickets test accuracy (%)');
    expect(results.metric.items).toBe(12);
    expect(stages.find((m) => m.startsWith('plan:'))).toMatch(
      /^plan: tickets, calibration on 16 sequences \(\d+ tokens\) for a level database of 8 modules/,
    );
    const report = await readFile(join(runDir, 'report.md'), 'utf8');
    expect(report).toContain('# ZipLM run report: tickets');
    expect(report).toContain('tickets (labels: negative, positive)');
    expect(report).toContain('tickets test accuracy (%)');
    const stored = JSON.parse(await readFile(join(runDir, 'results.json'), 'utf8'));
    expect(stored.task).toBe('tickets');
    const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
    expect(JSON.stringify(manifest)).toContain('"taskSpec"');
    expect(JSON.stringify(manifest)).not.toContain(dir);
    // The same files read through other columns are another task: the run directory is not reused.
    await expect(runOneShot({ ...options, task: { ...task, columns: { text: 'id', label: 'queue' } } })).rejects.toThrow(RunDirectoryError);
  });

  it('fine-tunes a gradual member on the training rows and scores it on the test rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-custom-gradual-'));
    const task = ticketsTask(dir);
    const plans: string[] = [];
    const results = await runGradual({
      modelDir: builtinModelDir('tiny-bert'),
      runDir: join(dir, 'run'),
      targets: [1.5],
      task,
      calibrationSamples: 16,
      engine: 'js',
      spdy: false,
      tableRounds: { minRounds: 3, maxRounds: 3 },
      verify: false,
      fineTune: { epochs: 1, batchSize: 16, learningRate: 1e-3 },
      onEvent: (e) => e.kind === 'stage' && e.stage === 'plan' && plans.push(e.message),
    });
    expect(results.task).toBe('tickets');
    expect(results.metric.label).toBe('tickets test accuracy (%)');
    // Fine-tuning uses every row but the 12 test rows.
    expect(plans.at(-1)).toMatch(/^plan: fine-tuning 1 epochs on 108 sequences/);
    expect(results.members).toHaveLength(1);
    expect(results.members[0]!.metric).toBeGreaterThanOrEqual(0);
  });
});
