// Exit codes of speedup verdicts: 5 only when some member's verdict is 'fail' (the whole 95% interval of
// the measured speedup below the target less the tolerance); an 'inconclusive' member exits 0 with a
// line saying it is a timing check, why, and the command that re-times it. The runs and the timing are
// replaced by fakes (runOneShot, runGradual and verifySpeedup are mocked), so nothing depends on this
// machine's load.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerificationReport, VerificationStatus, VerifyOptions } from '@ziplm/latency/measure';
import type { MemberResult, RunResults, SpeedupStatus } from '@ziplm/pipeline';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { runCli } from './run-cli.js';

const fake = vi.hoisted(() => ({
  /** The verdicts of the members the fake run returns, one member per entry. */
  statuses: [] as Array<SpeedupStatus | undefined>,
  /** The verdict the fake `verifySpeedup` returns, and the options it was called with. */
  verdict: 'pass' as VerificationStatus,
  verifyCalls: [] as VerifyOptions[],
}));

function member(status: SpeedupStatus | undefined, target: number): MemberResult {
  const measured = status === 'fail' ? target * 0.9 : target * 0.97;
  return {
    method: 'ziplm',
    target,
    predictedSpeedup: target,
    ...(status !== undefined
      ? {
          measuredSpeedup: measured,
          deviation: measured / target - 1,
          status,
          ...(status !== 'pass' ? { statusReason: 'the machine was busy: 1-minute load average 3.50 on 2 cores' } : {}),
          verification: {
            uncertainty: 0.01,
            interval: [measured * 0.98, measured * 1.02],
            denseMs: 10,
            memberMs: 10 / measured,
            rounds: 30,
          },
        }
      : {}),
    searchError: 0,
    layerHeads: [2],
    layerIntermediate: [16],
    layerParameters: 1000,
    dir: `members/ziplm-${target.toFixed(2)}x`,
  };
}

function results(): RunResults {
  return {
    format: 'ziplm-run-results',
    version: 1,
    mode: 'oneshot',
    task: 'samples',
    metric: { name: 'agreement', label: 'agreement (%)', higherIsBetter: true },
    model: { modelType: 'bert', numLayers: 1, hiddenSize: 16, numHeads: 4, intermediateSize: 32, layerParameters: 2000 },
    environment: 'onnxruntime-node, latency, batch 1 × 128',
    dense: { timeMs: 10 },
    members: fake.statuses.map((s, i) => member(s, 2 + i)),
    notes: [],
  };
}

vi.mock('@ziplm/pipeline', async (importOriginal) => {
  const original = await importOriginal<typeof import('@ziplm/pipeline')>();
  return { ...original, runOneShot: async () => results(), runGradual: async () => results() };
});

vi.mock('@ziplm/latency', async (importOriginal) => {
  const original = await importOriginal<typeof import('@ziplm/latency')>();
  const table = { environment: original.inferenceEnvironment(), dense: { median: 10 } };
  return {
    ...original,
    loadLatencyTable: async () => ({ table, warnings: [] }),
    predictRuntime: () => ({ time: 5, speedup: 2 }),
  };
});

vi.mock('@ziplm/latency/measure', async (importOriginal) => {
  const original = await importOriginal<typeof import('@ziplm/latency/measure')>();
  return {
    ...original,
    ortFingerprint: async () => ({}),
    async verifySpeedup(options: VerifyOptions): Promise<VerificationReport> {
      fake.verifyCalls.push(options);
      const status = fake.verdict;
      const measured = status === 'fail' ? 1.8 : 1.95;
      const summary = (median: number) => ({ median, dispersion: 0.01, relativeError: 0.001, samples: 30 });
      const reasons = status === 'pass' ? [] : ['the 95% interval 1.930x–1.970x straddles 1.960x', 'the machine was busy'];
      return {
        target: options.target,
        measured,
        uncertainty: 0.005,
        interval: [measured - 0.02, measured + 0.02],
        deviation: measured / options.target - 1,
        dense: summary(10),
        pruned: summary(10 / measured),
        tolerance: options.tolerance ?? 0.02,
        status,
        reasons,
        message: `target 2.00x, measured ${measured}x: ${status.toUpperCase()} — a timing check: ${reasons.join('; ')}`,
      };
    },
  };
});

