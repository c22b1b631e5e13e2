// SIGTERM to a real `ziplm` process: the worker itself (node with tsx's loader in-process, as the process a
// `pnpm ziplm` run does its work in), not a wrapper. `latency` does not stop on signal: it stops at once with 143,
// says so, and writes no table. The graceful stop of a command that saves its state is in test/signals.test.ts.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'ziplm-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `ziplm argv…` in a process of its own; sends `signal` once stderr contains `when`. */
function runAndSignal(argv: string[], when: string, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--conditions=@ziplm/source', '--import', 'tsx', 'packages/cli/src/bin.ts', ...argv], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!sent && stderr.includes(when)) {
      sent = true;
      child.kill(signal);
    }
  });
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('exit', (code) => done({ code, stderr }));
  });
}

describe('ziplm and SIGTERM', () => {
  it('stops a command that does not save its state at once, with exit code 143 and a message', async () => {
    const table = join(dir, 'table.json');
    const { code, stderr } = await runAndSignal(['latency', '--out', table], '- measuring', 'SIGTERM');
    expect(stderr).toContain('- interrupted: ziplm latency stops now; finished work is kept (run directories resume)\n');
    expect(code, stderr).toBe(EXIT.terminated);
    expect(existsSync(table)).toBe(false);
  });
});
