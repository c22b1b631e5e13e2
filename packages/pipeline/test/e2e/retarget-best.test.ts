// The retarget loop never makes a member worse: a re-searched version is timed before it is written
// and replaces the member only when it is measured better (`measuredBetter`). The device's timings are
// replaced by a script (verifySpeedups of @ziplm/latency/measure is mocked), so that the outcome does
// not depend on this machine: the case, a passing member re-searched into a failing one, is
// played exactly.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerificationReport, VerifyCandidate } from '@ziplm/latency/measure';
import { builtinModelDir } from '@ziplm/models';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { measuredBetter, runOneShot, type OneShotOptions } from '../../src/oneshot.js';
import { scriptedReport } from '../fixtures/scripted-verification.js';

/** Measured speedups the fake device returns, one per timed candidate, in order. */
const script: number[] = [];
const timed: number[] = [];

vi.mock('@ziplm/latency/measure', async (importOriginal) => {
  const original = await importOriginal<typeof import('@ziplm/latency/measure')>();
  return {
    ...original,
    async verifySpeedups(options: { candidates: readonly VerifyCandidate[]; tolerance?: number }): Promise<VerificationReport[]> {
      const tolerance = options.tolerance ?? 0.02;
      return options.candidates.map((c) => {
        const measured = script.shift();
        if (measured === undefined) throw new Error('the test script ran out of measurements');
        timed.push(measured);
        return scriptedReport(c, { measured }, tolerance);
      });
    },
  };
});

const base = (runDir: string): OneShotOptions => ({
  modelDir: builtinModelDir('tiny-bert'),
  runDir,
  targets: [2],
  task: 'samples',
  methods: ['ziplm'],
  calibrationSamples: 8,
  engine: 'js',
  spdy: false,
  evaluate: false,
  tableRounds: { minRounds: 3, maxRounds: 4 },
  tolerance: 0.02,
  retarget: 2,
});

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

beforeEach(() => {
  script.length = 0;
  timed.length = 0;
});

describe('measuredBetter', () => {
  const at = (measuredSpeedup: number) => ({ target: 2, measuredSpeedup });
  it('prefers passing to failing, then the one closer to the target; a tie keeps the incumbent', () => {
    expect(measuredBetter(at(1.956), at(2.082), 0.02)).toBe(false); // the case
    expect(measuredBetter(at(2.5), at(1.9), 0.02)).toBe(true);
    expect(measuredBetter(at(2.05), at(2.3), 0.02)).toBe(true);
    expect(measuredBetter(at(1.9), at(1.8), 0.02)).toBe(true);
    expect(measuredBetter(at(2.3), at(2.3), 0.02)).toBe(false);
    expect(measuredBetter({ target: 2 }, at(1.5), 0.02)).toBe(false);
  });
});

describe('runOneShot retarget keeps the best measured member', () => {
  it('never replaces a passing member with a failing re-search; the discarded attempt is reported', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'ziplm-retarget-best-'));
    // 2.5x passes but overshoots beyond the prediction (so it is re-searched); the re-search measures 1.956x.
    script.push(2.5, 1.956);
    const warnings: string[] = [];
    const results = await runOneShot({ ...base(runDir), onEvent: (e) => e.kind === 'warning' && warnings.push(e.message) });
    expect(timed).toEqual([2.5, 1.956]);
    const [m] = results.members;
    expect(m!.measuredSpeedup).toBe(2.5);
    expect(m!.status).toBe('pass');
    expect(m!.searchTarget).toBeUndefined();
    expect(m!.attempts).toHaveLength(1);
    expect(m!.attempts![0]).toMatchObject({ measuredSpeedup: 1.956, discarded: true });
    expect(m!.attempts![0]!.searchTarget).toBeLessThan(2);
    expect(warnings.some((w) => /no better than 2\.500x; keeping the earlier version/.test(w))).toBe(true);
    // The shipped files are those of the kept member, and a rerun resumes it as it is.
    const onnx = join(runDir, m!.dir, 'model.onnx');
    const before = sha256(onnx);
    const again = await runOneShot(base(runDir));
    expect(again.members[0]).toEqual(m);
    expect(sha256(onnx)).toBe(before);
    expect(timed).toEqual([2.5, 1.956]); // nothing was timed again
    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(report).toMatch(/searched again/);
  }, 120_000);

  it('replaces a failing member with a re-search measured better', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'ziplm-retarget-better-'));
    script.push(1.8, 1.99);
    const results = await runOneShot(base(runDir));
    expect(timed).toEqual([1.8, 1.99]);
    const [m] = results.members;
    expect(m!.measuredSpeedup).toBe(1.99);
    expect(m!.status).toBe('pass');
    expect(m!.searchTarget).toBeGreaterThan(2);
    expect(m!.attempts).toEqual([expect.objectContaining({ measuredSpeedup: 1.8, searchTarget: 2 })]);
    expect(m!.attempts![0]!.discarded).toBeUndefined();
    // The record on disk is the measured one, with its files' hashes: a rerun resumes it.
    const record = JSON.parse(readFileSync(join(runDir, m!.dir, 'member.json'), 'utf8'));
    expect(record.measuredSpeedup).toBe(1.99);
    expect(Object.keys(record.files)).toContain('model.onnx');
    const again = await runOneShot(base(runDir));
    expect(again.members[0]).toEqual(m);
  }, 120_000);
});
