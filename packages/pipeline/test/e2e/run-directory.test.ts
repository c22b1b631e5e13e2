// Run directories that cannot be escaped or corrupted: a resumed run refuses, naming the file (and the
// field), when a record points outside its directory or at another member, when an artifact changed
// since it was written (level database, member files, dense scores, latency table), and when the
// manifest is gone but results are not. Every case damages a copy of one finished run, and each
// refusal writes nothing and releases the lock.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir } from '@ziplm/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunDirectoryError } from '../../src/errors.js';
import { LOCK_FILE } from '../../src/internal/run-lock.js';
import { runOneShot, type OneShotOptions } from '../../src/oneshot.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-run-dir-'));
const original = join(root, 'original');
const options = (runDir: string): OneShotOptions => ({
  modelDir: builtinModelDir('tiny-bert'),
  runDir,
  targets: [1.5, 2],
  task: 'samples',
  methods: ['ziplm'],
  calibrationSamples: 8,
  engine: 'js',
  spdy: false,
  verify: false,
  tableRounds: { minRounds: 3, maxRounds: 4 },
});

let cases = 0;
/** A copy of the finished run, in its own folder `<root>/case-N/run`. */
function copyOfRun(): string {
  const dir = join(root, `case-${cases++}`, 'run');
  cpSync(original, dir, { recursive: true });
  return dir;
}

/** Every file below `dir` with its size and modification time, to show nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const s = statSync(path);
        out[path] = `${s.size}:${s.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** Resumes `runDir`, expects a refusal matching `problem` (and RunDirectoryError unless `kind` says otherwise), nothing written. */
async function expectRefused(runDir: string, problem: RegExp, kind: 'run-directory' | 'database' = 'run-directory') {
  const before = snapshot(join(runDir, '..'));
  const error = await runOneShot(options(runDir)).catch((e: unknown) => e);
  if (kind === 'run-directory') expect(error).toBeInstanceOf(RunDirectoryError);
  else expect((error as { code?: string }).code).toBe('ERR_ZIPLM_DATABASE');
  expect((error as Error).message).toMatch(problem);
  const after = snapshot(join(runDir, '..'));
  // The manifest's updatedAt is rewritten when the table is checked; nothing else changes.
  for (const file of Object.keys(before)) if (!file.endsWith('manifest.json')) expect(after[file], file).toBe(before[file]);
  expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
  expect(existsSync(join(runDir, LOCK_FILE))).toBe(false);
  return error as Error;
}

function editRecord(runDir: string, member: string, edit: (record: Record<string, unknown>) => void): string {
  const file = join(runDir, 'members', member, 'member.json');
  const record = JSON.parse(readFileSync(file, 'utf8'));
  edit(record);
  writeFileSync(file, JSON.stringify(record, null, 2));
  return file;
}

beforeAll(async () => {
  await runOneShot(options(original));
}, 120_000);

