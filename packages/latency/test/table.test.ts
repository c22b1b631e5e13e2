import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertConfig } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { checkTableMatchesModel } from '../src/table.js';
import {
  EnvironmentError,
  inferenceEnvironment,
  LatencyTableError,
  loadLatencyTable,
  parseLatencyTable,
  predictRuntime,
  saveLatencyTable,
  serializeLatencyTable,
  TableMismatchError,
} from '../src/index.js';
import { twoLayerTable } from './helpers.js';

const table = twoLayerTable();

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ziplm-latency-'));
}

/** The table as plain JSON with one field changed (path of keys / indices). */
function mutate(path: Array<string | number>, value: unknown): unknown {
  const json = JSON.parse(JSON.stringify(table)) as Record<string, unknown>;
  let node: Record<string | number, unknown> = json;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return json;
}

describe('table schema', () => {
  it('round-trips through a file, atomically, with integer kept keys', async () => {
    const dir = await tempDir();
    const file = join(dir, 'table.json');
    await saveLatencyTable(file, table);
    expect(await readdir(dir)).toEqual(['table.json']); // no temporary file left behind
    const text = await readFile(file, 'utf8');
    const json = JSON.parse(text);
    expect(json.attention.map((l: { kept: number }) => l.kept)).toEqual([4, 3, 2, 1, 0]);
    expect(json.ffn[0]).toMatchObject({ kept: 8, time: 6 });
    const { table: loaded, warnings } = await loadLatencyTable(file, {
      model: bertConfig({ hiddenSize: 64, numHeads: 4, intermediateSize: 8, numLayers: 2 }),
    });
    expect(warnings).toEqual([]);
    expect(loaded).toEqual(table);
    expect(serializeLatencyTable(loaded)).toBe(text);
  });

  it('sorts levels by kept size, descending', () => {
    const shuffled = mutate(['ffn'], [...table.ffn].reverse());
    expect(parseLatencyTable(shuffled).ffn.map((l) => l.kept)).toEqual([8, 6, 4, 2, 0]);
  });

  it.each([
    [['format'], 'nope', /field "format" must be "ziplm-latency-table"/],
    [['version'], 2, /field "version" must be 1/],
    [['createdAt'], 'yesterday', /field "createdAt" must be an ISO 8601 date/],
    [['unit'], 's', /field "unit"/],
    [['environment', 'threads'], 0, /field "environment.threads" must be >= 1/],
    [['environment', 'mode'], 'fast', /field "environment.mode"/],
    [['fingerprint', 'cpuModel'], undefined, /field "fingerprint.cpuModel" is missing/],
    [['model', 'numHeads'], 2.5, /field "model.numHeads" must be an integer/],
    [['model', 'modelType'], 'roberta', /field "model.modelType"/],
    [['dense', 'median'], -1, /field "dense.median" must be >= 0/],
    [['dense', 'samples'], 0, /field "dense.samples" must be >= 1/],
    [['prunable'], 5, /field "prunable" must equal dense.median − nonPrunable.median = 20/],
    [['blockTiming', 'overhead', 'ffn'], 'x', /field "blockTiming.overhead.ffn" must be a finite number/],
    [['blockTiming'], 0, /field "blockTiming" must be an object/],
    [['blockTiming', 'context'], 'guess', /field "blockTiming.context" must be "model" or "isolated"/],
    [['blockTiming', 'scale'], 0, /field "blockTiming.scale" must be > 0/],
    [['attention'], undefined, /field "attention" is missing/],
    [['attention', 0, 'kept'], '4', /field "attention\[0\].kept" must be a finite number/],
    [['attention', 1, 'kept'], 4, /field "attention\[1\].kept" duplicates kept size 4/],
    [['attention', 0, 'kept'], 5, /must be <= the dense size 4/],
    [['attention', 4, 'time'], 1, /field "attention\[4\].time" must be 0 for kept 0/],
    [['ffn', 4], undefined, /field "ffn" must contain the removed level/],
    [['ffn', 0, 'time'], Number.NaN, /field "ffn\[0\].time" must be a finite number/],
    [['ffn', 1, 'measured', 'dispersion'], null, /field "ffn\[1\].measured.dispersion" must be a finite number/],
  ])('rejects %j = %j', (path, value, message) => {
    const json = mutate(path as Array<string | number>, value);
    if (path[0] === 'ffn' && path.length === 2)
      (json as { ffn: unknown[] }).ffn = (json as { ffn: unknown[] }).ffn.filter((x) => x !== undefined && x !== null);
    expect(() => parseLatencyTable(json, 'my-table.json')).toThrow(LatencyTableError);
    expect(() => parseLatencyTable(json, 'my-table.json')).toThrow(message);
    expect(() => parseLatencyTable(json, 'my-table.json')).toThrow(/^my-table\.json: /);
  });

  it('requires the dense level', () => {
    const json = mutate(
      ['attention'],
      table.attention.filter((l) => l.kept !== 4),
    );
    expect(() => parseLatencyTable(json)).toThrow(/must contain the dense level \(kept 4\)/);
  });

  it('names the file for unreadable and non-JSON files', async () => {
    const dir = await tempDir();
    await expect(loadLatencyTable(join(dir, 'missing.json'))).rejects.toThrow(
      /missing\.json: latency table field "\(file\)" cannot be read/,
    );
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "format": ');
    await expect(loadLatencyTable(bad)).rejects.toThrow(/bad\.json: latency table field "\(root\)" is not valid JSON/);
  });

  it('rejects a table measured for another model shape', async () => {
    const dir = await tempDir();
    const file = join(dir, 't.json');
    await saveLatencyTable(file, table);
    const other = bertConfig({ hiddenSize: 64, numHeads: 4, intermediateSize: 16, numLayers: 2 });
    await expect(loadLatencyTable(file, { model: other })).rejects.toThrow(TableMismatchError);
    await expect(loadLatencyTable(file, { model: other })).rejects.toThrow(
      /t\.json: latency table field "model\.intermediateSize" is 8 but the model has 16/,
    );
    expect(() => checkTableMatchesModel(table, { ...table.model, numLayers: 3 })).toThrow(/model\.numLayers/);
  });

  it('warns (return value and callback, never console) when the device fingerprint differs', async () => {
    const dir = await tempDir();
    const file = join(dir, 't.json');
    await saveLatencyTable(file, table);
    const seen: string[] = [];
    const { warnings } = await loadLatencyTable(file, {
      fingerprint: { ...table.fingerprint, cpuModel: 'Other CPU', logicalCores: 16 },
      onWarning: (w) => seen.push(w.field),
    });
    expect(warnings.map((w) => w.field)).toEqual(['cpuModel', 'logicalCores']);
    expect(seen).toEqual(['cpuModel', 'logicalCores']);
    expect(warnings[0]!.message).toContain('"Test CPU"');
    expect(warnings[0]!.message).toContain('"Other CPU"');
  });

  it('refuses to save an invalid table', async () => {
    const dir = await tempDir();
    const bad = { ...table, attention: table.attention.filter((l) => l.kept !== 0) };
    await expect(saveLatencyTable(join(dir, 'x.json'), bad)).rejects.toThrow(/must contain the removed level/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('runtime model', () => {
  it('predicts (dense − prunable) + Σ block times and the speedup (guide/latency.md)', () => {
    const p = predictRuntime(table, { layerHeads: [4, 0], layerIntermediate: [2, 6] });
    expect(p.nonPrunable).toBe(2);
    expect(p.time).toBeCloseTo(2 + 4 + 0 + 1.7 + 4.6, 12);
    expect(p.speedup).toBeCloseTo(22 / p.time, 12);
    expect(predictRuntime(table, { layerHeads: [4, 4], layerIntermediate: [8, 8] }).speedup).toBeCloseTo(1, 12);
    expect(() => predictRuntime(table, { layerHeads: [4, 4], layerIntermediate: [8, 5] })).toThrow(
      /no ffn time for kept size 5 \(layer 1\)/,
    );
    expect(() => predictRuntime(table, { layerHeads: [4], layerIntermediate: [8] })).toThrow(/for 2 layers/);
  });
});

describe('inference environment', () => {
  it('fills defaults per mode and validates', () => {
    expect(inferenceEnvironment()).toEqual({
      engine: 'onnxruntime-node',
      threads: 2,
      graphOptimizationLevel: 'all',
      mode: 'latency',
      batchSize: 1,
      sequenceLength: 128,
      pastLength: 0,
      allowSpinning: false,
    });
    expect(inferenceEnvironment({ mode: 'throughput' }).batchSize).toBe(32);
    expect(inferenceEnvironment({ mode: 'generation' })).toMatchObject({ sequenceLength: 1, pastLength: 50, batchSize: 1 });
    expect(() => inferenceEnvironment({ mode: 'latency', batchSize: 4 })).toThrow(EnvironmentError);
    expect(() => inferenceEnvironment({ mode: 'generation', sequenceLength: 8 })).toThrow(/sequenceLength/);
    expect(() => inferenceEnvironment({ threads: 0 })).toThrow(/threads/);
    expect(() => inferenceEnvironment({ pastLength: 10 })).toThrow(/only meaningful in generation mode/);
  });
});
