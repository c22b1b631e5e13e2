// Table building and verification against a simulated engine (exact, deterministic). The real
// onnxruntime path is exercised in measure.test.ts.
import { ffnLevels } from '@ziplm/hessian';
import { bertConfig, gpt2Config } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { inferenceEnvironment, parseLatencyTable, predictRuntime } from '../src/index.js';
import { buildLatencyTable, timingCheckpoint, verifySpeedup, verifySpeedups } from '../src/measure/index.js';
import { InterleavedTimer } from '../src/measure/protocol.js';
import { fakeEngine, type GraphInfo } from './fake-runner.js';

const config = bertConfig({ hiddenSize: 16, numHeads: 4, intermediateSize: 32, numLayers: 3, vocabSize: 50, maxPositions: 32 });
const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 8 });

// Simulated costs (ms): a run costs 0.2; the model's embeddings and head 1.0; per layer
// 0.1 per head and 0.01 per neuron; an isolated attention block also prepares its mask (0.05).
function cost(info: GraphInfo): number {
  const layers = info.layerHeads.reduce((s, h, l) => s + 0.1 * h + 0.01 * info.layerIntermediate[l]!, 0);
  if (info.kind === 'model') return 0.2 + 1.0 + layers;
  if (info.kind === 'attention') return 0.2 + 0.05 + layers;
  if (info.kind === 'ffn') return 0.2 + layers;
  return 0.2; // pass-through
}

const quick = { warmupRuns: 1, minRounds: 4, maxRounds: 8 };

