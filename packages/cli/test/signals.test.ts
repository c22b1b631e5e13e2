// Ctrl-C and SIGTERM: a command that saves its state stops after its step on the first signal and at once on the
// second; any other command stops at once. Driven through a fake process (an EventEmitter); test/e2e/signals.test.ts
// signals a real `ziplm` process.

import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { handleStopSignals, main, type StopSignals } from '../src/main.js';

function fakeProcess() {
  const source = new EventEmitter();
  const written: string[] = [];
  const exits: number[] = [];
  const stopSignals = handleStopSignals(source, { stderr: (text) => written.push(text), interactive: false }, (code) => exits.push(code));
  return { source, written, exits, stopSignals };
}

const STOPPING =
  '- stopping after the current step (state is saved; run the same command again to resume); press Ctrl-C again to quit at once\n';

describe('handleStopSignals', () => {
  it('asks a command that stops on signal to stop on the first signal, and exits at once on the second', () => {
    const { source, written, exits, stopSignals } = fakeProcess();
    stopSignals.commandStarted({ name: 'train', stopsOnSignal: true });
    expect(stopSignals.signal.aborted).toBe(false);
    source.emit('SIGINT');
    expect(stopSignals.signal.aborted).toBe(true);
    expect(stopSignals.stopRequestedBy).toBe('SIGINT');
    expect(written).toEqual([STOPPING]);
    expect(exits).toEqual([]);
    source.emit('SIGINT');
    expect(written[1]).toBe('- interrupted: ziplm train stops now; finished work is kept (run directories resume)\n');
    expect(exits).toEqual([EXIT.interrupted]);
  });

  it('exits at once with 143 on SIGTERM for a command that does not stop on signal', () => {
    const { source, written, exits, stopSignals } = fakeProcess();
    stopSignals.commandStarted({ name: 'prune' });
    source.emit('SIGTERM');
    expect(stopSignals.signal.aborted).toBe(false);
    expect(written).toEqual(['- interrupted: ziplm prune stops now; finished work is kept (run directories resume)\n']);
    expect(exits).toEqual([EXIT.terminated]);
  });

  it('exits at once before a command is known, and stops listening once disposed', () => {
    const { source, written, exits, stopSignals } = fakeProcess();
    source.emit('SIGINT');
    expect(written[0]).toMatch(/^- interrupted: ziplm stops now/);
    expect(exits).toEqual([130]);
    stopSignals.dispose();
    expect(source.listenerCount('SIGINT') + source.listenerCount('SIGTERM')).toBe(0);
  });

  it('starts its message on a new line on a TTY, where it interrupts a progress bar', () => {
    const source = new EventEmitter();
    const written: string[] = [];
    const stopSignals = handleStopSignals(source, { stderr: (text) => written.push(text), interactive: true }, () => {});
    stopSignals.commandStarted({ name: 'train', stopsOnSignal: true });
    source.emit('SIGTERM');
    expect(written).toEqual([`\n${STOPPING}`]);
  });
});

describe('main with stop signals', () => {
  const io = () => {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: {
        stdout: (t: string) => (out.stdout += t),
        stderr: (t: string) => (out.stderr += t),
        interactive: false,
        env: process.env,
        cwd: process.cwd(),
      },
    };
  };

  it('tells the handler which command runs', async () => {
    const { source, written, exits, stopSignals } = fakeProcess();
    const signalOnStart: StopSignals = {
      ...stopSignals,
      get stopRequestedBy() {
        return stopSignals.stopRequestedBy;
      },
      commandStarted(command) {
        stopSignals.commandStarted(command);
        source.emit('SIGTERM');
      },
    };
    const { io: cliIO } = io();
    await main(['check', '--model', '/no/such/model'], cliIO, signalOnStart);
    expect(written[0]).toMatch(/^- interrupted: ziplm check stops now/);
    expect(exits).toEqual([EXIT.terminated]);
  });

  it('exits 130 or 143 when the command returns after a stop request, and keeps any other code', async () => {
    const stopped = (by: 'SIGINT' | 'SIGTERM'): StopSignals => ({
      signal: AbortSignal.abort(),
      stopRequestedBy: by,
      commandStarted: () => {},
      dispose: () => {},
    });
    const ok = io();
    expect(await main(['check', '--model', 'tiny-bert', '--repeats', '1', '--json'], ok.io, stopped('SIGINT'))).toBe(EXIT.interrupted);
    expect(JSON.parse(ok.out.stdout)).toBeTypeOf('object');
    const bad = io();
    expect(await main(['check', '--model', '/no/such/model'], bad.io, stopped('SIGTERM'))).toBe(EXIT.usage);
  });
});
