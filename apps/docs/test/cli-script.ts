// Runs the `pnpm ziplm …` lines of a tutorial's shell file in-process, through `main(argv, io)` of
// @ziplm/cli, exactly as written: the page includes the same lines by region.

import { readFileSync } from 'node:fs';
import { main } from '@ziplm/cli';

export interface ScriptCommand {
  /** The line as written in the file. */
  readonly line: string;
  /** Arguments after `pnpm ziplm`. */
  readonly argv: string[];
  /** The region the line is in. */
  readonly region: string | undefined;
}

/**
 * The commands of a tutorial shell file, in order. Only `pnpm ziplm` lines are allowed outside
 * comments, and without quotes, variables or shell operators: what the page shows must be exactly
 * what the test runs, so anything a shell would interpret differently is rejected.
 */
export function readScript(file: string): ScriptCommand[] {
  const out: ScriptCommand[] = [];
  let region: string | undefined;
  for (const [i, raw] of readFileSync(file, 'utf8').split('\n').entries()) {
    const line = raw.trim();
    const marker = /^# (end)?region ([\w-]+)$/.exec(line);
    if (marker) {
      region = marker[1] ? undefined : marker[2];
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    if (!line.startsWith('pnpm ziplm')) throw new Error(`${file}:${i + 1}: only "pnpm ziplm" commands are run by the test, got: ${line}`);
    if (/["'`$|&;<>\\*?]/.test(line))
      throw new Error(`${file}:${i + 1}: no quotes, variables or shell operators in tutorial commands: ${line}`);
    out.push({ line, argv: line.split(/\s+/).slice(2), region });
  }
  return out;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `ziplm argv…` in-process with `cwd` as its working directory. The process directory is
 * switched too, for the duration, as a shell would: the command's relative paths then mean the
 * same thing to the CLI and to every library it calls.
 */
export async function runZiplm(argv: readonly string[], cwd: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    const code = await main(argv, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      interactive: false,
      env: { ...process.env },
      cwd,
    });
    return { code, stdout, stderr };
  } finally {
    process.chdir(previous);
  }
}
