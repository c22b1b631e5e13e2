// "Verify in this browser" (issue 17), run in Node: onnxruntime-web's wasm backend runs here too, so
// `verifySpeedupsInBrowser` re-times two pruned members of the built-in tiny-bert exactly as a page
// would (ONNX bytes in, reports out), and onnxruntime-node's `verifySpeedups` times the same graphs for
// comparison: with the same onnxruntime-web runner (the same protocol on the same engine: the speedups
// are printed; they agree exactly on the simulated engine at the end) and with onnxruntime-node (another engine: its speedups are printed, not
// compared; they differ, which is why browser tables exist). Timing on this shared 2-core machine is
// noisy, so the test checks the reports' logic, never a verdict the machine's load could flip. Graphs of another workload or model are refused before any
// timing.
import type { Checkpoint } from '@ziplm/models';
import { bertConfig, builtinModelDir, exportModelToOnnx, loadModelCheckpoint, shrinkWeights } from '@ziplm/models';
import { GraphBuilder } from '@ziplm/onnx';
import { describe, expect, it } from 'vitest';
import {
  type BrowserVerificationReport,
  createOrtWebRunner,
  type OrtWebModule,
  verifySpeedupsInBrowser,
  type VerifyProgress,
} from '../src/browser/index.js';
import { inferenceEnvironment, type LatencyTable, predictRuntime } from '../src/index.js';
import { planLatencyTable, timingCheckpoint, timingExportOptions, verifySpeedups } from '../src/measure/index.js';
import { fakeOrtWeb } from './fake-runner.js';
import { handTable } from './helpers.js';

// onnxruntime-web is a devDependency of @ziplm/latency for these tests only; the page passes its own.
// Imported by a computed specifier so that the package's type check does not depend on it.
const ORT_WEB = 'onnxruntime-web';
const ortWeb = await import(ORT_WEB).then(
  (module: OrtWebModule) => module,
  () => undefined,
);

const { checkpoint: dense } = await loadModelCheckpoint(builtinModelDir('tiny-bert'));
// Batch 1 at the model's longest sequence: the most work per run the tiny model offers (steadier ratios).
const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 128, threads: 1 });
const webEnv = { ...env, engine: 'onnxruntime-web' as const, backend: 'wasm' as const };
const graphOf = (checkpoint: Checkpoint) => exportModelToOnnx(checkpoint, timingExportOptions(checkpoint.config, env));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const L = dense.config.numLayers;

// Two members: half of every module, and a deep cut (one head, 24 neurons, two attention modules removed).
const halfShapes = { heads: range(L).map(() => range(3)), neurons: range(L).map(() => range(96)) };
const deepShapes = { heads: range(L).map((l) => (l < 2 ? [0] : [])), neurons: range(L).map(() => range(24)) };
const denseGraph = graphOf(dense);
const members = [
  { name: 'half', target: 1.5, graph: graphOf(shrinkWeights(dense, halfShapes)) },
  { name: 'deep', target: 2.5, graph: graphOf(shrinkWeights(dense, deepShapes)) },
];
const ROUNDS = 30;

/** A table "measured in this browser" for tiny-bert (hand-made times: these tests check predictions and refusals, not the times). */
function browserTable(): LatencyTable {
  const table = handTable({
    numLayers: L,
    numHeads: 6,
    intermediateSize: 192,
    attention: { 6: 0.3, 3: 0.18, 1: 0.1 },
    ffn: { 192: 0.4, 96: 0.22, 24: 0.08 },
    dense: 3.2,
    nonPrunable: 0.4,
  });
  return { ...table, environment: webEnv, model: { ...table.model, hiddenSize: 48, vocabSize: 1024 } };
}

