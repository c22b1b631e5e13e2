// One schema per file of a run directory: member.json, results.json, manifest.json and
// dense-scores.json. A valid file parses to what was written; a missing field, a wrong type and an
// unknown version are typed errors (RunDirectoryError / ReportError) naming the file and the field.

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunDirectoryError } from '../src/errors.js';
import { RESULTS_FILE, readRunResults, writeRunReport } from '../src/report-io.js';
import { ReportError } from '../src/report/errors.js';
import type { RunResults } from '../src/results.js';
import { RunDirectory, type RunManifest } from '../src/internal/run-dir.js';
import { parseDenseScores, parseMemberRecord, parseRunManifest, parseRunResults } from '../src/schemas/index.js';
import type { MemberRecord } from '../src/results.js';
import { sampleMemberRecord, sampleRunIdentity } from './fixtures/run-records.js';
import { threeMethodRun } from './fixtures/report/runs.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-schemas-'));
let dirs = 0;
const freshDir = (): string => join(root, `d${dirs++}`);

/** A JSON object as a test edits it: any member may be read, written or deleted, with any value. */
type JsonObject = { [key: string]: unknown };

/** The object or array at `path` under `json` (the edit's target, which the test knows is there). */
function at(json: JsonObject, ...path: (string | number)[]): JsonObject {
  let node = json;
  for (const key of path) node = node[key] as JsonObject;
  return node;
}

