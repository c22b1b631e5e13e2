import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DatabaseError,
  LevelDatabase,
  createMemoryStorage,
  decodeLayerRecord,
  encodeLayerRecord,
  ffnLevels,
  layerFileName,
  magnitudeSweep,
  levelPayloadBytes,
  type LayerJob,
  type LayerRecord,
  type ObsProblem,
  type SweepMethod,
} from '../src/index.js';
import { createFileStorage, openLevelDatabase } from '../src/node.js';
import { correlatedTokens, hessianOf, randomMatrix } from './helpers/random.js';

function problem(rows: number, cols: number, seed: number): ObsProblem {
  const tokens = 60;
  const x = correlatedTokens(tokens, cols, seed);
  const mean = new Float64Array(cols);
  for (let t = 0; t < tokens; t++) for (let c = 0; c < cols; c++) mean[c] += x[t * cols + c]! / tokens;
  return {
    weight: randomMatrix(rows, cols, seed + 1),
    rows,
    cols,
    hessian: hessianOf(x, tokens, cols),
    mean,
    bias: randomMatrix(1, rows, seed + 2),
  };
}

function jobs(loads: { count: number } = { count: 0 }, failOn?: number, method?: SweepMethod): LayerJob[] {
  const make = (layer: number, module: 'attention' | 'ffn', cols: number, groupSize: number, levels: number[]): LayerJob => ({
    layer,
    module,
    groupSize,
    levels,
    fingerprint: 'test-model',
    ...(method ? { method } : {}),
    load: async () => {
      loads.count++;
      if (failOn === layer * 2 + (module === 'ffn' ? 1 : 0)) throw new Error('simulated crash');
      return problem(4, cols, layer * 10 + cols);
    },
  });
  return [
    make(0, 'attention', 16, 4, [4, 3, 2, 1, 0]),
    make(0, 'ffn', 24, 1, ffnLevels(24)),
    make(1, 'attention', 16, 4, [4, 3, 2, 1, 0]),
    make(1, 'ffn', 24, 1, ffnLevels(24)),
  ];
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ziplm-hessian-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('level database', () => {
  it('keeps a BERT-base FFN layer with all 44 levels under 100 MB', () => {
    const bytes = levelPayloadBytes(768, 1, ffnLevels(3072));
    expect(bytes).toBe(30419 * (768 * 4 + 4)); // Σ kept over the grid × (a float32 column + its index)
    expect(bytes).toBeLessThan(100e6);
  });

  it('round-trips a record through the file format', async () => {
    const db = new LevelDatabase(createMemoryStorage());
    await db.build(jobs().slice(0, 2));
    const record = await db.read(0, 'ffn');
    const bytes = encodeLayerRecord(record);
    const again = decodeLayerRecord(bytes, 'x');
    expect(again).toEqual(record);
    expect(record.levels.map((l) => l.kept)).toEqual(ffnLevels(24));
    expect(record.levels[0]!.weight).toBeInstanceOf(Float32Array);
    expect(record.bias).toBeInstanceOf(Float32Array);
    expect(record.order.length).toBe(24 - 1);
    // readLevel fetches one level by range and agrees with the full read.
    const level = await db.readLevel(0, 'ffn', record.levels[3]!.kept);
    expect(level).toEqual(record.levels[3]);
    await expect(db.readLevel(0, 'ffn', 23)).rejects.toThrow(/has no level with 23 kept/);
  });

  it('produces the LayerErrors the search consumes', async () => {
    const db = new LevelDatabase(createMemoryStorage());
    await db.build(jobs());
    const errors = await db.toLayerErrors();
    expect(errors.map((e) => `${e.layer}:${e.module}`)).toEqual(['0:attention', '0:ffn', '1:attention', '1:ffn']);
    for (const entry of errors) {
      expect(entry.levels[0]!.error).toBe(0); // dense level
      expect(entry.levels.at(-1)).toEqual({ kept: 0, error: 1 });
      for (let i = 1; i < entry.levels.length; i++) {
        expect(entry.levels[i]!.kept).toBeLessThan(entry.levels[i - 1]!.kept);
        // Greedy removal only ever adds error on the calibration data.
        expect(entry.levels[i]!.error).toBeGreaterThanOrEqual(entry.levels[i - 1]!.error - 1e-12);
      }
    }
    expect(errors[0]!.levels.map((l) => l.kept)).toEqual([4, 3, 2, 1, 0]);
  });

  it('resumes an interrupted build on disk and produces identical files', async () => {
    const clean = await tempDir();
    await openLevelDatabase(clean).build(jobs());

    const resumed = await tempDir();
    const loads = { count: 0 };
    await expect(openLevelDatabase(resumed).build(jobs(loads, 2))).rejects.toThrow('simulated crash');
    expect(loads.count).toBe(3);
    // A stray temporary of an interrupted write must be ignored.
    await writeFile(join(resumed, `${layerFileName(1, 'attention')}.tmp-deadbeef`), 'partial');
    expect(await openLevelDatabase(resumed).has(1, 'attention')).toBe(false);
    const after = { count: 0 };
    const summary = await openLevelDatabase(resumed).build(jobs(after));
    expect(summary).toEqual({ built: 2, skipped: 2 });
    expect(after.count).toBe(2); // finished modules are not even loaded again
    const names = (await readdir(resumed)).sort();
    expect(names).toEqual((await readdir(clean)).sort());
    expect(names.every((n) => !n.includes('.tmp-'))).toBe(true);
    for (const name of names) expect(await readFile(join(resumed, name))).toEqual(await readFile(join(clean, name)));
  });

  it('refuses to resume with a different spec', async () => {
    const db = new LevelDatabase(createMemoryStorage());
    await db.build(jobs().slice(0, 1));
    const changed = jobs()
      .slice(0, 1)
      .map((j) => ({ ...j, fingerprint: 'another-model' }));
    await expect(db.build(changed)).rejects.toThrow(/different spec/);
    await expect(db.build(jobs().slice(0, 1), { relativeDamping: 0.1 })).rejects.toThrow(DatabaseError);
  });

  it('reports corrupt files with their name and the problem', async () => {
    const dir = await tempDir();
    const db = openLevelDatabase(dir);
    await db.build(jobs().slice(0, 1));
    const file = join(dir, layerFileName(0, 'attention'));
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 10));
    await expect(db.read(0, 'attention')).rejects.toThrow(new RegExp(`${layerFileName(0, 'attention')}: truncated`));
    await writeFile(file, bytes.subarray(0, 6));
    await expect(db.readHeader(0, 'attention')).rejects.toThrow(/shorter than the 12-byte prefix/);
    const badMagic = Uint8Array.from(bytes);
    badMagic[0] = 0x41;
    await writeFile(file, badMagic);
    await expect(db.read(0, 'attention')).rejects.toThrow(/bad magic/);
    // A header claiming a huge JSON length must fail before anything of that size is read.
    const huge = Uint8Array.from(bytes);
    new DataView(huge.buffer).setUint32(8, 0xfffffff0, true);
    await writeFile(file, huge);
    await expect(db.readHeader(0, 'attention')).rejects.toThrow(/header claims 4294967280 bytes/);
    await expect(db.read(1, 'ffn')).rejects.toThrow(/missing/);
    const storage = createFileStorage(dir);
    await expect(storage.writeAtomic('../escape', new Uint8Array(1))).rejects.toThrow(/invalid entry name/);
  });

  it('rejects records whose arrays do not match their shape', () => {
    const record: LayerRecord = {
      layer: 0,
      module: 'ffn',
      rows: 2,
      cols: 4,
      groupSize: 1,
      spec: { levels: [2], groupSize: 1, relativeDamping: 0.01 },
      levels: [{ kept: 2, keptIndices: Int32Array.from([0, 1]), weight: new Float32Array(3), obsLoss: 0, error: 0 }],
      order: new Int32Array(2),
      damping: { relative: 0.01, absolute: 0.01, meanDiagonal: 1, tried: [0.01] },
      dead: [],
      outputEnergy: 1,
    };
    expect(() => encodeLayerRecord(record)).toThrow(/holds 2 indices and 3 weights/);
  });
});

