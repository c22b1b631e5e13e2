// Fuzzing the latency plan manifest (`ziplm latency --export-levels`, read by a page from wherever it is
// served): ZIPLM_FUZZ_RUNS (default 1,000) seeded mutations of a valid manifest (JSON edits: graphs,
// file names, hashes, sizes, grids, the environment; damaged text); reading the plan directory and
// loading every graph it names must end in a typed ziplm error or a valid result, with a bounded heap.
// Failing cases belong in corpus/plan/.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertConfig } from '@ziplm/models';
import { fuzzFormat, mutatedJsonBytes } from '@ziplm/test-utils';
import { afterAll, describe, it } from 'vitest';
import { inferenceEnvironment } from '../../src/environment.js';
import { planLatencyTable, readLatencyPlan, writeLatencyPlan } from '../../src/measure/index.js';
import { LATENCY_PLAN_MANIFEST } from '../../src/plan.js';
import { LATENCY_KNOWN_FAILURES } from './known-failures.js';
import { CORPUS_DIR } from './targets.js';

const root = await mkdtemp(join(tmpdir(), 'ziplm-fuzz-plan-'));
afterAll(() => rm(root, { recursive: true, force: true }));
const dir = join(root, 'plan');
const config = bertConfig({ hiddenSize: 16, numHeads: 2, intermediateSize: 16, numLayers: 2, vocabSize: 32, maxPositions: 16 });
await writeLatencyPlan(
  dir,
  planLatencyTable(config, inferenceEnvironment({ sequenceLength: 8 }), { ffnLevels: [16, 8, 0], calibrationModels: 1 }),
);
const seed: unknown = JSON.parse(await readFile(join(dir, LATENCY_PLAN_MANIFEST), 'utf8'));

async function target(input: Uint8Array): Promise<unknown> {
  await writeFile(join(dir, LATENCY_PLAN_MANIFEST), input);
  const plan = await readLatencyPlan(dir);
  for (const graph of plan.manifest.graphs) if (graph.role !== 'overhead') await plan.loadGraph(graph.file!.name);
  return plan.manifest;
}

describe('the latency plan manifest ends in a typed error or a valid result', () => {
  it('plan', async () => {
    await fuzzFormat({
      name: 'latency/plan',
      corpusDir: join(CORPUS_DIR, 'plan'),
      extension: 'json',
      inputs: mutatedJsonBytes(seed),
      target,
      knownFailures: LATENCY_KNOWN_FAILURES,
    });
  }, 180_000);
});
