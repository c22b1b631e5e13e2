// Tutorial 7 (tutorials/your-data.md): writes the tutorial's data (tickets.csv, notes/) into a fresh
// directory, runs every `pnpm ziplm` line of tutorials/your-data.sh in order, and checks that the
// data's own name, labels and metric reach every output.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '@ziplm/cli';
import { describe, expect, it } from 'vitest';
import { writeTutorialData } from '../../scripts/tutorial-data.ts';
import { readScript, runZiplm } from '../cli-script.ts';

const script = readScript(join(import.meta.dirname, '../../tutorials/your-data.sh'));
const cwd = mkdtempSync(join(tmpdir(), 'ziplm-docs-t7-'));
const json = (file: string) => JSON.parse(readFileSync(join(cwd, file), 'utf8'));

describe('tutorial 7: bring your own data', () => {
  it('has the commands the page shows, in its regions', () => {
    expect(script.map((c) => c.region)).toEqual([
      'train-classifier',
      'prune-classifier',
      'prune-classifier',
      'eval-classifier',
      'train-lm',
      'prune-lm',
      'prune-lm',
      'eval-lm',
    ]);
  });

  it('trains, prunes and scores a classifier and a language model on data it has never seen', { timeout: 600_000 }, async () => {
    writeTutorialData(cwd);
    for (const command of script) {
      const result = await runZiplm(command.argv, cwd);
      // `prune` re-times its members: on a busy CI machine a tiny model's speedup can miss (exit 5).
      const allowed: number[] = command.line.includes(' prune ') ? [EXIT.ok, EXIT.checkFailed] : [EXIT.ok];
      expect(allowed, `${command.line}\n${result.stderr}`).toContain(result.code);
      if (command.region === 'train-classifier') {
        const config = json('tickets-bert/config.json');
        expect(config.id2label).toEqual({ 0: 'account', 1: 'billing', 2: 'bug' });
        expect(config.ziplm.max_sequence_length).toBe(32);
        const results = json('tickets-bert/results.json');
        expect(results.data.task).toBe('tickets');
        expect(results.data.split).toMatch(/seeded split \(seed 42, stratified by label\)/);
        expect(result.stdout).toMatch(/bert-classifier on tickets: test accuracy [\d.]+% on 36/);
      }
      if (command.region === 'prune-classifier' && command.line.includes(' prune ')) {
        const results = json('runs/tickets/results.json');
        expect(results.task).toBe('tickets');
        expect(results.labels).toEqual(['account', 'billing', 'bug']);
        expect(results.metric.label).toBe('tickets test accuracy (%)');
        // Timed at the length the model was trained at.
        expect(results.environment).toContain('latency 1x32');
        expect(result.stdout).toContain('task tickets (labels: account, billing, bug)');
        expect(readFileSync(join(cwd, 'runs/tickets/report.md'), 'utf8')).toContain('# ZipLM run report: tickets');
      }
      if (command.region === 'eval-classifier') expect(result.stdout).toMatch(/^tickets test accuracy \(%\): [\d.]+$/m);
      if (command.region === 'train-lm') {
        expect(json('notes-gpt2/config.json').ziplm.max_sequence_length).toBe(32);
        expect(result.stdout).toMatch(/gpt2-lm on notes: test perplexity [\d.]+/);
      }
      if (command.region === 'prune-lm' && command.line.includes(' prune ')) {
        const results = json('runs/notes/results.json');
        expect(results.task).toBe('notes');
        expect(results.metric.label).toBe('notes test perplexity, 32-token chunks (lower is better)');
      }
      if (command.region === 'eval-lm')
        expect(result.stdout).toMatch(/^notes test perplexity, 32-token chunks \(lower is better\): [\d.]+$/m);
    }
  });
});