describe('buildLatencyTable (simulated engine)', () => {
  it('model context: level times are exact per-layer costs, and the runtime model adds up', async () => {
    const engine = fakeEngine(cost);
    const table = await buildLatencyTable(config, env, { ...quick, runner: engine.runner, clock: engine.clock });
    expect(parseLatencyTable(JSON.parse(JSON.stringify(table)))).toEqual(table); // schema-valid
    expect(table.blockTiming).toMatchObject({ context: 'model', layers: 3 });
    expect(table.attention.map((l) => l.kept)).toEqual([4, 3, 2, 1, 0]);
    expect(table.ffn.map((l) => l.kept)).toEqual(ffnLevels(32));
    for (const l of table.attention) expect(l.time).toBeCloseTo(0.1 * l.kept, 10);
    for (const l of table.ffn) expect(l.time).toBeCloseTo(0.01 * l.kept, 10);
    expect(table.nonPrunable.median).toBeCloseTo(1.2, 10);
    expect(table.dense.median).toBeCloseTo(1.2 + 3 * (0.4 + 0.32), 10);
    expect(table.build!.additivity!.residual).toBeCloseTo(0, 10);
    expect(table.build!.monotonicity).toEqual([]);
    expect(table.build!.rounds).toEqual({ min: 4, max: 4 });
    // The context models were timed, not isolated blocks.
    expect([...engine.runs.keys()].some((k) => k.startsWith('attention:'))).toBe(false);
    const p = predictRuntime(table, { layerHeads: [4, 0, 2], layerIntermediate: [32, 8, 0] });
    expect(p.time).toBeCloseTo(1.2 + 0.4 + 0.32 + 0.08 + 0.2, 10);
  });

  it('isolated context: block times minus the pass-through overhead', async () => {
    const engine = fakeEngine(cost);
    const table = await buildLatencyTable(config, env, { ...quick, context: 'isolated', runner: engine.runner, clock: engine.clock });
    expect(table.blockTiming.context).toBe('isolated');
    if (table.blockTiming.context === 'isolated') {
      expect(table.blockTiming.overhead.attention).toBeCloseTo(0.2, 10);
      expect(table.blockTiming.overhead.ffn).toBeCloseTo(0.2, 10);
    }
    // The isolated attention block still carries its own mask preparation (0.05): the bias that
    // context 'model' avoids.
    for (const l of table.attention.filter((x) => x.kept > 0)) expect(l.time).toBeCloseTo(0.1 * l.kept + 0.05, 10);
    for (const l of table.ffn) expect(l.time).toBeCloseTo(0.01 * l.kept, 10);
    expect(table.build!.additivity!.residual).toBeCloseTo((1.2 + 3 * 0.72) / (1.2 + 3 * 0.77) - 1, 10);
  });

  it('calibrateToDense scales level times so the dense model is reproduced exactly', async () => {
    // The 3-layer model's layers cost 10% more than in the 1-layer context models.
    const deeper = (info: GraphInfo) =>
      info.kind === 'model' && info.layerHeads.length === 3 ? 1.2 + 1.1 * (cost(info) - 1.2) : cost(info);
    const plain = fakeEngine(deeper);
    const t1 = await buildLatencyTable(config, env, {
      ...quick,
      contextLayers: 1,
      calibrationModels: 0,
      runner: plain.runner,
      clock: plain.clock,
    });
    expect(t1.build!.additivity!.residual).toBeCloseTo((1.2 + 1.1 * 3 * 0.72) / (1.2 + 3 * 0.72) - 1, 10);
    expect(t1.blockTiming.scale).toBe(1);
    const calibrated = fakeEngine(deeper);
    const t2 = await buildLatencyTable(config, env, {
      ...quick,
      contextLayers: 1,
      calibrateToDense: true,
      runner: calibrated.runner,
      clock: calibrated.clock,
    });
    expect(t2.blockTiming.scale).toBeCloseTo(1.1, 10);
    expect(t2.build!.additivity!.residual).toBeCloseTo(t1.build!.additivity!.residual, 10); // recorded before scaling
    expect(predictRuntime(t2, { layerHeads: [4, 4, 4], layerIntermediate: [32, 32, 32] }).time).toBeCloseTo(t2.dense.median, 10);
    expect(t2.attention[1]!.time).toBeCloseTo(1.1 * 0.3, 10);
  });

  it('whole-model calibration recovers a scale and a fixed cost per module that the context models miss', async () => {
    // In the 3-layer models every present module costs 5% more plus 0.05 ms; the 1-layer context
    // models do not show it.
    const whole = (info: GraphInfo) => {
      if (info.kind !== 'model' || info.layerHeads.length !== 3) return cost(info);
      const modules = info.layerHeads.reduce(
        (s, h, l) =>
          s + (h > 0 ? 1.05 * 0.1 * h + 0.05 : 0) + (info.layerIntermediate[l]! > 0 ? 1.05 * 0.01 * info.layerIntermediate[l]! + 0.05 : 0),
        0,
      );
      return 1.2 + modules;
    };
    const engine = fakeEngine(whole);
    const table = await buildLatencyTable(config, env, { ...quick, contextLayers: 1, runner: engine.runner, clock: engine.clock });
    const c = table.build!.calibration!;
    expect(c.applied).toBe(true);
    expect(c.points).toHaveLength(1 + 6); // the dense model and the calibration models
    expect(table.blockTiming.scale).toBeCloseTo(1.05, 8);
    expect(table.blockTiming.offset).toBeCloseTo(0.05, 8);
    expect(c.uncalibratedError).toBeGreaterThan(0.01);
    expect(c.error).toBeLessThan(1e-9);
    expect(table.attention[1]!.time).toBeCloseTo(1.05 * 0.3 + 0.05, 8);
    expect(table.ffn.at(-1)).toEqual({ kept: 0, time: 0 }); // a removed module still costs nothing
    expect(parseLatencyTable(JSON.parse(JSON.stringify(table)))).toEqual(table);
    // Any pruned shape is now predicted exactly.
    const shape = { layerHeads: [4, 0, 1], layerIntermediate: [8, 32, 0] };
    const truth = whole({ kind: 'model', ...shape, vocabSize: 50, precision: 'fp32' });
    expect(predictRuntime(table, shape).time).toBeCloseTo(truth, 8);
    await expect(buildLatencyTable(config, env, { calibrationModels: -1, runner: engine.runner })).rejects.toThrow(
      /calibrationModels must be an integer >= 0/,
    );
  });

  it('re-measures a transient monotonicity violation and reports it resolved', async () => {
    // The 3-head context model is slower than the 4-head one for its first 9 runs (1 warm-up + 4
    // timed visits of 2 runs each).
    const engine = fakeEngine((info, run) =>
      info.kind === 'model' && info.layerHeads[0] === 3 && info.layerIntermediate[0] === 0 && run < 9 ? cost(info) + 1 : cost(info),
    );
    const table = await buildLatencyTable(config, env, { ...quick, runner: engine.runner, clock: engine.clock, remeasureRounds: 8 });
    expect(table.build!.monotonicity).toEqual([{ module: 'attention', smaller: 3, larger: 4, resolved: true }]);
    expect(table.attention.find((l) => l.kept === 3)!.time).toBeCloseTo(0.3, 10);
  });

  it('reports a persistent violation, and enforces monotonicity only on request', async () => {
    const slow = (info: GraphInfo) =>
      info.kind === 'model' && info.layerHeads[0] === 0 && info.layerIntermediate[0] === 8 ? cost(info) + 0.6 : cost(info);
    const e1 = fakeEngine(slow);
    const t1 = await buildLatencyTable(config, env, {
      ...quick,
      calibrationModels: 0,
      runner: e1.runner,
      clock: e1.clock,
      ffnLevels: [32, 16, 8, 0],
    });
    expect(t1.build!.monotonicity).toEqual([{ module: 'ffn', smaller: 8, larger: 16, resolved: false }]);
    expect(t1.ffn.map((l) => l.kept)).toEqual([32, 16, 8, 0]);
    expect(t1.ffn[2]!.time).toBeCloseTo(0.08 + 0.2, 10); // kept as measured
    const e2 = fakeEngine(slow);
    const t2 = await buildLatencyTable(config, env, {
      ...quick,
      calibrationModels: 0,
      runner: e2.runner,
      clock: e2.clock,
      ffnLevels: [32, 16, 8, 0],
      enforceMonotonicity: true,
    });
    expect(t2.ffn[1]!.time).toBeCloseTo(t2.ffn[2]!.time, 10); // pooled
    expect(t2.ffn[1]!.time).toBeGreaterThan(0.16);
  });

  it('builds a generation-mode table for GPT2 (KV cache inputs resolved from the environment)', async () => {
    const gpt2 = gpt2Config({
      hiddenSize: 16,
      numHeads: 2,
      intermediateSize: 16,
      numLayers: 2,
      vocabSize: 40,
      maxPositions: 64,
      bosTokenId: 0,
      eosTokenId: 0,
    });
    const genEnv = inferenceEnvironment({ mode: 'generation', pastLength: 10 });
    const engine = fakeEngine(cost);
    const table = await buildLatencyTable(gpt2, genEnv, { ...quick, runner: engine.runner, clock: engine.clock });
    expect(table.environment.mode).toBe('generation');
    expect(table.attention.map((l) => [l.kept, Number(l.time.toFixed(10))])).toEqual([
      [2, 0.2],
      [1, 0.1],
      [0, 0],
    ]);
    await expect(buildLatencyTable(config, genEnv, { runner: engine.runner })).rejects.toThrow(/needs a decoder \(GPT2 or LLaMA\)/);
  });

  it('renews every session every renewSessionsEvery rounds and keeps exact times', async () => {
    const engine = fakeEngine(cost);
    let created = 0;
    let released = 0;
    const runner = {
      ...engine.runner,
      async createSession(bytes: Uint8Array, e: typeof env) {
        created++;
        const session = await engine.runner.createSession(bytes, e);
        return { ...session, bind: session.bind, run: session.run, release: async () => void released++ };
      },
    };
    const table = await buildLatencyTable(config, env, {
      ...quick,
      minRounds: 5,
      maxRounds: 5,
      renewSessionsEvery: 2,
      calibrationModels: 0,
      runner,
      clock: engine.clock,
    });
    const graphs = 3 + 4 + ffnLevels(32).length - 1; // dense, empty, empty context; attention 4..1; FFN levels > 0
    expect(created).toBe(3 * graphs); // opened, renewed before rounds 2 and 4
    expect(released).toBe(created);
    expect(table.build!.renewSessionsEvery).toBe(2);
    for (const l of table.attention) expect(l.time).toBeCloseTo(0.1 * l.kept, 10);
    await expect(buildLatencyTable(config, env, { renewSessionsEvery: -1, runner })).rejects.toThrow(
      /renewSessionsEvery must be an integer >= 0/,
    );
  });

  it('rejects a pruned checkpoint as the dense reference', async () => {
    const pruned = timingCheckpoint(bertConfig({ ...config, layerHeads: [4, 2, 4], layerIntermediate: [32, 32, 32] }));
    await expect(buildLatencyTable(config, env, { checkpoint: pruned, runner: fakeEngine(cost).runner })).rejects.toThrow(
      /must be the dense model/,
    );
  });
});

