// One-shot ZipLM end to end on the built-in tiny BERT (built-in sample text, so no dataset is needed):
// table, calibration, database, search, stitch, export, score, verify, report; then resume.

import { existsSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir, loadModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { runOneShot, type OneShotOptions } from '../../src/oneshot.js';
import type { RunResults } from '../../src/results.js';
import { RunDirectoryError } from '../../src/errors.js';

const runDir = mkdtempSync(join(tmpdir(), 'ziplm-oneshot-'));
const options: OneShotOptions = {
  modelDir: builtinModelDir('tiny-bert'),
  runDir,
  targets: [1.5, 2.5],
  task: 'samples',
  methods: ['ziplm', 'magnitude', 'uniform'],
  calibrationSamples: 16,
  engine: 'js',
  tableRounds: { minRounds: 3, maxRounds: 5 },
  retarget: 0, // re-searching after a measurement is tested in retarget.test.ts
};

describe('runOneShot', () => {
  it('prunes to every target with every method, exports loadable members and writes the report', async () => {
    const stages = new Set<string>();
    const results = await runOneShot({ ...options, onEvent: (e) => e.kind === 'stage' && stages.add(e.stage) });
    expect([...stages]).toEqual(expect.arrayContaining(['latency', 'calibrate', 'database', 'search', 'evaluate', 'verify', 'report']));
    expect(results.members).toHaveLength(6);
    for (const m of results.members) {
      expect(m.predictedSpeedup).toBeGreaterThanOrEqual(m.target);
      expect(m.measuredSpeedup).toBeGreaterThan(0);
      expect(m.metric).toBeGreaterThanOrEqual(0);
      // The verification's diagnostics are kept, in results.json and in member.json.
      const v = m.verification!;
      expect(v.predictionError).toBeCloseTo(m.measuredSpeedup! / m.predictedSpeedup - 1, 10);
      expect(v.uncertainty).toBeGreaterThanOrEqual(0);
      expect(v.denseDrift).toBeCloseTo(v.denseMs / results.dense.timeMs - 1, 10);
      expect(v.memberMs).toBeGreaterThan(0);
      expect(v.rounds).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(await readFile(join(runDir, m.dir, 'member.json'), 'utf8')).verification).toEqual(v);
      const { checkpoint } = await loadModelDir(join(runDir, m.dir));
      expect(checkpoint.config.layerHeads).toEqual(m.layerHeads);
      expect(checkpoint.config.layerIntermediate).toEqual(m.layerIntermediate);
      expect(existsSync(join(runDir, m.dir, 'model.onnx'))).toBe(true);
    }
    // Uniform members have one shape in every layer.
    for (const m of results.members.filter((x) => x.method === 'uniform')) {
      expect(new Set(m.layerHeads).size).toBe(1);
      expect(new Set(m.layerIntermediate).size).toBe(1);
    }
    for (const f of ['manifest.json', 'results.json', 'report.md', 'accuracy-vs-speedup.svg', 'structure.svg', 'latency-table.json'])
      expect(existsSync(join(runDir, f))).toBe(true);
    const report = await readFile(join(runDir, 'report.md'), 'utf8');
    expect(report).toContain('| ZipLM measured | deviation | measured/predicted |');
    expect(report).toMatch(/Dense drift: during verification the dense model took /);
    const manifest = JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8'));
    expect(manifest.members).toHaveLength(6);
    expect(manifest.members[0].keptHeads).toHaveLength(4);
    expect(manifest.versions['@ziplm/pipeline']).toBeDefined();
    expect(manifest.tableSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('resumes: a rerun recomputes nothing and returns the same results', async () => {
    const before = JSON.parse(await readFile(join(runDir, 'results.json'), 'utf8')) as RunResults;
    // This run is timed for real: a member whose verdict came out 'inconclusive' on this machine is
    // re-timed by a rerun, by design (resume-inconclusive.test.ts scripts that case). Every other
    // member, and everything else, is replayed.
    const retimed = new Set(before.members.filter((m) => m.status === 'inconclusive').map((m) => m.dir));
    const replayed = (r: RunResults) => ({ ...r, members: r.members.filter((m) => !retimed.has(m.dir)) });
    const stages = new Set<string>();
    const again = await runOneShot({ ...options, onEvent: (e) => e.kind === 'stage' && stages.add(e.stage) });
    expect(stages.has('latency')).toBe(false);
    expect(stages.has('calibrate')).toBe(false);
    expect(stages.has('verify')).toBe(retimed.size > 0);
    expect(replayed(JSON.parse(JSON.stringify(again)))).toEqual(replayed(before));
  });

  it('refuses a run directory made for a different model', async () => {
    await expect(runOneShot({ ...options, modelDir: builtinModelDir('tiny-gpt2'), task: 'samples' })).rejects.toThrow(RunDirectoryError);
    await expect(runOneShot({ ...options, modelDir: builtinModelDir('tiny-gpt2'), task: 'samples' })).rejects.toThrow(/different model/);
  });

  it('names the maximum speedup when a target is unreachable', async () => {
    await expect(runOneShot({ ...options, targets: [1000], methods: ['ziplm'], verify: false })).rejects.toThrow(
      /maximum achievable speedup|max(imum)? .*speedup/i,
    );
  });
});
