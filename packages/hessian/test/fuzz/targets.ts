// The level database file (`layer-NN-<module>.zlmdb`: magic, JSON header length, header, payload) as a
// fuzz target: written into a database directory and read the ways a run reads it (header, whole
// record, single levels, the errors the search consumes). Shared by the fuzz suite and the corpus replay.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeLayerRecord, encodeLayerRecord, layerFileName, type LayerRecord } from '../../src/database.js';
import { openLevelDatabase } from '../../src/node.js';
import { isTypedZiplmError } from '@ziplm/test-utils';

/** The regression corpus of @ziplm/hessian: `corpus/<format>/<case>`. */
export const CORPUS_DIR = join(import.meta.dirname, 'corpus');

/** A small valid record: 3 rows, 4 heads of 2 columns, levels 4, 2, 1 and 0, a bias. */
export function seedRecord(): LayerRecord {
  const rows = 3;
  const groupSize = 2;
  const level = (kept: number, indices: number[]) => ({
    kept,
    keptIndices: Int32Array.from(indices),
    weight: Float32Array.from({ length: rows * kept * groupSize }, (_, i) => Math.sin(i + kept)),
    obsLoss: kept === 4 ? 0 : 1 / (kept + 1),
    error: kept === 4 ? 0 : 0.5 / (kept + 1),
  });
  return {
    layer: 0,
    module: 'attention',
    rows,
    cols: 8,
    groupSize,
    spec: { levels: [4, 2, 1, 0], groupSize, relativeDamping: 0.01, fingerprint: 'seed', method: 'obs' },
    levels: [level(4, [0, 1, 2, 3]), level(2, [1, 3]), level(1, [3]), level(0, [])],
    bias: Float32Array.from([0.1, -0.2, 0.3]),
    order: Int32Array.from([0, 2, 1, 3]),
    damping: { relative: 0.01, absolute: 0.002, meanDiagonal: 0.2, tried: [0.01] },
    dead: [],
    outputEnergy: 1.5,
  };
}

export interface HessianFuzzWorkspace {
  readonly seed: Uint8Array;
  readonly target: (input: Uint8Array) => Promise<unknown>;
  dispose(): void;
}

export function hessianFuzzWorkspace(): HessianFuzzWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'ziplm-fuzz-hessian-'));
  const name = layerFileName(0, 'attention');
  let n = 0;
  return {
    seed: encodeLayerRecord(seedRecord()),
    async target(input) {
      // In memory, then from disk through the database: both must end well.
      try {
        decodeLayerRecord(input, name);
      } catch (error) {
        if (!isTypedZiplmError(error)) throw error;
      }
      const dir = join(root, `db-${n++}`);
      mkdirSync(dir);
      try {
        writeFileSync(join(dir, name), input);
        const database = openLevelDatabase(dir);
        const header = await database.readHeader(0, 'attention');
        for (const level of header.levels) await database.readLevel(0, 'attention', level.kept);
        await database.read(0, 'attention');
        return await database.toLayerErrors();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}