beforeEach(() => {
  fake.statuses = [];
  fake.verdict = 'pass';
  fake.verifyCalls = [];
});

describe.each(['prune', 'gradual'])('ziplm %s: exit code of the speedup verdicts', (command) => {
  const run = () => runCli([command, '--model', 'tiny-bert', '--run', join(mkdtempSync(join(tmpdir(), 'ziplm-verdict-')), 'run')]);

  it('exits 0 when a member is inconclusive, with a line saying why and how to re-time it', async () => {
    fake.statuses = ['pass', 'inconclusive'];
    const { code, stdout, stderr } = await run();
    expect(code, stderr).toBe(EXIT.ok);
    const lines = stdout.split('\n').filter((l) => /inconclusive \(not a failure/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ziplm 3\.00x inconclusive \(not a failure, exit code 0\): a timing check of the speedup/);
    expect(lines[0]).toMatch(
      /measured 2\.91x \(95% interval 2\.85–2\.97x\): the machine was busy: 1-minute load average 3\.50 on 2 cores\./,
    );
    expect(lines[0]).toMatch(
      /Re-time it: ziplm verify --dense \S+tiny-bert --model \S+\/run\/members\/ziplm-3\.00x --table \S+\/run\/latency-table\.json --rounds 60/,
    );
    expect(lines[0]).toMatch(/\(running this command again also re-times it\)$/);
  });

  it('exits 5 when a member fails, and its line says it is a timing check and how to re-time it', async () => {
    fake.statuses = ['inconclusive', 'fail', undefined];
    const { code, stdout } = await run();
    expect(code).toBe(EXIT.checkFailed);
    expect(stdout).toMatch(
      /^ziplm 3\.00x fail: a timing check of the speedup, short of the target beyond timing noise; .* Re-time it: ziplm verify .* --rounds 60$/m,
    );
    // One line per member that is not a pass; an unverified member has none.
    expect(stdout.match(/Re-time it:/g)).toHaveLength(2);
  });

  it('exits 0 and prints no verdict line when every member passes', async () => {
    fake.statuses = ['pass', 'pass'];
    const { code, stdout } = await run();
    expect(code).toBe(EXIT.ok);
    expect(stdout).not.toMatch(/Re-time it/);
  });
});

describe('ziplm verify: exit code of the verdict and --rounds', () => {
  const table = join(mkdtempSync(join(tmpdir(), 'ziplm-verdict-table-')), 'table.json');
  const verify = (...extra: string[]) =>
    runCli(['verify', '--dense', 'tiny-bert', '--model', 'tiny-bert', '--table', table, '--target', '2', ...extra]);

  it.each([
    ['pass', EXIT.ok],
    ['inconclusive', EXIT.ok],
    ['fail', EXIT.checkFailed],
  ] as const)('%s: exit %i', async (verdict, exit) => {
    fake.verdict = verdict;
    const { code, stdout, stderr } = await verify();
    expect(code, stderr).toBe(exit);
    if (verdict === 'pass') expect(stdout).not.toMatch(/re-time/);
    else {
      expect(stdout).toMatch(verdict === 'fail' ? /^fail: a timing check/m : /^inconclusive \(exit code 0\): a timing check/m);
      expect(stdout).toMatch(
        /re-time it with more rounds, on a quieter machine: ziplm verify --dense \S+ --model \S+ --table \S+table\.json --target 2 --rounds 60$/m,
      );
    }
  });

  it('--rounds N times exactly N rounds', async () => {
    expect((await verify('--rounds', '40')).code).toBe(EXIT.ok);
    expect(fake.verifyCalls.at(-1)).toMatchObject({ minRounds: 40, maxRounds: 40 });
    expect((await verify()).code).toBe(EXIT.ok);
    expect(fake.verifyCalls.at(-1)!.minRounds).toBeUndefined();
  });

  it.each(['5', '2.5', '0', '-3'])('--rounds %s: exit 2 naming the flag', async (value) => {
    const { code, stderr } = await verify('--rounds', value);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/--rounds must be an integer >= 6 \(the fewest rounds with a 95% interval of the speedup\), got /);
    expect(fake.verifyCalls).toHaveLength(0);
  });
});
