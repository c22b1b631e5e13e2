// Speedup verdicts from the paired timing distribution: the 95% interval of the median per-round
// ratio, and 'pass' / 'fail' / 'inconclusive' against target × (1 − tolerance). Ratios are built by
// hand, or timed on the simulated engine (fake-runner.ts), so nothing depends on this machine's load.
import { seededRandom } from '@ziplm/core';
import { bertConfig } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { inferenceEnvironment } from '../src/index.js';
import { timingCheckpoint, verifySpeedups } from '../src/measure/index.js';
import { type MachineLoad, speedupVerdict } from '../src/measure/verify.js';
import { medianInterval } from '../src/stats.js';
import { fakeEngine } from './fake-runner.js';

const quiet: MachineLoad = { loadAverage: 1.9, cores: 2 };
const busy: MachineLoad = { loadAverage: 3.5, cores: 2 };

/** `n` ratios spread evenly over [centre − spread, centre + spread], shuffled (order must not matter). */
function ratios(centre: number, spread: number, n = 21): number[] {
  const out = Array.from({ length: n }, (_, i) => centre - spread + (2 * spread * i) / (n - 1));
  const random = seededRandom(7);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('medianInterval', () => {
  it('takes the order statistics of the binomial table: x(6)–x(15) of 20, min–max of 6', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => 20 - i); // 20, 19, …, 1: sorted inside
    expect(medianInterval(twenty)).toEqual([6, 15]);
    expect(medianInterval([6, 1, 5, 2, 4, 3])).toEqual([1, 6]);
    // Below 6 samples no pair reaches 95%: [min, max], and a single sample is its own interval.
    expect(medianInterval([3, 1, 2])).toEqual([1, 3]);
    expect(medianInterval([2.5])).toEqual([2.5, 2.5]);
    // n = 100: x(40)–x(61), as in the normal approximation n/2 ± 1.96·√n/2.
    expect(medianInterval(Array.from({ length: 100 }, (_, i) => i + 1))).toEqual([40, 61]);
    expect(() => medianInterval([])).toThrow(/at least one sample/);
  });

  it('stays finite where ½ⁿ underflows, and narrows like 1/√n', () => {
    const n = 4001;
    const [low, high] = medianInterval(Array.from({ length: n }, (_, i) => i));
    expect(low).toBeGreaterThan(n / 2 - 1.96 * Math.sqrt(n) * 0.5 - 3);
    expect(high).toBeLessThan(n / 2 + 1.96 * Math.sqrt(n) * 0.5 + 3);
    expect(high - low).toBeGreaterThan(100);
  });

  it('covers the median of a skewed distribution at least 95% of the time (seeded)', () => {
    // Per-round ratios on a busy machine: a heavy one-sided tail. Exponential noise, true median ln 2.
    const random = seededRandom(11);
    const trials = 2000;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const sample = Array.from({ length: 20 }, () => -Math.log(1 - random()));
      const [low, high] = medianInterval(sample);
      if (low <= Math.LN2 && Math.LN2 <= high) covered++;
    }
    // Exact coverage for n = 20 is 1 − 2·P(B ≤ 5) = 95.86%; 2000 trials have a standard error of 0.45%.
    expect(covered / trials).toBeGreaterThan(0.945);
    expect(covered / trials).toBeLessThan(0.975);
  });
});

