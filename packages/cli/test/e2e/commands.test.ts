// Every pipeline command, in-process, on the built-in tiny models (fast settings).

import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import { runCli } from '../run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ziplm-cli-'));
const run = join(dir, 'run');
const fast = ['--model', 'tiny-bert', '--task', 'samples', '--calibration-samples', '16', '--spdy-steps', '1', '--engine', 'js'];

describe('ziplm prune / report / export / eval / latency / verify', () => {
  it('prune: one-shot to two targets, JSON results, members on disk', async () => {
    const { code, stdout, stderr } = await runCli(['prune', ...fast, '--targets', '1.5,2', '--run', run, '--no-verify', '--json']);
    expect(stderr).not.toContain('internal error');
    expect(code).toBe(EXIT.ok);
    const results = JSON.parse(stdout);
    expect(results.members.map((m: { target: number }) => m.target)).toEqual([1.5, 2]);
    for (const m of results.members) expect(existsSync(join(run, m.dir, 'model.onnx'))).toBe(true);
    expect(existsSync(join(run, 'report.md'))).toBe(true);
  });

  it('prune: an unreachable target exits 4 and names the maximum', async () => {
    const { code, stderr } = await runCli(['prune', ...fast, '--targets', '500', '--run', run, '--no-verify']);
    expect(code).toBe(EXIT.unreachable);
    expect(stderr).toMatch(/maximum predicted speedup under this latency table is \d+\.\d+x/);
  });

  it('prune: a run directory of another model exits 3', async () => {
    const { code, stderr } = await runCli([
      'prune',
      '--model',
      'tiny-gpt2',
      '--task',
      'samples',
      '--targets',
      '1.5',
      '--run',
      run,
      '--no-verify',
    ]);
    expect(code).toBe(EXIT.input);
    expect(stderr).toContain('different model');
  });

  it('report: rewrites and prints a run report; a missing run exits 3', async () => {
    const ok = await runCli(['report', '--run', run]);
    expect(ok.code).toBe(EXIT.ok);
    expect(ok.stdout).toContain('1.50x');
    const missing = await runCli(['report', '--run', join(dir, 'nope')]);
    expect(missing.code).toBe(EXIT.input);
    expect(missing.stderr).toContain('results.json');
  });

  it('export and eval a member', async () => {
    const member = join(run, 'members', 'ziplm-2.00x');
    const out = join(dir, 'member.onnx');
    const exported = await runCli(['export', '--model', member, '--out', out, '--json']);
    expect(exported.code).toBe(EXIT.ok);
    expect(existsSync(out)).toBe(true);
    const scored = await runCli(['eval', '--model', member, '--task', 'samples', '--json']);
    expect(scored.code).toBe(EXIT.ok);
    expect(JSON.parse(scored.stdout).metric).toBe('agreement');
  });

  it('latency builds a table; verify re-times a member against it (pass or a documented miss, never an error)', async () => {
    const table = join(dir, 'table.json');
    const built = await runCli(['latency', '--model', 'tiny-bert', '--out', table, '--min-rounds', '3', '--max-rounds', '5', '--json']);
    expect(built.code).toBe(EXIT.ok);
    expect(JSON.parse(built.stdout).attention.length).toBeGreaterThan(1);
    const verified = await runCli([
      'verify',
      '--dense',
      'tiny-bert',
      '--model',
      join(run, 'members', 'ziplm-1.50x'),
      '--table',
      join(run, 'latency-table.json'),
      '--json',
    ]);
    expect([EXIT.ok, EXIT.checkFailed]).toContain(verified.code);
    const report = JSON.parse(verified.stdout);
    expect(report.target).toBe(1.5);
    expect(report.measured).toBeGreaterThan(0);
    const badTable = await runCli(['verify', '--dense', 'tiny-gpt2', '--model', join(run, 'members', 'ziplm-1.50x'), '--table', table]);
    expect(badTable.code).toBe(EXIT.input);
  });
});
