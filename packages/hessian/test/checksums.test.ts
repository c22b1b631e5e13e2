// createFileStorage's `checksums` option: every entry gets a line in `<directory>.sha256`, written
// before the entry, and a reuse checks it, so a damaged level database (e.g. zeroed weights, which would otherwise flow
// into new models) is refused, naming the file, instead of being read.

import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseError, encodeLayerRecord, layerFileName, type LayerRecord } from '../src/index.js';
import { openLevelDatabase } from '../src/node.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ziplm-hessian-checksums-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function record(): LayerRecord {
  const rows = 3;
  return {
    layer: 0,
    module: 'ffn',
    rows,
    cols: 4,
    groupSize: 1,
    spec: { levels: [4, 2, 0], groupSize: 1, relativeDamping: 0.01 },
    levels: [4, 2, 0].map((kept) => ({
      kept,
      keptIndices: Int32Array.from({ length: kept }, (_, i) => i),
      weight: Float32Array.from({ length: rows * kept }, (_, i) => 0.25 + i),
      obsLoss: kept === 4 ? 0 : 1 / (kept + 1),
      error: kept === 4 ? 0 : 1 / (kept + 1),
    })),
    order: Int32Array.from([3, 2, 1, 0]),
    damping: { relative: 0.01, absolute: 0.01, meanDiagonal: 1, tried: [0.01] },
    dead: [],
    outputEnergy: 1,
  };
}

describe('level database checksums', () => {
  it('records each entry in <directory>.sha256 (sha256sum format) beside the directory and reads intact entries', async () => {
    const dir = join(await tempDir(), 'database');
    await openLevelDatabase(dir, { checksums: true }).write(record());
    const name = layerFileName(0, 'ffn');
    expect(await readdir(dir)).toEqual([name]); // the directory holds exactly the entries
    const bytes = await readFile(join(dir, name));
    expect(await readFile(`${dir}.sha256`, 'utf8')).toBe(`${createHash('sha256').update(bytes).digest('hex')}  database/${name}\n`);
    const db = openLevelDatabase(dir, { checksums: true });
    expect((await db.readLevel(0, 'ffn', 2)).weight).toEqual(record().levels[1]!.weight);
    expect(await db.toLayerErrors()).toHaveLength(1);
  });

  it('refuses a zeroed payload on its first read, naming the file and what to remove', async () => {
    const dir = await tempDir();
    await openLevelDatabase(dir, { checksums: true }).write(record());
    const file = join(dir, layerFileName(0, 'ffn'));
    const bytes = await readFile(file);
    bytes.fill(0, 12 + bytes.readUInt32LE(8)); // header intact, every weight 0
    await writeFile(file, bytes);
    // Without checksums the zeroed weights would be served as they are.
    expect((await openLevelDatabase(dir).readLevel(0, 'ffn', 2)).weight.every((w) => w === 0)).toBe(true);
    const db = openLevelDatabase(dir, { checksums: true });
    for (const read of [() => db.readLevel(0, 'ffn', 2), () => db.toLayerErrors(), () => db.read(0, 'ffn')]) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseError);
      expect((error as Error).message).toMatch(/has changed since it was written \(sha256 [0-9a-f]{64}, recorded [0-9a-f]{64}/);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toContain(`remove ${file} to rebuild this module`);
    }
  });

  it('refuses an entry without its checksum file', async () => {
    const dir = await tempDir();
    const name = layerFileName(0, 'ffn');
    await writeFile(join(dir, name), encodeLayerRecord(record()));
    await expect(openLevelDatabase(dir, { checksums: true }).readHeader(0, 'ffn')).rejects.toThrow(
      `${join(dir, name)}: has no checksum in ${dir}.sha256, so it cannot be checked; remove ${join(dir, name)} to rebuild this module`,
    );
    // A database without checksums (the default) reads it as before.
    expect((await openLevelDatabase(dir).readHeader(0, 'ffn')).layer).toBe(0);
  });
});
