// The latency table schema (LatencyTableSchema + parseLatencyTable): real tables read back and are
// written byte-identically, and every kind of bad field (missing, wrong type, unknown version,
// inconsistent with another field) is a LatencyTableError naming the file and the field path.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  EnvironmentError,
  LatencyTableError,
  LatencyTableSchema,
  parseLatencyTable,
  serializeLatencyTable,
  type LatencyTable,
} from '../src/index.js';
import { twoLayerTable } from './helpers.js';

/** Tables measured by real runs (the docs site's results). */
const RESULTS_DIR = join(import.meta.dirname, '../../../apps/docs/public/results');

const table = twoLayerTable();

/** A JSON object as a test edits it: any member may be read, written or deleted, with any value. */
type JsonObject = { [key: string]: unknown };

/** The object or array at `path` under `json` (the edit's target, which the test knows is there). */
function at(json: JsonObject, ...path: (string | number)[]): JsonObject {
  let node = json;
  for (const key of path) node = node[key] as JsonObject;
  return node;
}

/** A change to a table's JSON. */
type Edit = (json: JsonObject) => unknown;

/** The table as plain JSON with `edit` applied. */
function edited(edit: Edit, base: LatencyTable = table): unknown {
  const json = JSON.parse(JSON.stringify(base)) as JsonObject;
  edit(json);
  return json;
}

function errorOf(json: unknown): LatencyTableError {
  try {
    parseLatencyTable(json, 'tables/t.json');
  } catch (error) {
    expect(error).toBeInstanceOf(LatencyTableError);
    return error as LatencyTableError;
  }
  throw new Error('expected a LatencyTableError');
}

const withBuild: LatencyTable = {
  ...table,
  build: {
    calibration: {
      points: [{ layerHeads: [4, 2], layerIntermediate: [8, 4], measured: 10, uncalibrated: 11, calibrated: 10.1 }],
      error: 0.01,
      uncalibratedError: 0.1,
      applied: true,
    },
    seconds: 12.5,
    rounds: { min: 5, max: 9 },
    warmupRuns: 2,
    visitRuns: 3,
    precision: 0.01,
    remeasured: ['attention:3'],
    monotonicity: [{ module: 'ffn', smaller: 4, larger: 6, resolved: true }],
    additivity: { measured: 22, predicted: 21.5, residual: 0.023 },
  },
};

describe('LatencyTableSchema', () => {
  const files = readdirSync(RESULTS_DIR).map((run) => join(RESULTS_DIR, run, 'latency-table.json'));

  it.each(files)('reads and rewrites a measured table byte-identically: %s', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(serializeLatencyTable(parseLatencyTable(JSON.parse(text), file))).toBe(text);
  });

  it('is a valibot schema of the documented type, usable on its own', () => {
    const result = v.safeParse(LatencyTableSchema, JSON.parse(JSON.stringify(table)));
    expect(result.success).toBe(true);
    expect(v.safeParse(LatencyTableSchema, { format: 'ziplm-latency-table' }).success).toBe(false);
  });

  it('parses build information and a whole-model block timing, keeping the file key order', () => {
    const modelTiming: LatencyTable = {
      ...withBuild,
      blockTiming: { context: 'model', layers: 2, emptyModel: table.dense, scale: 1.02, offset: -0.01 },
    };
    const parsed = parseLatencyTable(JSON.parse(JSON.stringify(modelTiming)));
    expect(parsed).toEqual(modelTiming);
    expect(Object.keys(parsed.build!)).toEqual(Object.keys(withBuild.build!));
    expect(serializeLatencyTable(parsed)).toBe(`${JSON.stringify(modelTiming, null, 2)}\n`);
  });

  it('drops unknown fields', () => {
    const parsed = parseLatencyTable(
      edited((json) => {
        json.comment = 'measured on a quiet machine';
        at(json, 'attention', 0).note = 'x';
      }),
    );
    expect(parsed).toEqual(table);
    expect(serializeLatencyTable(parsed)).not.toContain('quiet machine');
  });
});

