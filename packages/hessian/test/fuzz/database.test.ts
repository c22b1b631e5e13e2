// Fuzzing the level database file format (issue 12): ZIPLM_FUZZ_RUNS (default 1,000) seeded mutations of a
// small valid file (bytes, the header length, the JSON header); each must end in a typed ziplm error
// or a valid result within its time limit, with a bounded heap. Failing cases belong in corpus/.

import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { fuzzFormat, mutatedBytes, mutatedJson, utf8 } from '@ziplm/test-utils';
import { HESSIAN_KNOWN_FAILURES } from './known-failures.js';
import { CORPUS_DIR, hessianFuzzWorkspace } from './targets.js';

const PREFIX = 12;
const workspace = hessianFuzzWorkspace();
afterAll(() => workspace.dispose());

/** A database file from a header object and a payload, with the header length the header really has. */
function databaseFile(header: unknown, payload: Uint8Array): Uint8Array {
  const json = utf8(JSON.stringify(header) ?? '');
  const out = new Uint8Array(PREFIX + json.length + payload.length);
  out.set(workspace.seed.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, PREFIX);
  out.set(payload, PREFIX + json.length);
  return out;
}

function inputs(seed: Uint8Array): fc.Arbitrary<Uint8Array> {
  const jsonLength = new DataView(seed.buffer, seed.byteOffset).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(seed.subarray(PREFIX, PREFIX + jsonLength)));
  const payload = seed.subarray(PREFIX + jsonLength);
  return fc.oneof(
    { weight: 2, arbitrary: mutatedBytes(seed, { lengthFields: [{ offset: 8, bytes: 4 }] }) },
    { weight: 3, arbitrary: mutatedJson(header).map((h) => databaseFile(h, payload)) },
    // Payload damage only: the header stays valid, the bytes it points at change.
    { weight: 1, arbitrary: mutatedBytes(payload).map((p) => databaseFile(header, p)) },
  );
}

describe('the level database file ends in a typed error or a valid result', () => {
  it('database', async () => {
    await fuzzFormat({
      name: 'hessian/database',
      corpusDir: join(CORPUS_DIR, 'database'),
      extension: 'bin',
      inputs: inputs(workspace.seed),
      target: workspace.target,
      knownFailures: HESSIAN_KNOWN_FAILURES,
    });
  }, 180_000);
});
