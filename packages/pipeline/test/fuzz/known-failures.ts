// Bugs the fuzzer found that are being fixed (issue 12). Each entry names a corpus case, replayed with
// `it.fails` by corpus.test.ts; a fuzz run counts the cases an entry explains instead of failing on
// them. Remove an entry when its fix lands: its corpus case must then end in a typed error or a valid result.

import type { KnownFailure } from '@ziplm/test-utils';

export const PIPELINE_KNOWN_FAILURES: readonly KnownFailure[] = [];