describe('InterleavedTimer', () => {
  it('times only the last run of each visit (warm), and pairs comparisons by round', async () => {
    let now = 0;
    let round = 0;
    const last = new Map<string, number>();
    // The machine slows down by 10% per round; the first run after another configuration is cold (+1 ms).
    const timer = new InterleavedTimer({ warmupRuns: 0, minRounds: 6, maxRounds: 6, visitRuns: 2, anchors: ['base'], clock: () => now });
    let previous = '';
    const work = (id: string, ms: number) => async () => {
      const factor = 1 + 0.1 * round;
      now += ms * factor + (previous === id ? 0 : 1);
      previous = id;
      last.set(id, round);
    };
    timer.add('base', work('base', 4));
    timer.add('half', work('half', 2));
    timer.add('noted', work('noted', 3));
    const origRounds = timer.rounds.bind(timer);
    for (let r = 0; r < 6; r++) {
      round = r;
      await origRounds(1, ['half', 'noted']);
    }
    expect(timer.summary('half').samples).toBe(6);
    // No cold cost in any timed sample.
    timer.samplesOf('half').forEach((t, r) => {
      expect(t).toBeCloseTo(2 * (1 + 0.1 * r), 10);
    });
    // The anchor ran in every round although not asked for; per-round ratios cancel the drift.
    expect(timer.summary('base').samples).toBe(6);
    const ratio = timer.paired('half', 'base', 'ratio');
    expect(ratio.median).toBeCloseTo(2, 10);
    expect(ratio.dispersion).toBeCloseTo(0, 10);
    expect(ratio.samples).toBe(6);
    expect(timer.paired('noted', 'base', 'difference').median).toBeCloseTo(-1 * (1 + 0.1 * 2.5), 10);
    expect(() => new InterleavedTimer({ visitRuns: 0 })).toThrow(/visitRuns must be an integer >= 1/);
  });

  it('gives extra rounds only to imprecise configurations, up to maxRounds', async () => {
    let now = 0;
    const timer = new InterleavedTimer({ warmupRuns: 0, minRounds: 5, maxRounds: 12, precision: 0.01, clock: () => now });
    let i = 0;
    timer.add('steady', async () => {
      now += 1;
    });
    timer.add('noisy', async () => {
      now += 1 + (i++ % 5) * 0.1;
    });
    const remeasured = await timer.untilPrecise();
    expect(remeasured).toEqual(['noisy']);
    expect(timer.summary('steady').samples).toBe(5);
    expect(timer.summary('noisy').samples).toBe(12);
    expect(timer.summary('steady')).toMatchObject({ median: 1, dispersion: 0 });
  });

  it('stops adaptive rounds when the time budget is spent', async () => {
    let now = 0;
    const timer = new InterleavedTimer({
      warmupRuns: 0,
      minRounds: 3,
      maxRounds: 100,
      precision: 0.001,
      timeBudgetMs: 20,
      clock: () => now,
    });
    let i = 0;
    timer.add('noisy', async () => {
      now += i++ % 3 === 0 ? 1 : 3;
    });
    await timer.untilPrecise();
    expect(timer.summary('noisy').samples).toBeLessThan(15);
  });

  it('shuffles the order within a round, deterministically for a seed', async () => {
    const orders: string[][] = [];
    for (let rep = 0; rep < 2; rep++) {
      const order: string[] = [];
      const timer = new InterleavedTimer({ warmupRuns: 0, seed: 3 });
      for (const id of ['a', 'b', 'c', 'd']) timer.add(id, async () => void order.push(id));
      await timer.rounds(5);
      orders.push(order);
    }
    expect(orders[0]).toEqual(orders[1]);
    const rounds = Array.from({ length: 5 }, (_, r) => orders[0]!.slice(4 * r, 4 * r + 4).join(''));
    expect(new Set(rounds).size).toBeGreaterThan(1);
    for (const r of rounds) expect([...r].sort().join('')).toBe('abcd');
  });
});