/** `value` as JSON with `edit` applied. */
function edited<T>(value: T, edit: (json: JsonObject) => unknown): unknown {
  const json = JSON.parse(JSON.stringify(value)) as JsonObject;
  edit(json);
  return json;
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

/** Run results measured by real runs (the docs site's results). */
const RESULTS_DIR = join(import.meta.dirname, '../../../apps/docs/public/results');

const record: MemberRecord = sampleMemberRecord();

describe('parseMemberRecord', () => {
  const file = '/runs/r/members/ziplm-2.00x/member.json';

  it('reads a record back as written, byte for byte', () => {
    const text = `${JSON.stringify(record, null, 2)}\n`;
    const parsed = parseMemberRecord(JSON.parse(text), file);
    expect(parsed).toEqual(record);
    expect(`${JSON.stringify(parsed, null, 2)}\n`).toBe(text);
  });

  it('reads a non-finite metric (stored as null) back as NaN', () => {
    expect(
      parseMemberRecord(
        edited(record, (j) => (j.metric = null)),
        file,
      ).metric,
    ).toBeNaN();
  });

  it.each([
    ['a missing field', (j: JsonObject) => delete j.keptHeads, '"keptHeads" must be an array of index arrays'],
    ['a wrong type', (j: JsonObject) => (j.target = '2'), '"target" must be a finite number > 0 (got "2")'],
    [
      'a bad nested field',
      (j: JsonObject) => (at(j, 'verification').denseMs = 0),
      '"verification.denseMs" must be a finite number > 0 (got 0)',
    ],
    ['a bad index', (j: JsonObject) => (at(j, 'keptNeurons', 1)[0] = -1), '"keptNeurons[1][0]" must be an integer >= 0 (got -1)'],
    ['an unknown method', (j: JsonObject) => (j.method = 'random'), '"method" must be one of ziplm, magnitude, uniform (got "random")'],
  ] satisfies Array<[string, (j: JsonObject) => unknown, string]>)(
    '%s is a RunDirectoryError naming the file and the field',
    (_name, edit, problem) => {
      const error = thrown(() => parseMemberRecord(edited(record, edit), file));
      expect(error).toBeInstanceOf(RunDirectoryError);
      expect((error as RunDirectoryError).message).toBe(`${file}: ${problem}; remove /runs/r/members/ziplm-2.00x to recompute this member`);
    },
  );

  it('rejects a document that is not an object', () => {
    expect(() => parseMemberRecord([record], file)).toThrow(`${file}: must be a JSON object;`);
  });
});

describe('parseRunResults', () => {
  const results = threeMethodRun();

  it.each(readdirSync(RESULTS_DIR))("reads a real run's results.json back byte for byte: %s", (run) => {
    const file = join(RESULTS_DIR, run, RESULTS_FILE);
    const text = readFileSync(file, 'utf8');
    expect(`${JSON.stringify(parseRunResults(JSON.parse(text), file), null, 2)}\n`).toBe(text);
  });

  it.each([
    ['a missing field', (j: JsonObject) => delete at(j, 'members', 1).dir, 'members[1].dir', 'must be a string (got undefined)'],
    ['a wrong type', (j: JsonObject) => (at(j, 'dense').timeMs = 'fast'), 'dense.timeMs', 'must be a finite number > 0 (got "fast")'],
    ['an unknown version', (j: JsonObject) => (j.version = 2), 'version', 'must be 1 (got 2)'],
    ['another format', (j: JsonObject) => (j.format = 'ziplm-run'), 'format', 'must be "ziplm-run-results" (got "ziplm-run")'],
    [
      'a bad comparison',
      (j: JsonObject) => (j.comparisons = [{ target: 2, method: 'ziplm', baseline: 'random', wins: 1, losses: 0, pValue: 1 }]),
      'comparisons[0].baseline',
      'must be "dense" or one of ziplm, magnitude, uniform (got "random")',
    ],
    [
      'a layer size beyond the model',
      (j: JsonObject) => (at(j, 'members', 0, 'layerIntermediate')[3] = 4000),
      'members[0].layerIntermediate[3]',
      'must be an integer in [0, 3072] (got 4000)',
    ],
  ] satisfies Array<[string, (j: JsonObject) => unknown, string, string]>)(
    '%s is a ReportError naming the file and the field',
    (_name, edit, field, problem) => {
      const error = thrown(() => parseRunResults(edited(results, edit), 'runs/r/results.json'));
      expect(error).toBeInstanceOf(ReportError);
      expect((error as ReportError).field).toBe(field);
      expect((error as ReportError).file).toBe('runs/r/results.json');
      expect((error as ReportError).message).toBe(`runs/r/results.json: run results field "${field}" ${problem}`);
    },
  );

  it('reads results.json from a run directory and names it when it is missing, not JSON or invalid', async () => {
    const dir = freshDir();
    const file = join(dir, RESULTS_FILE);
    await expect(readRunResults(dir)).rejects.toThrow(`${file}: run results field "(file)" cannot be read`);
    await mkdir(dir, { recursive: true });
    writeFileSync(file, '{"format": ');
    await expect(readRunResults(dir)).rejects.toThrow(`${file}: run results field "(root)" is not valid JSON`);
    writeFileSync(file, JSON.stringify({ ...results, mode: 'twoshot' }));
    await expect(readRunResults(dir)).rejects.toThrow(`${file}: run results field "mode" must be "oneshot" or "gradual" (got "twoshot")`);
    writeFileSync(file, JSON.stringify(results));
    expect(await readRunResults(dir)).toEqual(results);
  });
});

const identity = sampleRunIdentity;

const manifest: RunManifest = {
  format: 'ziplm-run',
  version: 1,
  createdAt: '2026-12-04T16:33:26.172Z',
  updatedAt: '2026-12-04T16:36:20.141Z',
  identity,
  versions: { node: 'v20.20.2', '@ziplm/pipeline': '0.0.0' },
  targets: [2],
  members: [
    {
      name: 'members/ziplm-2.00x',
      method: 'ziplm',
      target: 2,
      layerHeads: [2, 2],
      layerIntermediate: [8, 8],
      keptHeads: record.keptHeads,
      keptNeurons: record.keptNeurons,
      predictedSpeedup: 2.01,
    },
  ],
  tableSha256: 'ef'.repeat(32),
};

describe('parseRunManifest', () => {
  const file = '/runs/r/manifest.json';

  it('reads a manifest back as written, byte for byte', () => {
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    expect(`${JSON.stringify(parseRunManifest(JSON.parse(text), file), null, 2)}\n`).toBe(text);
  });

  it.each([
    [
      'a missing field',
      (j: JsonObject) => delete at(j, 'identity', 'model').sha256,
      '"identity.model.sha256" must be a string (got undefined)',
    ],
    ['a wrong type', (j: JsonObject) => (j.targets = '2'), '"targets" must be an array'],
    [
      'an unknown version',
      (j: JsonObject) => (j.version = 2),
      '"version" must be 1 (got 2): not a manifest version this @ziplm/pipeline reads',
    ],
    [
      'another format',
      (j: JsonObject) => (j.format = 'ziplm-run-results'),
      '"format" must be "ziplm-run" (got "ziplm-run-results"): not a ziplm run manifest',
    ],
  ] satisfies Array<[string, (j: JsonObject) => unknown, string]>)(
    '%s is a RunDirectoryError naming the file and the field',
    (_name, edit, problem) => {
      const error = thrown(() => parseRunManifest(edited(manifest, edit), file));
      expect(error).toBeInstanceOf(RunDirectoryError);
      expect((error as RunDirectoryError).message).toBe(`${file}: ${problem}; remove the run directory or choose another one`);
    },
  );

  it('is checked when a run directory is opened again', async () => {
    const dir = freshDir();
    const run = await RunDirectory.open(dir, identity);
    await run.close(); // a run directory is opened by one run at a time
    const again = await RunDirectory.open(dir, identity);
    expect(again.manifest).toEqual(run.manifest);
    await again.close();
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(edited(run.manifest, (j) => (j.members = [{ name: 'x' }]))));
    await expect(RunDirectory.open(dir, identity)).rejects.toThrow(RunDirectoryError);
    await expect(RunDirectory.open(dir, identity)).rejects.toThrow(
      `${join(dir, 'manifest.json')}: "members[0].method" must be a string (got undefined)`,
    );
  });
});

