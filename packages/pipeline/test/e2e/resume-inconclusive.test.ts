// A rerun re-times a member whose stored speedup verdict is 'inconclusive' (a timing that could not
// decide, e.g. on a busy machine) instead of replaying it, and replays 'pass' and 'fail' as before.
// The device's verdicts are replaced by a script (verifySpeedups of @ziplm/latency/measure is mocked),
// so that the outcome does not depend on this machine.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerificationReport, VerificationStatus, VerifyCandidate } from '@ziplm/latency/measure';
import { builtinModelDir } from '@ziplm/models';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { runOneShot, type OneShotOptions } from '../../src/oneshot.js';
import { scriptedReport } from '../fixtures/scripted-verification.js';

/** What the fake device measures, one entry per timed candidate, in order. */
interface ScriptedTiming {
  readonly measured: number;
  readonly interval: readonly [number, number];
  readonly status: VerificationStatus;
}
const script: ScriptedTiming[] = [];
const timed: number[] = [];

vi.mock('@ziplm/latency/measure', async (importOriginal) => {
  const original = await importOriginal<typeof import('@ziplm/latency/measure')>();
  return {
    ...original,
    async verifySpeedups(options: { candidates: readonly VerifyCandidate[]; tolerance?: number }): Promise<VerificationReport[]> {
      const tolerance = options.tolerance ?? 0.02;
      return options.candidates.map((c): VerificationReport => {
        const next = script.shift();
        if (next === undefined) throw new Error('the test script ran out of measurements');
        timed.push(next.measured);
        const reasons = next.status === 'pass' ? [] : [`the 95% interval straddles the bound`, 'the machine was busy'];
        return scriptedReport(c, { ...next, uncertainty: 0.01, samples: 20, reasons }, tolerance);
      });
    },
  };
});

const options = (runDir: string): OneShotOptions => ({
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
  // No re-search: this checks what a rerun does with a stored verdict.
  retarget: 0,
});

const memberJson = (runDir: string, dir: string) => JSON.parse(readFileSync(join(runDir, dir, 'member.json'), 'utf8'));

beforeEach(() => {
  script.length = 0;
  timed.length = 0;
});

describe('a rerun and stored speedup verdicts', () => {
  it('re-times an inconclusive member, then replays the conclusive verdict', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'ziplm-resume-inconclusive-'));
    script.push({ measured: 1.95, interval: [1.91, 1.99], status: 'inconclusive' });
    const first = await runOneShot(options(runDir));
    const [m] = first.members;
    expect(m).toMatchObject({ measuredSpeedup: 1.95, status: 'inconclusive' });
    expect(m!.statusReason).toBe('the 95% interval straddles the bound; the machine was busy');
    expect(m!.verification!.interval).toEqual([1.91, 1.99]);
    expect(memberJson(runDir, m!.dir)).toMatchObject({ status: 'inconclusive', verification: { interval: [1.91, 1.99] } });

    // A rerun that does not verify keeps the stored verdict as it is.
    const unverified = await runOneShot({ ...options(runDir), verify: false });
    expect(timed).toEqual([1.95]);
    expect(unverified.members[0]).toEqual(m);

    script.push({ measured: 2.01, interval: [1.98, 2.04], status: 'pass' });
    const stages: string[] = [];
    const second = await runOneShot({ ...options(runDir), onEvent: (e) => e.kind === 'stage' && stages.push(e.message) });
    expect(timed).toEqual([1.95, 2.01]); // timed again, not replayed
    expect(stages).toContain('ziplm 2x: its stored speedup verdict was inconclusive; it will be re-timed');
    const [again] = second.members;
    expect(again).toMatchObject({ measuredSpeedup: 2.01, status: 'pass', verification: { interval: [1.98, 2.04] } });
    expect(again!.statusReason).toBeUndefined(); // the old reason went with the old measurement
    const record = memberJson(runDir, m!.dir);
    expect(record).toMatchObject({ measuredSpeedup: 2.01, status: 'pass' });
    expect(record.statusReason).toBeUndefined();

    const third = await runOneShot(options(runDir));
    expect(timed).toEqual([1.95, 2.01]); // a pass is replayed
    expect(third.members[0]).toEqual(again);
  }, 180_000);

  it('replays a stored fail (the whole interval below the bound)', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'ziplm-resume-fail-'));
    script.push({ measured: 1.8, interval: [1.78, 1.82], status: 'fail' });
    const first = await runOneShot(options(runDir));
    expect(first.members[0]).toMatchObject({ status: 'fail', statusReason: 'the 95% interval straddles the bound; the machine was busy' });
    const again = await runOneShot(options(runDir));
    expect(timed).toEqual([1.8]);
    expect(again.members[0]).toEqual(first.members[0]);
  }, 180_000);
});