describe('a resumed run refuses a run directory that was tampered with or damaged', () => {
  it('resumes an intact copy without recomputing anything', async () => {
    const runDir = copyOfRun();
    const stages: string[] = [];
    await runOneShot({ ...options(runDir), onEvent: (e) => e.kind === 'stage' && stages.push(e.stage) });
    expect(stages).not.toContain('search');
    expect(stages).not.toContain('evaluate');
    expect(existsSync(join(runDir, LOCK_FILE))).toBe(false);
  });

  it('member.json "dir" pointing outside the run directory: refused, nothing written outside', async () => {
    const runDir = copyOfRun();
    const elsewhere = join(runDir, '..', '..', 'somewhere', 'else');
    mkdirSync(elsewhere, { recursive: true });
    cpSync(join(runDir, 'members', 'ziplm-2.00x'), elsewhere, { recursive: true });
    const outside = snapshot(elsewhere);
    const file = editRecord(runDir, 'ziplm-2.00x', (r) => (r.dir = '../../somewhere/else'));
    const error = await expectRefused(runDir, /"dir" must name a path inside/);
    expect(error.message).toContain(file);
    expect(snapshot(elsewhere)).toEqual(outside);
  });

  it('member.json "dir" naming another member: refused', async () => {
    const runDir = copyOfRun();
    const file = editRecord(runDir, 'ziplm-2.00x', (r) => (r.dir = 'members/ziplm-1.50x'));
    const error = await expectRefused(
      runDir,
      /"dir" must name this member's own directory "members\/ziplm-2\.00x", got "members\/ziplm-1\.50x"/,
    );
    expect(error.message).toContain(file);
  });

  it('member.json "files" naming a path outside the member: refused', async () => {
    const runDir = copyOfRun();
    editRecord(runDir, 'ziplm-2.00x', (r) => {
      r.files = { '../../../manifest.json': { bytes: 1, sha256: '0'.repeat(64) } };
    });
    await expectRefused(runDir, /"files" key must name a path inside/);
  });

  it('model.onnx cut in half: refused on resume, naming the file and what to remove', async () => {
    const runDir = copyOfRun();
    const onnx = join(runDir, 'members', 'ziplm-2.00x', 'model.onnx');
    const bytes = readFileSync(onnx);
    writeFileSync(onnx, bytes.subarray(0, bytes.length >> 1));
    const error = await expectRefused(runDir, /has \d+ bytes but \d+ were written \(truncated or replaced\)/);
    expect(error.message).toContain(onnx);
    expect(error.message).toContain(`remove ${join(runDir, 'members', 'ziplm-2.00x')} to recompute this member`);
  });

  it('model.safetensors replaced by random bytes of the same size: refused', async () => {
    const runDir = copyOfRun();
    const weights = join(runDir, 'members', 'ziplm-1.50x', 'model.safetensors');
    const size = statSync(weights).size;
    writeFileSync(
      weights,
      Uint8Array.from({ length: size }, (_, i) => (i * 7919 + 13) & 0xff),
    );
    const error = await expectRefused(runDir, /has changed since it was written \(sha256 [0-9a-f]{64}, recorded [0-9a-f]{64}\)/);
    expect(error.message).toContain(weights);
  });

  it('a record without file hashes (an older release) is refused, not trusted', async () => {
    const runDir = copyOfRun();
    editRecord(runDir, 'ziplm-1.50x', (r) => delete r.files);
    await expectRefused(runDir, /has no "files"/);
  });

  it('a zeroed level database payload: refused when the database is reused', async () => {
    const runDir = copyOfRun();
    // A member to recompute, so the database is read again.
    rmSync(join(runDir, 'members', 'ziplm-2.00x'), { recursive: true });
    const dbDir = join(runDir, 'database');
    const name = readdirSync(dbDir).find((n) => n.endsWith('.zlmdb'))!;
    const bytes = readFileSync(join(dbDir, name));
    const payloadStart = 12 + bytes.readUInt32LE(8);
    bytes.fill(0, payloadStart);
    writeFileSync(join(dbDir, name), bytes);
    const error = await expectRefused(runDir, /has changed since it was written .*remove .* to rebuild this module/, 'database');
    expect(error.message).toContain(join(dbDir, name));
  });

  it('dense-scores.json edited: refused', async () => {
    const runDir = copyOfRun();
    const file = join(runDir, 'dense-scores.json');
    const scores = JSON.parse(readFileSync(file, 'utf8'));
    scores.metric = 99.5;
    writeFileSync(file, `${JSON.stringify(scores, null, 2)}\n`);
    const error = await expectRefused(runDir, /dense-scores\.json: (has changed since it was written|has \d+ bytes but \d+ were written)/);
    expect(error.message).toContain(`remove ${file} to score the dense model again`);
  });

  it('latency-table.json changed or missing: refused before it is replaced', async () => {
    const runDir = copyOfRun();
    const file = join(runDir, 'latency-table.json');
    const table = readFileSync(file, 'utf8');
    writeFileSync(file, table.replace(/\n$/, '\n\n'));
    await expectRefused(runDir, /latency-table\.json: changed since this run started/);
    rmSync(file);
    await expectRefused(runDir, /latency-table\.json: is missing; restore the table this run was searched with/);
  });

  it('a different --table does not overwrite the run’s table', async () => {
    const runDir = copyOfRun();
    const file = join(runDir, 'latency-table.json');
    const table = JSON.parse(readFileSync(file, 'utf8'));
    table.createdAt = '2020-01-01T00:00:00.000Z'; // another measurement of the same shape
    const other = join(root, 'other-table.json');
    writeFileSync(other, JSON.stringify(table, null, 2));
    const before = readFileSync(file);
    const error = await runOneShot({ ...options(runDir), tablePath: other }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunDirectoryError);
    expect((error as Error).message).toMatch(/differs from the table this run was searched with/);
    expect(readFileSync(file)).toEqual(before);
  });

  it('a deleted manifest in a directory that still holds members/ and database/: refused, not a fresh run', async () => {
    const runDir = copyOfRun();
    rmSync(join(runDir, 'manifest.json'));
    const error = await expectRefused(runDir, /manifest\.json: is missing, but the directory holds members, database/);
    expect(error.message).toContain('restore manifest.json, or remove the directory');
    expect(existsSync(join(runDir, 'manifest.json'))).toBe(false);
  });

  it('a run killed after publishing a member but before saving the manifest: the resumed run records the member', async () => {
    const runDir = copyOfRun();
    const file = join(runDir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    const complete = manifest.members;
    expect(complete.map((m: { name: string }) => m.name)).toContain('members/ziplm-2.00x');
    manifest.members = complete.filter((m: { name: string }) => m.name !== 'members/ziplm-2.00x');
    writeFileSync(file, JSON.stringify(manifest, null, 2));
    await runOneShot(options(runDir));
    expect(JSON.parse(readFileSync(file, 'utf8')).members).toEqual(complete);
  });
});
