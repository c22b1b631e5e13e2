// INT8 latency tables (guide/compound-compression.md): the levels are timed as INT8 graphs, the dense
// FP32 model is timed beside them as the reference, and every speedup of the table (prediction,
// search, verification) counts from that reference. Against the simulated engine, so the
// expected times are exact.
import { bertConfig } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import {
  calibrateToMembers,
  describeEnvironment,
  exportOptionsFor,
  fp32Environment,
  inferenceEnvironment,
  parseLatencyTable,
  predictRuntime,
  referenceTime,
  searchForSpeedup,
  type LatencyTable,
} from '../src/index.js';
import { buildLatencyTable, timingCheckpoint, timingExportOptions, verifySpeedup } from '../src/measure/index.js';
import { fakeEngine, type GraphInfo } from './fake-runner.js';
import { handTable } from './helpers.js';

const config = bertConfig({ hiddenSize: 16, numHeads: 4, intermediateSize: 32, numLayers: 3, vocabSize: 50, maxPositions: 32 });
const quick = { warmupRuns: 1, minRounds: 4, maxRounds: 8, calibrationModels: 0 };

// Simulated costs (ms): INT8 makes every layer's modules 2.5x cheaper, and leaves the run overhead and
// the embeddings and head (which stay FP32) as they are.
function cost(info: GraphInfo): number {
  const factor = info.precision === 'int8' ? 1 / 2.5 : 1;
  const layers = info.layerHeads.reduce((s, h, l) => s + factor * (0.1 * h + 0.01 * info.layerIntermediate[l]!), 0);
  if (info.kind === 'model') return 0.2 + 1.0 + layers;
  if (info.kind === 'attention') return 0.2 + 0.05 + layers;
  if (info.kind === 'ffn') return 0.2 + layers;
  return 0.2;
}

describe('the INT8 environment', () => {
  it('records its precision, describes it, and exports INT8 graphs; fp32 leaves the field out', () => {
    const env = inferenceEnvironment({ sequenceLength: 8, precision: 'int8-static' });
    expect(env.precision).toBe('int8-static');
    expect(describeEnvironment(env)).toContain('int8-static');
    expect(exportOptionsFor(env)).toEqual({ mode: 'full', quantize: { activations: 'static' } });
    expect(fp32Environment(env)).toEqual(inferenceEnvironment({ sequenceLength: 8 }));
    expect('precision' in inferenceEnvironment({ precision: 'fp32' })).toBe(false);
    expect(() => inferenceEnvironment({ precision: 'int4' as never })).toThrow(/precision/);
  });

  it('static timing graphs get a nominal range for every quantized input', () => {
    const env = inferenceEnvironment({ sequenceLength: 8, precision: 'int8-static' });
    const options = timingExportOptions(config, env);
    expect(options.quantize?.activations).toBe('static');
    expect(options.quantize?.ranges?.size).toBeGreaterThan(0);
    expect(timingExportOptions(config, inferenceEnvironment({ sequenceLength: 8, precision: 'int8-dynamic' })).quantize?.ranges).toBe(
      undefined,
    );
  });
});

