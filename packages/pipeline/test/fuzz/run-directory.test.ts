// Fuzzing the files of a run directory (issue 12): ZIPLM_FUZZ_RUNS (default 1,000) seeded mutations each of
// a valid manifest.json and member.json; each must end in a typed ziplm error or a valid result within
// its time limit, with a bounded heap. Failing cases belong in corpus/.

import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { fuzzFormat, mutatedJsonBytes } from '@ziplm/test-utils';
import { PIPELINE_KNOWN_FAILURES } from './known-failures.js';
import { CORPUS_DIR, PIPELINE_FUZZ_FORMATS, pipelineFuzzWorkspace } from './targets.js';

const workspace = pipelineFuzzWorkspace();
afterAll(() => workspace.dispose());

describe('the files of a run directory end in a typed error or a valid result', () => {
  for (const format of PIPELINE_FUZZ_FORMATS) {
    it(format, async () => {
      await fuzzFormat({
        name: `pipeline/${format}`,
        corpusDir: join(CORPUS_DIR, format),
        extension: 'json',
        inputs: mutatedJsonBytes(workspace.seeds[format]),
        target: workspace.targets[format],
        knownFailures: PIPELINE_KNOWN_FAILURES.filter((k) => k.corpusCase.startsWith(`${format}/`)),
      });
    }, 180_000);
  }
});
