// Tutorial 1 (tutorials/prune-builtin.md): runs every `pnpm ziplm` line of tutorials/prune-builtin.sh
// in order, in a fresh directory, and checks what each step promises on the page.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '@ziplm/cli';
import { describe, expect, it } from 'vitest';
import { readScript, runZiplm } from '../cli-script.ts';

const script = readScript(join(import.meta.dirname, '../../tutorials/prune-builtin.sh'));
const cwd = mkdtempSync(join(tmpdir(), 'ziplm-docs-t1-'));

describe('tutorial 1: prune the built-in model with pnpm ziplm', () => {
  it('has the commands the page shows, in its regions', () => {
    expect(script.map((c) => c.region)).toEqual(['check', 'latency', 'prune', 'report', 'member', 'member']);
  });

  it('runs every command', async () => {
    for (const command of script) {
      const result = await runZiplm(command.argv, cwd);
      // `prune` re-times its members: on a busy 2-core CI machine a tiny model's measured speedup
      // can miss its target, which is exit code 5 (a failed check), not an error of the tutorial.
      const allowed: number[] = command.region === 'prune' ? [EXIT.ok, EXIT.checkFailed] : [EXIT.ok];
      expect(allowed, `${command.line}\n${result.stderr}`).toContain(result.code);
      if (command.region === 'latency') {
        expect(result.stdout).toContain('ms per layer');
        expect(existsSync(join(cwd, 'tiny-bert.latency.json'))).toBe(true);
      }
      if (command.region === 'prune') {
        const results = JSON.parse(readFileSync(join(cwd, 'runs/tiny-bert/results.json'), 'utf8'));
        expect(results.members.map((m: { target: number }) => m.target)).toEqual([1.5, 2]);
        for (const m of results.members) {
          // A member re-searched after a measured miss (`--retarget`) was searched for `searchTarget`.
          expect(m.predictedSpeedup).toBeGreaterThanOrEqual(m.searchTarget ?? m.target);
          expect(m.measuredSpeedup).toBeGreaterThan(0);
        }
        expect(result.stdout).toContain('report: ');
      }
      if (command.region === 'report') {
        expect(result.stdout).toMatch(/ziplm\s+2\.00x/);
        for (const f of ['report.md', 'accuracy-vs-speedup.svg', 'structure.svg'])
          expect(existsSync(join(cwd, 'runs/tiny-bert', f))).toBe(true);
      }
    }
    expect(readFileSync(join(cwd, 'tiny-bert-2x.onnx')).byteLength).toBeGreaterThan(1000);
  });
});
