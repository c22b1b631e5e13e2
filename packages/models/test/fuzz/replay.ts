// Replays one corpus case in a process of its own (for cases that may exhaust the heap, which would
// take the test worker down with them): `replay.ts <format> <file>` prints the outcome as JSON and
// exits 0 for a typed error or a valid result, 1 for anything else.
// Run: node --max-old-space-size=256 --import tsx --conditions=@ziplm/source test/fuzz/replay.ts <format> <file>

import { readFileSync } from 'node:fs';
import { expectTypedOutcome } from '@ziplm/test-utils';
import { MODELS_FUZZ_FORMATS, modelsFuzzWorkspace, type ModelsFuzzFormat } from './targets.js';

const [format, file] = process.argv.slice(2);
if (!MODELS_FUZZ_FORMATS.includes(format as ModelsFuzzFormat) || file === undefined) {
  console.error(`usage: replay.ts <${MODELS_FUZZ_FORMATS.join('|')}> <file>`);
  process.exit(2);
}
const workspace = await modelsFuzzWorkspace();
try {
  const input = new Uint8Array(readFileSync(file));
  console.log(JSON.stringify(await expectTypedOutcome(() => workspace.targets[format as ModelsFuzzFormat](input), { timeoutMs: 20_000 })));
} catch (error) {
  console.log(JSON.stringify({ kind: 'untyped', message: (error as Error).message }));
  process.exitCode = 1;
} finally {
  workspace.dispose();
}