describe('parseLatencyTable errors name the file and the field', () => {
  it.each([
    // missing fields
    ['a missing format', (j) => delete j.format, 'format', 'must be "ziplm-latency-table", got undefined (not a ziplm latency table?)'],
    ['a missing object', (j) => delete j.fingerprint, 'fingerprint', 'is missing'],
    ['a missing nested number', (j) => delete at(j, 'nonPrunable').samples, 'nonPrunable.samples', 'is missing'],
    ['a missing level time', (j) => delete at(j, 'ffn', 2).time, 'ffn[2].time', 'is missing'],
    [
      'a missing environment option',
      (j) => delete at(j, 'environment').threads,
      'environment.threads',
      'must be an integer, got undefined',
    ],
    // wrong types
    ['an array for an object', (j) => (j.model = []), 'model', 'must be an object'],
    ['a string for a number', (j) => (at(j, 'dense').median = '22'), 'dense.median', 'must be a finite number, got "22"'],
    ['an infinite number', (j) => (at(j, 'dense').median = Number.POSITIVE_INFINITY), 'dense.median', 'must be a finite number, got null'],
    ['a fractional count', (j) => (at(j, 'fingerprint').logicalCores = 1.5), 'fingerprint.logicalCores', 'must be an integer, got 1.5'],
    ['a number for a string', (j) => (at(j, 'fingerprint').arch = 64), 'fingerprint.arch', 'must be a string, got 64'],
    [
      'an unknown engine',
      (j) => (at(j, 'environment').engine = 'tvm'),
      'environment.engine',
      'must be one of onnxruntime-node, onnxruntime-web, got "tvm"',
    ],
    [
      'a negative overhead',
      (j) => (at(j, 'blockTiming', 'overhead').attention = -1),
      'blockTiming.overhead.attention',
      'must be >= 0, got -1',
    ],
    ['levels that are not an array', (j) => (j.ffn = {}), 'ffn', 'must be an array of levels'],
    ['a level that is not an object', (j) => (at(j, 'ffn')[1] = 6), 'ffn[1]', 'must be an object { kept, time }'],
    // unknown versions and formats
    ['a newer version', (j) => (j.version = 2), 'version', 'must be 1 (the version this @ziplm/latency reads), got 2'],
    ['a version as a string', (j) => (j.version = '1'), 'version', 'must be 1 (the version this @ziplm/latency reads), got "1"'],
    ['another unit', (j) => (j.unit = 'us'), 'unit', 'must be "ms", got "us"'],
    // fields that disagree with each other or with the model shape
    [
      'a whole-model timing without its empty model',
      (j) => (j.blockTiming = { context: 'model', layers: 2, scale: 1 }),
      'blockTiming.emptyModel',
      'is missing',
    ],
    ['a batch in latency mode', (j) => (at(j, 'environment').batchSize = 4), 'environment.batchSize', 'must be 1 in latency mode, got 4'],
    ['a kept size above the dense size', (j) => (at(j, 'ffn', 0).kept = 9), 'ffn[0].kept', 'must be <= the dense size 8, got 9'],
  ] satisfies Array<[string, Edit, string, string]>)('%s', (_name, edit, field, problem) => {
    const error = errorOf(edited(edit));
    expect(error.file).toBe('tables/t.json');
    expect(error.field).toBe(field);
    expect(error.problem).toBe(problem);
    expect(error.message).toBe(`tables/t.json: latency table field "${field}" ${problem}`);
  });

  it.each([
    ['a document that is not an object', []],
    ['null', null],
  ])('rejects %s at the root', (_name, json) => {
    const error = errorOf(json);
    expect(error.field).toBe('(root)');
    expect(error.problem).toBe('must be a JSON object');
  });

  it('checks build information field by field', () => {
    const error = errorOf(
      edited((j) => {
        at(j, 'build', 'monotonicity', 0).module = 'mlp';
      }, withBuild),
    );
    expect(error.field).toBe('build.monotonicity[0].module');
    expect(error.problem).toBe('must be "attention" or "ffn"');
    expect(errorOf(edited((j) => delete at(j, 'build', 'rounds').max, withBuild)).field).toBe('build.rounds.max');
    expect(errorOf(edited((j) => (at(j, 'build', 'calibration', 'points', 0).layerHeads = [4, -2]), withBuild)).field).toBe(
      'build.calibration.points[0].layerHeads[1]',
    );
  });

  it('keeps the EnvironmentError behind an environment rule as the cause', () => {
    const error = errorOf(edited((j) => (at(j, 'environment').pastLength = 3)));
    expect(error.field).toBe('environment.pastLength');
    expect(error.cause).toBeInstanceOf(EnvironmentError);
  });
});