describe('parseDenseScores', () => {
  const file = '/runs/r/dense-scores.json';

  it('reads scores back as written; a non-finite metric (stored as null) as NaN', () => {
    const scores = { metric: 91.3, predictions: [0, 1, 1, 0] };
    expect(parseDenseScores(JSON.parse(JSON.stringify(scores)), file)).toEqual(scores);
    expect(parseDenseScores({ metric: 12.5 }, file)).toEqual({ metric: 12.5 });
    expect(parseDenseScores({ metric: null }, file).metric).toBeNaN();
  });

  it.each([
    ['a missing field', {}, '"metric" must be a number (got undefined)'],
    ['a wrong type', { metric: '91' }, '"metric" must be a number (got "91")'],
    ['a bad prediction', { metric: 91, predictions: [0, 0.5] }, '"predictions[1]" must be an integer >= 0 (got 0.5)'],
    ['a document that is not an object', [91], 'must be a JSON object'],
  ])('%s is a RunDirectoryError naming the file and the field', (_name, value, problem) => {
    const error = thrown(() => parseDenseScores(value, file));
    expect(error).toBeInstanceOf(RunDirectoryError);
    expect((error as RunDirectoryError).message).toBe(`${file}: ${problem}; remove it to score the dense model again`);
  });
});

describe('writeRunReport', () => {
  it('checks the results before writing results.json', async () => {
    const run = await RunDirectory.open(freshDir(), identity);
    const bad: RunResults = { ...threeMethodRun(), dense: { timeMs: 0 } };
    await expect(writeRunReport(run, bad)).rejects.toBeInstanceOf(ReportError);
    expect(existsSync(run.path(RESULTS_FILE))).toBe(false);
    await writeRunReport(run, threeMethodRun());
    expect(await readRunResults(run.dir)).toEqual(threeMethodRun());
  });
});