describe('verifySpeedup (simulated engine)', () => {
  it('reports measured vs target and predicted speedup with a pass/fail status', async () => {
    const engine = fakeEngine(cost);
    const table = await buildLatencyTable(config, env, { ...quick, runner: engine.runner, clock: engine.clock });
    const [a, b] = [table.ffn[3]!.kept, table.ffn[6]!.kept];
    const pruned = timingCheckpoint(bertConfig({ ...config, layerHeads: [2, 0, 1], layerIntermediate: [a, b, 0] }));
    const predicted = predictRuntime(table, pruned.config).speedup;
    const dense = timingCheckpoint(config);
    const report = await verifySpeedup({
      dense,
      pruned,
      env,
      target: 2,
      predicted,
      table,
      ...quick,
      runner: engine.runner,
      clock: engine.clock,
    });
    expect(report.measured).toBeCloseTo(predicted, 10); // the simulated engine is exactly additive
    expect(report.predictionError).toBeCloseTo(0, 10);
    expect(report.deviation).toBeCloseTo(predicted / 2 - 1, 10);
    expect(report.status).toBe(predicted >= 2 * 0.98 ? 'pass' : 'fail');
    expect(report.denseDrift).toBeCloseTo(0, 10);
    const fail = await verifySpeedup({
      dense,
      pruned,
      env,
      target: predicted * 1.05,
      ...quick,
      runner: engine.runner,
      clock: engine.clock,
    });
    expect(fail.status).toBe('fail');
    expect(fail.message).toMatch(/FAIL \(short of the target by more than 2\.0%\)/);
    const pass = await verifySpeedup({
      dense,
      pruned,
      env,
      target: predicted * 1.015,
      ...quick,
      runner: engine.runner,
      clock: engine.clock,
    });
    expect(pass.status).toBe('pass');
    // A table's predictions only hold in its own environment.
    const other = inferenceEnvironment({ mode: 'latency', sequenceLength: 16 });
    await expect(
      verifySpeedup({ dense, pruned, env: other, target: 2, table, ...quick, runner: engine.runner, clock: engine.clock }),
    ).rejects.toThrow(/measured in another environment \(sequenceLength: table 8, now 16\)/);
  });

  it('verifies a family of targets against one dense model in one protocol', async () => {
    const engine = fakeEngine(cost);
    const dense = timingCheckpoint(config);
    const small = timingCheckpoint(bertConfig({ ...config, layerHeads: [1, 1, 0], layerIntermediate: [0, 0, 0] }));
    const mid = timingCheckpoint(bertConfig({ ...config, layerHeads: [4, 4, 4], layerIntermediate: [0, 0, 0] }));
    const reports = await verifySpeedups({
      dense,
      env,
      ...quick,
      runner: engine.runner,
      clock: engine.clock,
      candidates: [
        { model: small, target: 2 },
        { model: mid, target: 2 },
      ],
    });
    const denseTime = 1.2 + 3 * 0.72;
    expect(reports[0]!.measured).toBeCloseTo(denseTime / (1.2 + 0.2), 10);
    expect(reports[1]!.measured).toBeCloseTo(denseTime / (1.2 + 1.2), 10);
    expect(reports.map((r) => r.status)).toEqual(['pass', 'fail']);
    expect(reports[0]!.predictionError).toBeUndefined();
    // The dense model ran once per round for both candidates (a warm-up run, then visits of 2 runs).
    expect(engine.runs.get('model:4,4,4|32,32,32')).toBe(2 * reports[0]!.dense.samples + 1);
  });
});
