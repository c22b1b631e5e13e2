// Fuzzing the latency table file (issue 12): ZIPLM_FUZZ_RUNS (default 1,000) seeded mutations of a valid
// table (JSON edits: levels, times, the model shape, the fingerprint; damaged text); each must end in a
// typed ziplm error or a valid result within its time limit, with a bounded heap. Failing cases belong in corpus/.

import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { fuzzFormat, mutatedJsonBytes } from '@ziplm/test-utils';
import { LATENCY_KNOWN_FAILURES } from './known-failures.js';
import { CORPUS_DIR, latencyFuzzWorkspace } from './targets.js';

const workspace = latencyFuzzWorkspace();
afterAll(() => workspace.dispose());

describe('the latency table file ends in a typed error or a valid result', () => {
  it('table', async () => {
    await fuzzFormat({
      name: 'latency/table',
      corpusDir: join(CORPUS_DIR, 'table'),
      extension: 'json',
      inputs: mutatedJsonBytes(JSON.parse(workspace.seed)),
      target: workspace.target,
      knownFailures: LATENCY_KNOWN_FAILURES,
    });
  }, 180_000);
});