describe('speedupVerdict', () => {
  const base = { target: 2, tolerance: 0.02, load: quiet, threads: 2 } as const;

  it('keeps the median as the point estimate and judges by the interval', () => {
    const pass = speedupVerdict({ ...base, ratios: ratios(2.02, 0.01) });
    expect(pass.status).toBe('pass');
    expect(pass.measured).toBeCloseTo(2.02, 12);
    expect(pass.reasons).toEqual([]);
    const fail = speedupVerdict({ ...base, ratios: ratios(1.9, 0.02) });
    expect(fail.status).toBe('fail');
    expect(fail.interval[1]).toBeLessThan(1.96);
    expect(fail.reasons[0]).toMatch(/^the 95% interval 1\.\d{3}x–1\.\d{3}x \(±[\d.]+% over 21 rounds\) lies wholly below 1\.960x/);
  });

  it('is inconclusive when the interval straddles the bound, whichever side the median is on', () => {
    // Median short of the bound (the point estimate the retarget loop acts on), interval reaching above it.
    const short = speedupVerdict({ ...base, ratios: ratios(1.94, 0.08) });
    expect(short.measured).toBeLessThan(1.96);
    expect(short.status).toBe('inconclusive');
    // Median above the bound, interval reaching below it.
    const above = speedupVerdict({ ...base, ratios: ratios(1.98, 0.08) });
    expect(above.measured).toBeGreaterThan(1.96);
    expect(above.status).toBe('inconclusive');
    expect(above.reasons[0]).toMatch(/straddles 1\.960x \(the target 2\.00x less the 2\.0% tolerance\)/);
  });

  it('never fails an interval that contains the target', () => {
    for (let spread = 0.001; spread < 0.5; spread *= 1.7) {
      for (const centre of [1.9, 1.95, 1.99, 2, 2.01]) {
        const verdict = speedupVerdict({ ...base, ratios: ratios(centre, spread) });
        if (verdict.interval[0] <= 2 && 2 <= verdict.interval[1]) expect(verdict.status).not.toBe('fail');
      }
    }
  });

  it('on the bound: an interval ending exactly on it is inconclusive, one starting on it passes', () => {
    const bound = 2 * (1 - 0.02);
    // 6 samples: the interval is [min, max].
    expect(speedupVerdict({ ...base, ratios: [bound - 0.05, bound - 0.04, bound - 0.03, bound - 0.02, bound - 0.01, bound] }).status).toBe(
      'inconclusive',
    );
    expect(speedupVerdict({ ...base, ratios: [bound, bound + 0.01, bound + 0.02, bound + 0.03, bound + 0.04, bound + 0.05] }).status).toBe(
      'pass',
    );
    // A degenerate interval (an exactly repeatable machine) is a plain comparison with the bound.
    expect(speedupVerdict({ ...base, ratios: Array(10).fill(bound - 1e-9) }).status).toBe('fail');
    expect(speedupVerdict({ ...base, ratios: Array(10).fill(bound) }).status).toBe('pass');
  });

  it('names what made it uncertain: load beyond the timing own threads, dense drift, else the width', () => {
    const uncertain = ratios(1.95, 0.08);
    const loaded = speedupVerdict({ ...base, ratios: uncertain, load: busy, denseDrift: 0.039 });
    expect(loaded.status).toBe('inconclusive');
    expect(loaded.reasons.slice(1)).toEqual([
      'the machine was busy: 1-minute load average 3.50 on 2 cores, of which the timing itself accounts for about 2',
      "the dense model ran 3.9% slower than when the latency table was measured (the machine's speed changed since)",
    ]);
    // One intra-op thread on two cores: a load of 1.9 is another process on the other core.
    const oneThread = speedupVerdict({ ...base, ratios: uncertain, threads: 1 });
    expect(oneThread.reasons[1]).toMatch(/load average 1\.90 on 2 cores, of which the timing itself accounts for about 1$/);
    // Quiet, no drift beyond the tolerance: the noise of too few rounds is the reason.
    const noisy = speedupVerdict({ ...base, ratios: uncertain, denseDrift: -0.01 });
    expect(noisy.reasons).toHaveLength(2);
    expect(noisy.reasons[1]).toMatch(/no busy machine or drift was seen: the rounds vary too much for 21 of them; more rounds narrow/);
  });

  it('without a load reading (a browser) claims no quiet machine, and still names the drift', () => {
    const { load: _load, ...unloaded } = base;
    const uncertain = ratios(1.95, 0.08);
    const noisy = speedupVerdict({ ...unloaded, ratios: uncertain });
    expect(noisy.status).toBe('inconclusive');
    expect(noisy.reasons[1]).toMatch(
      /^no drift was seen \(this runtime does not report the machine's load\): the rounds vary too much for 21 of them/,
    );
    const drifted = speedupVerdict({ ...unloaded, ratios: uncertain, denseDrift: 0.05 });
    expect(drifted.reasons.slice(1)).toEqual([
      "the dense model ran 5.0% slower than when the latency table was measured (the machine's speed changed since)",
    ]);
  });
});

describe('verifySpeedups (simulated engine with noisy rounds)', () => {
  const config = bertConfig({ hiddenSize: 16, numHeads: 4, intermediateSize: 32, numLayers: 3, vocabSize: 50, maxPositions: 32 });
  const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 8 });
  const denseMs = 3.36;
  const prunedMs = 1.68; // a nominal 2x
  // The pruned model's runs vary by ±8% in a fixed cycle; the dense model's do not.
  const cycle = [1, 0.92, 1.08, 0.96, 1.04, 0.94, 1.06, 0.98, 1.02];
  const engine = () => fakeEngine((info, run) => (info.layerHeads.every((h) => h === 4) ? denseMs : prunedMs * cycle[run % cycle.length]!));
  const dense = timingCheckpoint(config);
  const pruned = timingCheckpoint(bertConfig({ ...config, layerHeads: [2, 2, 2], layerIntermediate: [16, 16, 16] }));

  it('reports the interval and a verdict per target, with the reasons in the message', async () => {
    const fake = engine();
    const reports = await verifySpeedups({
      dense,
      env,
      runner: fake.runner,
      clock: fake.clock,
      machineLoad: () => busy,
      warmupRuns: 1,
      minRounds: 20,
      maxRounds: 20,
      candidates: [
        { model: pruned, target: 2 },
        { model: pruned, target: 2.3 },
        { model: pruned, target: 1.7 },
      ],
    });
    expect(reports.map((r) => r.status)).toEqual(['inconclusive', 'fail', 'pass']);
    const [uncertain] = reports;
    expect(uncertain!.interval[0]).toBeLessThan(1.96);
    expect(uncertain!.interval[1]).toBeGreaterThanOrEqual(1.96);
    expect(uncertain!.measured).toBeGreaterThanOrEqual(uncertain!.interval[0]);
    expect(uncertain!.measured).toBeLessThanOrEqual(uncertain!.interval[1]);
    expect(uncertain!.message).toMatch(/; 95% interval \d\.\d{3}–\d\.\d{3}x\): INCONCLUSIVE — a timing check: the 95% interval/);
    expect(uncertain!.message).toMatch(/load average 3\.50 on 2 cores/);
    expect(reports[1]!.message).toMatch(/FAIL \(short of the target by more than 2\.0%\) — a timing check: .* lies wholly below 2\.254x/);
    expect(reports[2]!.reasons).toEqual([]);
    expect(reports[2]!.message).toMatch(/: PASS$/);
  });

  it('honours runsPerSample: every timed sample spans that many back-to-back runs', async () => {
    const totalRuns = async (runsPerSample?: number) => {
      const fake = engine();
      await verifySpeedups({
        dense,
        env,
        runner: fake.runner,
        clock: fake.clock,
        machineLoad: () => quiet,
        warmupRuns: 1,
        minRounds: 6,
        maxRounds: 6,
        renewSessionsEvery: 0,
        ...(runsPerSample !== undefined ? { runsPerSample } : {}),
        candidates: [{ model: pruned, target: 2 }],
      });
      return [...fake.runs.values()].reduce((a, b) => a + b, 0);
    };
    // Two graphs, 6 rounds, 2 more runs in each timed sample.
    expect((await totalRuns(3)) - (await totalRuns())).toBe(2 * 6 * 2);
  });
});
