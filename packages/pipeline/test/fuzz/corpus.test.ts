// The regression corpus of @ziplm/pipeline: every input a fuzz run once failed on (corpus/<format>/),
// replayed on every run; each must end in a typed ziplm error or a valid result. Cases of a known, not
// yet fixed bug (known-failures.ts) are marked `it.fails`.

import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusCases, expectTypedOutcome } from '@ziplm/test-utils';
import { PIPELINE_KNOWN_FAILURES } from './known-failures.js';
import { CORPUS_DIR, PIPELINE_FUZZ_FORMATS, pipelineFuzzWorkspace, type PipelineFuzzFormat } from './targets.js';

const workspace = pipelineFuzzWorkspace();
afterAll(() => workspace.dispose());

describe('the @ziplm/pipeline fuzz corpus', () => {
  const cases = corpusCases(CORPUS_DIR);
  it('holds cases of known formats only', () => {
    for (const c of cases) expect(PIPELINE_FUZZ_FORMATS).toContain(c.format);
  });
  for (const c of cases) {
    const replay = async () => {
      await expectTypedOutcome(() => workspace.targets[c.format as PipelineFuzzFormat](new Uint8Array(readFileSync(c.file))));
    };
    if (PIPELINE_KNOWN_FAILURES.some((k) => k.corpusCase === c.id)) it.fails(`${c.id} (known failing, being fixed)`, replay);
    else it(c.id, replay);
  }
});
