// The progress reporter in its three modes (TTY bar, log-file lines, --json events), on a fake clock.

import { describe, expect, it } from 'vitest';
import type { CommandIO } from '../src/command.js';
import { formatDuration, progressReporter, stageKey } from '../src/progress.js';

/** A fake clock in milliseconds, moved by the test. */
function fakeClock() {
  let ms = 0;
  return {
    now: () => ms,
    advance: (by: number) => {
      ms += by;
    },
  };
}

function capture(interactive: boolean) {
  const out = { stdout: '', stderr: '' };
  const io: CommandIO = {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    interactive,
    env: {},
    cwd: process.cwd(),
  };
  return { io, out };
}

describe('formatDuration', () => {
  it('writes seconds, minutes and seconds, or hours and minutes', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(59.6)).toBe('1m00s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(-3)).toBe('0s');
  });
});

describe('stageKey', () => {
  it('keeps the name before a changing detail in parentheses', () => {
    expect(stageKey('training (loss 0.4123)')).toBe('training');
    expect(stageKey('rounds (12 configurations)')).toBe('rounds');
    expect(stageKey('evaluate dense')).toBe('evaluate dense');
  });
});

describe('progressReporter on a TTY', () => {
  it('draws a bar with the percentage, the elapsed time and an ETA from the rate since the stage began', () => {
    const clock = fakeClock();
    const { io, out } = capture(true);
    const report = progressReporter(io, false, { now: clock.now });
    report({ kind: 'progress', stage: 'training (loss 0.9000)', done: 100, total: 2752 });
    expect(out.stderr).toBe(`\r\x1b[2K  training (loss 0.9000) [#${'.'.repeat(27)}] 100/2752 3% 0s`);
    clock.advance(62_000);
    out.stderr = '';
    // 20 steps in 62 s; 2632 left: 8159 s = 2h15m. The changed loss does not restart the clock.
    report({ kind: 'progress', stage: 'training (loss 0.4123)', done: 120, total: 2752 });
    expect(out.stderr).toBe(`\r\x1b[2K  training (loss 0.4123) [#${'.'.repeat(27)}] 120/2752 4% 1m02s, ETA 2h15m`);
    expect(out.stdout).toBe('');
  });

  it('ends a finished bar with a newline and clears an unfinished one before a stage line', () => {
    const clock = fakeClock();
    const { io, out } = capture(true);
    const report = progressReporter(io, false, { now: clock.now });
    report({ kind: 'progress', stage: 'evaluate', done: 1, total: 2 });
    report({ kind: 'stage', message: 'evaluation at step 1' });
    expect(out.stderr.endsWith('1/2 50% 0s\r\x1b[2K- evaluation at step 1\n')).toBe(true);
    clock.advance(3000);
    report({ kind: 'progress', stage: 'evaluate', done: 2, total: 2 });
    expect(out.stderr).toMatch(/\[#{28}\] 2\/2 100% 3s\n$/);
    out.stderr = '';
    report({ kind: 'warning', message: 'slow' });
    expect(out.stderr).toBe('! warning: slow\n');
  });
});

describe('progressReporter without a TTY', () => {
  it('writes the first line of a stage, then at most one per interval, and the last', () => {
    const clock = fakeClock();
    const { io, out } = capture(false);
    const report = progressReporter(io, false, { now: clock.now, minIntervalMs: 10_000 });
    report({ kind: 'stage', message: 'training' });
    // 101 events over 25 s of fake time: one every 250 ms.
    for (let step = 0; step <= 100; step++) {
      report({ kind: 'progress', stage: `training (loss ${(1 / (step + 1)).toFixed(4)})`, done: step, total: 100 });
      if (step < 100) clock.advance(250);
    }
    const lines = out.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('- training');
    const progress = lines.slice(1);
    expect(progress[0]).toBe('  training (loss 1.0000): 0/100 (0%), 0s elapsed');
    expect(progress.at(-1)).toBe('  training (loss 0.0099): 100/100 (100%), 25s elapsed');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.length).toBeLessThanOrEqual(5); // first + at most 3 + last
    // 40 steps in 10 s: 60 left take 15 s.
    expect(progress[1]).toBe('  training (loss 0.0244): 40/100 (40%), 10s elapsed, ETA 15s');
    expect(out.stderr).not.toContain('\r');
    expect(out.stdout).toBe('');
  });

  it('restarts the clock for a new stage, and for one that starts over', () => {
    const clock = fakeClock();
    const { io, out } = capture(false);
    const report = progressReporter(io, false, { now: clock.now, minIntervalMs: 10_000 });
    report({ kind: 'progress', stage: 'prepare', done: 2, total: 4 });
    clock.advance(1000);
    report({ kind: 'progress', stage: 'rounds (3 configurations)', done: 1, total: 60 });
    clock.advance(1000);
    report({ kind: 'progress', stage: 'prepare', done: 1, total: 4 });
    expect(out.stderr).toBe(
      '  prepare: 2/4 (50%), 0s elapsed\n  rounds (3 configurations): 1/60 (1%), 0s elapsed\n  prepare: 1/4 (25%), 0s elapsed\n',
    );
  });

  it('writes a stage that is resumed at its saved step with an ETA from the steps done since', () => {
    const clock = fakeClock();
    const { io, out } = capture(false);
    const report = progressReporter(io, false, { now: clock.now, minIntervalMs: 1000 });
    report({ kind: 'progress', stage: 'training', done: 500, total: 1000 });
    clock.advance(10_000);
    report({ kind: 'progress', stage: 'training', done: 600, total: 1000 });
    expect(out.stderr.split('\n')[1]).toBe('  training: 600/1000 (60%), 10s elapsed, ETA 40s');
  });
});

describe('progressReporter with --json', () => {
  it('writes one JSON event per line on stderr and nothing on stdout', () => {
    const clock = fakeClock();
    const { io, out } = capture(false);
    const report = progressReporter(io, true, { now: clock.now });
    report({ kind: 'stage', stage: 'load', message: 'loading tiny-bert' });
    for (let step = 1; step <= 100; step++) {
      clock.advance(100);
      report({ kind: 'progress', stage: 'evaluate dense', done: step, total: 100 });
    }
    report({ kind: 'warning', message: 'a busy machine' });
    const member = { kind: 'member', member: { target: 2, predictions: new Int32Array([1, 0, 1]), scores: new Float32Array([0.5]) } };
    report(member);
    expect(out.stdout).toBe('');
    const events = out.stderr
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events[0]).toEqual({ event: 'stage', stage: 'load', message: 'loading tiny-bert', t: 0 });
    const progress = events.filter((e) => e.event === 'progress');
    // The first, one every 2 s of the 10 s, and the last.
    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(progress.length).toBeLessThanOrEqual(7);
    expect(progress[0]).toEqual({
      event: 'progress',
      stage: 'evaluate dense',
      done: 1,
      total: 100,
      elapsedSeconds: 0,
      etaSeconds: null,
      t: 0.1,
    });
    expect(progress[1]).toMatchObject({ done: 21, elapsedSeconds: 2, etaSeconds: 7.9 });
    expect(progress.at(-1)).toMatchObject({ done: 100, total: 100, etaSeconds: 0 });
    expect(events.at(-2)).toEqual({ event: 'warning', message: 'a busy machine', t: 10 });
    // Typed arrays become arrays; per-example predictions stay in results.json.
    expect(events.at(-1)).toEqual({ event: 'member', member: { target: 2, scores: [0.5] }, t: 10 });
  });

  it('still reports an event whose fields cannot be written', () => {
    const { io, out } = capture(false);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const event = { kind: 'member', member: cyclic };
    progressReporter(io, true, { now: () => 0 })(event);
    expect(JSON.parse(out.stderr)).toEqual({ event: 'member', t: 0, unserializable: true });
  });
});
