// The latency table file as a fuzz target: written to disk, loaded for the model it claims to describe
// (with a device fingerprint, so warnings are computed too), then used as a search uses it: the dense
// runtime is predicted and a 1.5x speedup searched. Shared by the fuzz suite and the corpus replay.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerErrors } from '@ziplm/hessian';
import { predictRuntime } from '../../src/runtime.js';
import { searchForSpeedup } from '../../src/search.js';
import type { LatencyTable } from '../../src/table.js';
import { serializeLatencyTable } from '../../src/table.js';
import { loadLatencyTable } from '../../src/table-file.js';
import { twoLayerTable } from '../helpers.js';

/** The regression corpus of @ziplm/latency: `corpus/<format>/<case>`. */
export const CORPUS_DIR = join(import.meta.dirname, 'corpus');

/** A valid two-layer table (hand-made, as the search tests use). */
export function seedTable(): LatencyTable {
  return twoLayerTable();
}

/** Errors falling with the kept size, for every module of the seed's model shape. */
function layerErrors(numLayers: number): LayerErrors[] {
  const out: LayerErrors[] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    out.push({ layer, module: 'attention', levels: [4, 3, 2, 1, 0].map((kept) => ({ kept, error: 1 - kept / 4 })) });
    out.push({ layer, module: 'ffn', levels: [8, 6, 4, 2, 0].map((kept) => ({ kept, error: 1 - kept / 8 })) });
  }
  return out;
}

export interface LatencyFuzzWorkspace {
  /** The seed table file's text. */
  readonly seed: string;
  readonly target: (input: Uint8Array) => Promise<unknown>;
  dispose(): void;
}

export function latencyFuzzWorkspace(): LatencyFuzzWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'ziplm-fuzz-latency-'));
  const seed = seedTable();
  const file = join(root, 'latency-table.json');
  return {
    seed: serializeLatencyTable(seed),
    async target(input) {
      writeFileSync(file, input);
      const { table } = await loadLatencyTable(file, { model: seed.model, fingerprint: seed.fingerprint });
      const { numLayers, numHeads, intermediateSize } = table.model;
      predictRuntime(table, {
        layerHeads: new Array(numLayers).fill(numHeads),
        layerIntermediate: new Array(numLayers).fill(intermediateSize),
      });
      return searchForSpeedup(table, layerErrors(numLayers), { target: 1.5, buckets: 1000 });
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}
