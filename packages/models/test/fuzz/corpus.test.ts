// The regression corpus of @ziplm/models: every input a fuzz run once failed on (corpus/<format>/), replayed
// on every run; each must end in a typed ziplm error or a valid result. Cases of a known, not yet fixed
// bug (known-failures.ts) are marked `it.fails`; those that exhaust the heap are replayed in a child
// process with a small heap, so they cannot take the test worker down.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusCases, expectTypedOutcome } from '@ziplm/test-utils';
import { MODELS_KNOWN_FAILURES } from './known-failures.js';
import { CORPUS_DIR, MODELS_FUZZ_FORMATS, modelsFuzzWorkspace, type ModelsFuzzFormat, type ModelsFuzzWorkspace } from './targets.js';

const PACKAGE_DIR = join(import.meta.dirname, '..', '..');

let workspace: ModelsFuzzWorkspace;
beforeAll(async () => {
  workspace = await modelsFuzzWorkspace();
});
afterAll(() => workspace?.dispose());

/** Replays a case in `node --max-old-space-size=256`; resolves when it ends in a typed error or a valid result. */
async function replayIsolated(format: string, file: string): Promise<void> {
  const args = ['--max-old-space-size=256', '--import', 'tsx', '--conditions=@ziplm/source', 'test/fuzz/replay.ts', format, file];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: PACKAGE_DIR, timeout: 60_000 });
  } catch (error) {
    const { stdout, stderr, signal } = error as { stdout?: string; stderr?: string; signal?: string };
    throw new Error(`replay ended badly (${signal ?? 'exit code'}): ${stdout ?? ''}${(stderr ?? '').split('\n').slice(0, 5).join('\n')}`);
  }
}

describe('the @ziplm/models fuzz corpus', () => {
  const cases = corpusCases(CORPUS_DIR);
  it('holds cases of known formats only', () => {
    for (const c of cases) expect(MODELS_FUZZ_FORMATS).toContain(c.format);
  });
  for (const c of cases) {
    const known = MODELS_KNOWN_FAILURES.find((k) => k.corpusCase === c.id);
    const replay = async () => {
      if (known?.skipsInput) return replayIsolated(c.format, c.file);
      await expectTypedOutcome(() => workspace.targets[c.format as ModelsFuzzFormat](new Uint8Array(readFileSync(c.file))));
    };
    if (known) it.fails(`${c.id} (known failing, being fixed)`, replay, 90_000);
    else it(c.id, replay, 30_000);
  }
});