function expectWellFormed(report: BrowserVerificationReport): void {
  const [low, high] = report.interval;
  expect(low).toBeLessThanOrEqual(report.measured);
  expect(report.measured).toBeLessThanOrEqual(high);
  const bound = report.target * (1 - report.tolerance);
  // The verdict is the interval's position against the bound, whatever the machine did.
  expect(report.status).toBe(high < bound ? 'fail' : low < bound ? 'inconclusive' : 'pass');
  expect(report.reasons.length === 0).toBe(report.status === 'pass');
  expect(report.message).toMatch(
    new RegExp(`^target ${report.target.toFixed(2)}x, measured ${report.measured.toFixed(3)}x .*: (PASS|FAIL|INCONCLUSIVE)`),
  );
  // No load average in a page: an uncertain verdict never claims a quiet machine.
  if (report.status === 'inconclusive' && report.reasons.length === 2)
    expect(report.reasons[1]).toMatch(/^no drift was seen \(this runtime does not report the machine's load\)/);
  expect(report.pruned.samples).toBe(ROUNDS);
  expect(report.dense.samples).toBe(ROUNDS);
}

describe.skipIf(ortWeb === undefined)('verifySpeedupsInBrowser with onnxruntime-web (wasm, Node)', () => {
  it('re-times two tiny-bert members: well-formed verdicts, speedups that agree with verifySpeedups on the same engine', async () => {
    const phases = new Set<VerifyProgress['phase']>();
    const web = await verifySpeedupsInBrowser({
      dense: denseGraph,
      members,
      environment: env,
      ort: ortWeb!,
      backend: 'wasm',
      rounds: ROUNDS,
      onProgress: (p) => phases.add(p.phase),
    });
    expect(web.map((r) => r.name)).toEqual(['half', 'deep']);
    expect([...phases]).toEqual(['prepare', 'warmup', 'rounds']);
    for (const report of web) {
      expectWellFormed(report);
      expect(report.environment).toEqual(webEnv);
      // Node's performance.now() resolves far below 1 µs: one run per sample.
      expect(report.timer.resolutionMs).toBeLessThan(0.01);
      expect(report.timer.runsPerSample).toBe(1);
      expect(report.predicted).toBeUndefined();
    }

    // Parity of the two paths: Node's `verifySpeedups` with the same onnxruntime-web runner times the
    // same graphs through the same protocol, so the speedups agree up to this machine's noise.
    const graphs = {
      dense: { onnx: denseGraph, vocabSize: dense.config.vocabSize },
      candidates: members.map((m) => ({ model: { onnx: m.graph, vocabSize: dense.config.vocabSize }, target: m.target })),
      minRounds: ROUNDS,
      maxRounds: ROUNDS,
    };
    const sameEngine = await verifySpeedups({
      ...graphs,
      env: webEnv,
      runner: createOrtWebRunner({ ort: ortWeb!, backend: 'wasm' }),
      // A page cannot collect garbage between runs; Node's default young-generation collection is left out here too.
      beforeTimedRun: () => {},
    });
    // onnxruntime-node on the same graphs: another engine, whose speedups may differ (that is why a browser table exists).
    const native = await verifySpeedups({ ...graphs, env });
    const rows = web.map((w, i) => ({ name: w.name, web: w.measured, sameEngine: sameEngine[i]!.measured, native: native[i]!.measured }));
    console.info(
      `tiny-bert members, batch 1 × 128, 1 thread, ${ROUNDS} rounds (dense: wasm ${web[0]!.dense.median.toFixed(3)} ms, ` +
        `onnxruntime-node ${native[0]!.dense.median.toFixed(3)} ms): ` +
        rows
          .map(
            (r) =>
              `${r.name} verifySpeedupsInBrowser ${r.web.toFixed(3)}x, verifySpeedups on wasm ${r.sameEngine.toFixed(3)}x, on onnxruntime-node ${r.native.toFixed(3)}x`,
          )
          .join('; '),
    );
    // The two paths' figures are printed, not compared: they are two separate timings on a shared 2-core
    // machine (measured: within 3-10% when this file ran alone, 34% and 60% apart under CI's parallel test
    // load), so no bound separates a real difference from load. The exact parity of the two paths is the
    // simulated-engine test below, where timing is deterministic.
    // Every engine sees the pruned models faster, the deep cut faster than the half one.
    for (const reports of [web, sameEngine, native]) {
      expect(reports[0]!.measured).toBeGreaterThan(1);
      expect(reports[1]!.measured).toBeGreaterThan(reports[0]!.measured);
    }
  }, 120_000);

  it('with a table measured in this browser: predicts each member from the sizes in its graph, and reports the drift', async () => {
    const table = browserTable();
    const [report] = await verifySpeedupsInBrowser({
      dense: denseGraph,
      members: [members[0]!],
      table,
      ort: ortWeb!,
      rounds: 6,
      warmupRuns: 1,
    });
    expect(report!.environment).toEqual(webEnv);
    const layerHeads = new Array<number>(L).fill(3);
    const layerIntermediate = new Array<number>(L).fill(96);
    expect(report!.predicted).toBeCloseTo(predictRuntime(table, { layerHeads, layerIntermediate }).speedup, 12);
    expect(report!.predictionError).toBeCloseTo(report!.measured / report!.predicted! - 1, 12);
    expect(report!.denseDrift).toBeCloseTo(report!.dense.median / table.dense.median - 1, 12);
    expect(report!.message).toMatch(/, predicted \d\.\d{3}x \(measured\/predicted [+-]\d/);
  }, 60_000);

  it('refuses, before timing, graphs of another workload or model and tables of another environment', async () => {
    const base = { dense: denseGraph, ort: ortWeb!, environment: env, rounds: 6 } as const;
    // An INT8 member in an FP32 verification.
    const int8 = exportModelToOnnx(shrinkWeights(dense, halfShapes), { mode: 'full', quantize: { activations: 'dynamic' } });
    await expect(verifySpeedupsInBrowser({ ...base, members: [{ name: 'int8', target: 2, graph: int8 }] })).rejects.toThrow(
      'member "int8" is an int8-dynamic graph, but this verification times fp32 graphs here',
    );
    await expect(
      verifySpeedupsInBrowser({ ...base, members: [{ name: 'junk', target: 2, graph: new Uint8Array([0xff, 0xff]) }] }),
    ).rejects.toThrow(/^member "junk" is not an ONNX model \(truncated varint\)$/);
    // A member of another model: tiny-gpt2.
    const { checkpoint: gpt2 } = await loadModelCheckpoint(builtinModelDir('tiny-gpt2'));
    await expect(
      verifySpeedupsInBrowser({ ...base, members: [{ name: 'gpt2', target: 2, graph: exportModelToOnnx(gpt2, { mode: 'full' }) }] }),
    ).rejects.toThrow(/^member "gpt2" is not a pruned copy of the dense model \(modelType: member "gpt2", dense model "bert"/);
    // A block graph of a latency plan (`ziplm latency --export-levels`).
    const planned = planLatencyTable(dense.config, env, { context: 'isolated', calibrationModels: 0 });
    const block = planned.plan.graphs.find((g) => g.id === 'attention:3')!;
    await expect(
      verifySpeedupsInBrowser({ ...base, members: [{ name: 'block', target: 2, graph: planned.graphBytes(block) }] }),
    ).rejects.toThrow('member "block" is a single attention block graph (a latency plan\'s level), not a whole model');
    // A graph with no ziplm metadata: its inputs are checked once its session is open.
    const g = new GraphBuilder('foreign');
    g.output(g.op('Identity', [g.input('input_ids', 'int64', ['batch', 'sequence'])]), 'int64', ['batch', 'sequence'], 'logits');
    await expect(verifySpeedupsInBrowser({ ...base, members: [{ name: 'foreign', target: 2, graph: g.toBytes() }] })).rejects.toThrow(
      /^member "foreign" takes the inputs \(input_ids: int64\[2\]\), the dense model \(input_ids: int64\[2\], attention_mask: int64\[2\], token_type_ids: int64\[2\]\): a graph of another model or workload$/,
    );
    // Tables: one measured by onnxruntime-node, one of another model (hidden size 64).
    const table = browserTable();
    await expect(
      verifySpeedupsInBrowser({ dense: denseGraph, ort: ortWeb!, members, table: { ...table, environment: env } }),
    ).rejects.toThrow(
      /^the latency table was measured in another environment \(engine: table "onnxruntime-node", this page "onnxruntime-web"; /,
    );
    await expect(
      verifySpeedupsInBrowser({ dense: denseGraph, ort: ortWeb!, members, table: { ...table, model: { ...table.model, hiddenSize: 64 } } }),
    ).rejects.toThrow("the dense model is not the latency table's model (hiddenSize: dense model 48, table 64)");
    await expect(verifySpeedupsInBrowser({ ...base, members, rounds: 5 })).rejects.toThrow(/rounds must be an integer >= 6/);
  }, 60_000);
});

describe('verifySpeedupsInBrowser and verifySpeedups: one timing and one verdict', () => {
  it('give the same reports on the simulated engine (exact: same protocol, same ratios, same words)', async () => {
    const config = bertConfig({ hiddenSize: 16, numHeads: 4, intermediateSize: 32, numLayers: 3, vocabSize: 50, maxPositions: 32 });
    const small = inferenceEnvironment({ mode: 'latency', sequenceLength: 8, threads: 1 });
    const exportFor = (c: typeof config) => exportModelToOnnx(timingCheckpoint(c), timingExportOptions(c, small));
    const denseBytes = exportFor(config);
    const prunedBytes = exportFor(bertConfig({ ...config, layerHeads: [2, 2, 2], layerIntermediate: [16, 16, 16] }));
    // The pruned model's runs vary by ±8% in a fixed cycle (a non-degenerate interval); a nominal 2x.
    const cycle = [1, 0.92, 1.08, 0.96, 1.04, 0.94, 1.06, 0.98, 1.02];
    const time = (info: { layerHeads: number[] }, run: number) =>
      info.layerHeads.every((h) => h === 4) ? 3.36 : 1.68 * cycle[run % cycle.length]!;
    const targets = [1.7, 2.3]; // a pass and a fail whatever the engine: the verdicts do not depend on a load reading

    const page = fakeOrtWeb(time);
    const web = await verifySpeedupsInBrowser({
      dense: denseBytes,
      members: targets.map((target) => ({ name: `${target}x`, target, graph: prunedBytes })),
      environment: small,
      ort: page.ort,
      runsPerSample: 1,
      rounds: 20,
      clock: page.clock,
    });
    const node = fakeOrtWeb(time);
    const reports = await verifySpeedups({
      dense: { onnx: denseBytes, vocabSize: config.vocabSize },
      candidates: targets.map((target) => ({ model: { onnx: prunedBytes, vocabSize: config.vocabSize }, target })),
      env: { ...small, engine: 'onnxruntime-web', backend: 'wasm' },
      runner: createOrtWebRunner({ ort: node.ort, backend: 'wasm' }),
      minRounds: 20,
      maxRounds: 20,
      clock: node.clock,
      beforeTimedRun: () => {},
      machineLoad: () => ({ loadAverage: 0, cores: 2 }),
    });
    expect(web.map((r) => r.status)).toEqual(['pass', 'fail']);
    web.forEach(({ name: _name, environment: _environment, timer, ...report }, i) => {
      expect(report).toEqual(reports[i]);
      expect(timer).toEqual({ resolutionMs: expect.closeTo(1e-6, 9), runsPerSample: 1 });
    });
  });
});