describe('an INT8 latency table (simulated engine)', () => {
  for (const precision of ['int8-dynamic', 'int8-static'] as const) {
    it(`${precision}: levels are INT8 times, the reference is the dense FP32 model, speedups count from it`, async () => {
      const env = inferenceEnvironment({ sequenceLength: 8, precision });
      const engine = fakeEngine(cost);
      const table = await buildLatencyTable(config, env, { ...quick, runner: engine.runner, clock: engine.clock });
      expect(parseLatencyTable(JSON.parse(JSON.stringify(table)))).toEqual(table);
      for (const l of table.attention) expect(l.time).toBeCloseTo((0.1 * l.kept) / 2.5, 10);
      const fp32Dense = 1.2 + 3 * (0.4 + 0.32);
      const int8Dense = 1.2 + (3 * (0.4 + 0.32)) / 2.5;
      expect(table.reference!.median).toBeCloseTo(fp32Dense, 10);
      expect(table.dense.median).toBeCloseTo(int8Dense, 10);
      expect(referenceTime(table)).toBe(table.reference!.median);
      // The dense shape in INT8 is already faster than the reference by INT8's own factor.
      const dense = predictRuntime(table, { layerHeads: [4, 4, 4], layerIntermediate: [32, 32, 32] });
      expect(dense.speedup).toBeCloseTo(fp32Dense / int8Dense, 10);
      // A target the INT8 model alone reaches needs no pruning; a larger one is searched against the FP32 time.
      const errors = [0, 1, 2].flatMap((layer) => [
        { layer, module: 'attention' as const, levels: table.attention.map((l) => ({ kept: l.kept, error: 4 - l.kept })) },
        { layer, module: 'ffn' as const, levels: table.ffn.map((l) => ({ kept: l.kept, error: 32 - l.kept })) },
      ]);
      expect(searchForSpeedup(table, errors, { target: 1.2 }).totalError).toBe(0);
      const found = searchForSpeedup(table, errors, { target: 2.5 });
      expect(found.predictedSpeedup).toBeGreaterThanOrEqual(2.5);
      expect(found.predictedTime).toBeLessThanOrEqual(fp32Dense / 2.5 + 1e-12);
      // Graphs are INT8 everywhere but the reference.
      expect([...engine.runs.keys()].filter((k) => !k.endsWith(':int8'))).toEqual(['model:4,4,4|32,32,32']);
    });
  }

  it('verification times the dense model in FP32 and the member in INT8', async () => {
    const env = inferenceEnvironment({ sequenceLength: 8, precision: 'int8-dynamic' });
    const engine = fakeEngine(cost);
    const report = await verifySpeedup({
      dense: timingCheckpoint(config),
      pruned: timingCheckpoint(config),
      env,
      target: 1.5,
      minRounds: 4,
      maxRounds: 4,
      runner: engine.runner,
      clock: engine.clock,
      machineLoad: () => ({ loadAverage: 0, cores: 2 }),
    });
    // The same weights, INT8 against FP32: INT8's own speedup.
    expect(report.measured).toBeCloseTo((1.2 + 3 * 0.72) / (1.2 + (3 * 0.72) / 2.5), 10);
    expect(report.status).toBe('pass');
  });
});

describe('the INT8 table file', () => {
  const fp32 = handTable({ numLayers: 1, numHeads: 2, intermediateSize: 4, attention: { 2: 1 }, ffn: { 4: 1 }, dense: 3, nonPrunable: 1 });
  const summary = { median: 6, dispersion: 0.01, relativeError: 0.002, samples: 20 };
  const int8: LatencyTable = { ...fp32, environment: { ...fp32.environment, precision: 'int8-dynamic' }, reference: summary };

  it('reads back; speedups count from the reference', () => {
    expect(parseLatencyTable(JSON.parse(JSON.stringify(int8)))).toEqual(int8);
    expect(predictRuntime(int8, { layerHeads: [2], layerIntermediate: [4] }).speedup).toBeCloseTo(2, 12);
  });

  it('members measured against the FP32 reference are what the INT8 table predicts: calibration finds nothing to correct', () => {
    const table = handTable({
      numLayers: 2,
      numHeads: 4,
      intermediateSize: 8,
      attention: { 4: 4, 2: 2.3 },
      ffn: { 8: 6, 4: 3.1 },
      dense: 22,
      nonPrunable: 2,
    });
    const int8Table: LatencyTable = {
      ...table,
      environment: { ...table.environment, precision: 'int8-dynamic' },
      reference: { ...summary, median: 55 },
    };
    const shapes = [
      { layerHeads: [4, 2], layerIntermediate: [8, 4] },
      { layerHeads: [2, 2], layerIntermediate: [4, 4] },
      { layerHeads: [4, 0], layerIntermediate: [8, 0] },
      { layerHeads: [2, 0], layerIntermediate: [4, 8] },
    ];
    const members = shapes.map((shape) => ({ ...shape, measuredSpeedup: predictRuntime(int8Table, shape).speedup }));
    const calibration = calibrateToMembers(int8Table, members);
    expect(calibration.uncalibratedError).toBeLessThan(1e-12);
    expect(calibration.model).toBe('none');
  });

  it('an INT8 table without a reference, or an FP32 table with one, is refused naming the field', () => {
    const { reference: _r, ...missing } = int8;
    expect(() => parseLatencyTable(JSON.parse(JSON.stringify(missing)), 't.json')).toThrow(/reference.*is missing/);
    expect(() => parseLatencyTable(JSON.parse(JSON.stringify({ ...fp32, reference: summary })), 't.json')).toThrow(/reference.*absent/);
    expect(() => parseLatencyTable(JSON.parse(JSON.stringify({ ...int8, reference: { ...summary, median: 0 } })))).toThrow(/reference/);
    expect(() =>
      parseLatencyTable(JSON.parse(JSON.stringify({ ...int8, environment: { ...int8.environment, precision: 'fp32' } }))),
    ).toThrow(/precision/);
  });
});