describe('level database, magnitude baseline', () => {
  it('builds, round-trips and serves magnitude levels; the method is part of the spec and the header', async () => {
    const dir = await tempDir();
    const db = openLevelDatabase(dir);
    expect(await db.build(jobs(undefined, undefined, 'magnitude'))).toEqual({ built: 4, skipped: 0 });
    const record = await db.read(0, 'ffn');
    expect(record.spec.method).toBe('magnitude');
    expect(decodeLayerRecord(encodeLayerRecord(record), 'x')).toEqual(record);
    const header = await db.readHeader(0, 'ffn');
    expect(header.version).toBe(2);
    // The stored levels are exactly magnitudeSweep's (float32), kept columns = the original weights.
    const input = problem(4, 24, 24);
    const direct = await magnitudeSweep(input, { levels: ffnLevels(24), snapshotPrecision: 'float32' });
    expect(record.levels.map((l) => l.kept)).toEqual(ffnLevels(24));
    record.levels.forEach((level, i) => {
      const snap = direct.snapshots[i]!;
      expect(level.keptIndices).toEqual(snap.keptIndices);
      expect(level.weight).toEqual(snap.weight);
      expect(level.error).toBe(snap.error);
      expect(level.obsLoss).toBe(snap.obsLoss);
      const width = level.kept;
      let changed = 0;
      for (let r = 0; r < 4; r++)
        for (let q = 0; q < width; q++)
          if (level.weight[r * width + q] !== Math.fround(input.weight[r * 24 + level.keptIndices[q]!]!)) changed++;
      expect(changed).toBe(0);
    });
    expect(await db.readLevel(0, 'ffn', record.levels[5]!.kept)).toEqual(record.levels[5]);
    const errors = await db.toLayerErrors();
    expect(errors).toHaveLength(4);
    for (const entry of errors) {
      expect(entry.levels[0]!.error).toBe(0);
      expect(entry.levels.at(-1)).toEqual({ kept: 0, error: 1 });
    }
    // Resuming with the same method skips; switching methods on an existing database is refused.
    expect(await openLevelDatabase(dir).build(jobs(undefined, undefined, 'magnitude'))).toEqual({ built: 0, skipped: 4 });
    await expect(openLevelDatabase(dir).build(jobs())).rejects.toThrow(/different spec/);
    await expect(openLevelDatabase(dir).build(jobs(undefined, undefined, 'obs'))).rejects.toThrow(DatabaseError);
  });

  it('keeps OBS files at version 1 without a method, and validates the method field', async () => {
    const db = new LevelDatabase(createMemoryStorage());
    await db.build(jobs().slice(0, 1));
    const header = await db.readHeader(0, 'attention');
    expect(header.version).toBe(1);
    expect(header.spec.method).toBeUndefined();
    // An explicit 'obs' job resumes a version-1 OBS file (absent = 'obs').
    expect(await db.build(jobs(undefined, undefined, 'obs').slice(0, 1))).toEqual({ built: 0, skipped: 1 });
    await expect(db.build(jobs(undefined, undefined, 'magnitude').slice(0, 1))).rejects.toThrow(/different spec/);

    const dir = await tempDir();
    await openLevelDatabase(dir).build(jobs(undefined, undefined, 'magnitude').slice(0, 1));
    const file = join(dir, layerFileName(0, 'attention'));
    const bytes = await readFile(file);
    // latin1: one character per byte, so string offsets are byte offsets.
    const text = bytes.toString('latin1');
    /** Rewrites a same-length field of the JSON header in place. */
    const patch = async (from: string, to: string): Promise<void> => {
      expect(to.length).toBe(from.length);
      const at = text.indexOf(from);
      expect(at).toBeGreaterThan(0);
      const out = Buffer.from(bytes);
      out.write(to, at, 'latin1');
      await writeFile(file, out);
    };
    const reopened = openLevelDatabase(dir);
    await patch('"method":"magnitude"', '"method":"magnitudx"');
    await expect(reopened.readHeader(0, 'attention')).rejects.toThrow(/spec\.method "magnitudx" \(expected "obs" or "magnitude"\)/);
    await writeFile(file, bytes);
    await patch('"version":2', '"version":1');
    await expect(reopened.read(0, 'attention')).rejects.toThrow(/needs format version 2/);
    await writeFile(file, bytes);
    await patch('"version":2', '"version":3');
    await expect(reopened.readHeader(0, 'attention')).rejects.toThrow(/unsupported version 3 \(this reader knows 1 and 2\)/);
  });
});
