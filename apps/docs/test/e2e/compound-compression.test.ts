// Tutorial 8 (tutorials/compound-compression.md): runs every `pnpm ziplm` line of
// tutorials/compound-compression.sh in order, in a fresh directory, and checks what the page promises:
// an INT8 latency table timed against the dense FP32 model, INT8 members whose graphs compute in INT8,
// the metric at every step of compound compression, and the sparsity of the sparse run.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '@ziplm/cli';
import { decodeModel } from '@ziplm/onnx';
import type { RunResults } from '@ziplm/pipeline';
import { describe, expect, it } from 'vitest';
import { readScript, runZiplm } from '../cli-script.ts';

const script = readScript(join(import.meta.dirname, '../../tutorials/compound-compression.sh'));
const cwd = mkdtempSync(join(tmpdir(), 'ziplm-docs-t8-'));
const json = <T>(file: string): T => JSON.parse(readFileSync(join(cwd, file), 'utf8')) as T;

/** The operator types of a member's shipped graph. */
function opTypes(memberDir: string): Set<string> {
  const model = decodeModel(readFileSync(join(cwd, memberDir, 'model.onnx')), memberDir);
  return new Set(model.graph.nodes.map((n) => n.opType));
}

/** The checks every compound run of the tutorial shares. */
function expectCompoundRun(run: string, sparsity: number): RunResults {
  const results = json<RunResults>(`${run}/results.json`);
  expect(results.environment).toContain('int8-dynamic');
  // Speedups count from the dense FP32 model; the table also times the dense model in INT8.
  expect(results.dense.int8TimeMs).toBeGreaterThan(0);
  expect(results.members.map((m) => m.target)).toEqual([2, 3, 4]);
  for (const m of results.members) {
    const c = m.compound!;
    expect(c, `${m.dir}: no compound record`).toBeDefined();
    expect(c.precision).toBe('int8-dynamic');
    expect(c.shipped).toBe('gptq');
    for (const step of ['fp32', 'rtn', 'gptq'] as const) expect(c.metrics[step], `${m.dir}: ${step}`).toBeGreaterThanOrEqual(0);
    // GPTQ's layer-wise error is never above round-to-nearest's on the same Hessian.
    expect(c.errors.gptq).toBeLessThanOrEqual(c.errors.rtn * (1 + 1e-9));
    expect(c.weightBytes.int8).toBeLessThan(c.weightBytes.fp32);
    expect(c.sparsity).toBeGreaterThanOrEqual(sparsity);
    expect(m.measuredSpeedup).toBeGreaterThan(0);
    // The shipped graph is INT8: dynamic activation quantization feeding integer matrix products.
    const ops = opTypes(join(run, m.dir));
    expect(ops.has('DynamicQuantizeLinear') && ops.has('MatMulInteger'), `${run}/${m.dir}/model.onnx ops: ${[...ops].join(', ')}`).toBe(
      true,
    );
  }
  const report = readFileSync(join(cwd, run, 'report.md'), 'utf8');
  expect(report).toContain('## Compound compression (int8-dynamic)');
  return results;
}

describe('tutorial 8: compound compression', () => {
  it('has the commands the page shows, in its regions', () => {
    expect(script.map((c) => c.region)).toEqual(['tables', 'tables', 'fp32', 'int8', 'sparse', 'report', 'member']);
  });

  it('prunes, sparsifies and quantizes the built-in SST-2 BERT, and ships INT8 graphs', { timeout: 600_000 }, async () => {
    for (const command of script) {
      const result = await runZiplm(command.argv, cwd);
      // `prune` re-times its members: on a busy CI machine a small model's speedup can miss (exit 5).
      const allowed: number[] = command.line.includes(' prune ') ? [EXIT.ok, EXIT.checkFailed] : [EXIT.ok];
      expect(allowed, `${command.line}\n${result.stderr}`).toContain(result.code);
      if (command.line.includes('--precision int8-dynamic')) {
        const table = json<{ environment: { precision?: string }; reference?: { median: number }; dense: { median: number } }>(
          'sst2-bert.int8.latency.json',
        );
        expect(table.environment.precision).toBe('int8-dynamic');
        expect(table.reference?.median).toBeGreaterThan(0);
      }
      if (command.region === 'fp32') {
        const results = json<RunResults>('runs/sst2-fp32/results.json');
        expect(results.members.every((m) => m.compound === undefined)).toBe(true);
        expect(readFileSync(join(cwd, 'runs/sst2-fp32/report.md'), 'utf8')).not.toContain('## Compound compression');
        expect(opTypes(join('runs/sst2-fp32', results.members[0]!.dir)).has('MatMulInteger')).toBe(false);
      }
      if (command.region === 'int8') expectCompoundRun('runs/sst2-int8', 0);
      if (command.region === 'sparse') {
        const results = expectCompoundRun('runs/sst2-int8-sparse', 0.45);
        for (const m of results.members) {
          const c = m.compound!;
          expect(c.metrics.sparse, `${m.dir}: FP32 + sparsity`).toBeGreaterThanOrEqual(0);
          expect(c.errors.sparse).toBeGreaterThan(0);
          // Half the weights are gone: the bitmask + values format is smaller than dense INT8.
          expect(c.weightBytes.sparseInt8).toBeLessThan(c.weightBytes.int8);
        }
      }
      if (command.region === 'report') {
        expect(result.stdout).toMatch(/int8 gptq/);
        expect(result.stdout).toMatch(/\+sparse/);
        expect(existsSync(join(cwd, 'runs/sst2-int8-sparse/report.md'))).toBe(true);
      }
    }
  });
});
