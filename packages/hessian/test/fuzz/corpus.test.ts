// The regression corpus of @ziplm/hessian: every input a fuzz run once failed on (corpus/<format>/),
// replayed on every run; each must end in a typed ziplm error or a valid result. Cases of a known, not
// yet fixed bug (known-failures.ts) are marked `it.fails`.

import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusCases, expectTypedOutcome } from '@ziplm/test-utils';
import { HESSIAN_KNOWN_FAILURES } from './known-failures.js';
import { CORPUS_DIR, hessianFuzzWorkspace } from './targets.js';

const workspace = hessianFuzzWorkspace();
afterAll(() => workspace.dispose());

describe('the @ziplm/hessian fuzz corpus', () => {
  const cases = corpusCases(CORPUS_DIR);
  it('holds level database files only', () => {
    for (const c of cases) expect(c.format).toBe('database');
  });
  for (const c of cases) {
    const replay = async () => {
      await expectTypedOutcome(() => workspace.target(new Uint8Array(readFileSync(c.file))));
    };
    if (HESSIAN_KNOWN_FAILURES.some((k) => k.corpusCase === c.id)) it.fails(`${c.id} (known failing, being fixed)`, replay);
    else it(c.id, replay);
  }
});
