// Measuring a latency plan (plan.ts) and assembling the table (guide/latency.md). The engine is a
// SessionRunner and the graphs come from a loader, so the same code runs under onnxruntime-node
// (`buildLatencyTable`: the plan's graphs exported in memory) and onnxruntime-web
// (`@ziplm/latency/browser`: the graphs of `ziplm latency --export-levels`). No `node:` imports and
// no runtime import of @ziplm/models: this module is part of the browser entry.
//
// Everything is timed in ONE interleaved protocol (protocol.ts), so drift and slow stretches of a
// shared machine hit every entry alike:
// - `model:dense`: the whole dense model; `model:empty`: the whole model with every attention and FFN
//   module removed (embeddings, mask preparation, heads: the original's `base − prunable`);
// - one entry per attention head count and per FFN level of the grids. All layers share a shape, so
//   each level is timed once. Two ways (`context`, see `BlockTiming` in table.ts):
//   - 'model' (default): the level inside an R-layer model (every layer at that level, the other
//     module removed), minus the R-layer empty model (`context:empty`), divided by R;
//   - 'isolated': the single-block graph minus the per-run cost of a pass-through graph with the
//     block's inputs (`overhead:<module>`, built here from the block session's inputs).
// - `calibration:<i>`: whole pruned models the level times are calibrated against (calibration.ts).
//
// Why 'model' is the default: a block timed alone pays costs it does not pay inside a model (its own
// run dispatch, handing its output back to JavaScript, preparing the attention mask) and runs on
// cold activation buffers (other configurations ran in between), while inside a model it reads the
// activations the previous layer just wrote. Subtracting a measured per-run overhead fixes the first
// part only. `bench/additivity.ts` compares both against whole pruned models.
//
// Sanity checks: a larger level must not be faster than a smaller one beyond noise; violators are
// re-measured (more interleaved rounds) and the outcome recorded in `build.monotonicity`. The
// additivity of the runtime model (dense measured vs non-prunable + Σ dense level times) is recorded
// in `build.additivity`.

import { GraphBuilder } from '@ziplm/onnx';
import { selectCalibration } from '../calibration.js';
import type { DeviceFingerprint, InferenceEnvironment } from '../environment.js';
import { validateEnvironment, workloadDifferences } from '../environment.js';
import { MeasurementError } from '../errors.js';
import type { LatencyTablePlan, PlannedGraph } from '../plan.js';
import { checkLatencyPlan } from '../plan.js';
import { isotonicIncreasing, type TimingSummary } from '../stats.js';
import type { BlockTiming, LatencyTable, LevelTime, TableBuildInfo, TableCalibration } from '../table.js';
import { LATENCY_TABLE_FORMAT, LATENCY_TABLE_VERSION } from '../table.js';
import type { ProtocolProgress } from './protocol.js';
import { InterleavedTimer, measureTimerResolution } from './protocol.js';
import type { EngineSession, SessionRunner } from './runner.js';
import { SessionPool } from './runner.js';

/** Progress of a table build. */
export type BuildProgress =
  | { readonly phase: 'prepare'; readonly done: number; readonly total: number; readonly what: string; readonly elapsedMs: number }
  | ProtocolProgress
  | { readonly phase: 'monotonicity'; readonly violations: number; readonly elapsedMs: number }
  | { readonly phase: 'done'; readonly elapsedMs: number };

/**
 * Timed samples must span at least this many steps of the clock's resolution when runs per sample
 * are chosen automatically: a sample is then off by under 1% from the rounding of its two readings.
 */
export const MIN_RESOLUTION_STEPS_PER_SAMPLE = 100;

/** Options of `measureLatencyPlan`. */
export interface MeasurePlanOptions {
  /** The engine. */
  readonly runner: SessionRunner;
  /** The graphs' bytes (file-backed graphs only), asked for once each, in plan order, as they are loaded. */
  readonly loadGraph: (graph: PlannedGraph) => Uint8Array | Promise<Uint8Array>;
  /** The device to record in the table. */
  readonly fingerprint: DeviceFingerprint;
  /**
   * The environment the plan is measured in (recorded in the table); default the plan's. Its workload
   * (mode, batch, lengths, precision) must be the plan's: the graphs were exported for it.
   */
  readonly environment?: InferenceEnvironment;
  /**
   * Back-to-back runs per timed sample; 'auto': measure the clock's resolution after warm-up and
   * choose them so that every sample spans at least `MIN_RESOLUTION_STEPS_PER_SAMPLE` steps
   * (recorded in `build.timer` and `build.notes`). Default 1 (nothing recorded).
   */
  readonly runsPerSample?: number | 'auto';
  /** Clock in milliseconds; default `performance.now`. Injected by tests. */
  readonly clock?: () => number;
  /** Called right before every timed sample, untimed (Node: a young-generation collection). */
  readonly beforeTimedRun?: () => void;
  /** Sentences to record in `build.notes` (after the timer's). */
  readonly notes?: readonly string[];
  readonly onProgress?: (progress: BuildProgress) => void;
  /** `performance.now()` when the build started, for `build.seconds`; default: when this is called. */
  readonly startedAt?: number;
}

/**
 * A graph with the inputs of a block session whose only work is producing the block's main output
 * (`blockInput` passed through). Inputs it does not use (mask, KV cache) are still bound and passed,
 * as for the block.
 */
function passThroughGraph(session: EngineSession, blockInput: string, blockOutput: string, where: string): Uint8Array {
  const g = new GraphBuilder('ziplm_latency_pass_through');
  let hidden: string | undefined;
  let shape: ReadonlyArray<number | string> = [];
  for (const input of session.inputs) {
    if (input.type !== 'float32' && input.type !== 'int64')
      throw new MeasurementError(`${where}: input "${input.name}" has unsupported type ${input.type}`);
    const name = g.input(input.name, input.type, input.shape);
    if (input.name === blockInput) {
      hidden = name;
      shape = input.shape;
    }
  }
  if (!hidden) throw new MeasurementError(`${where}: the block graph has no "${blockInput}" input`);
  g.output(g.op('Identity', [hidden]), 'float32', shape, blockOutput);
  return g.toBytes();
}

/**
 * Measures every graph of `plan` in one interleaved protocol and assembles the latency table. Holds
 * every session open during the measurement (memory: the dense model plus one graph per level) and
 * releases them all, also on failure.
 */
export async function measureLatencyPlan(plan: LatencyTablePlan, options: MeasurePlanOptions): Promise<LatencyTable> {
  const started = options.startedAt ?? performance.now();
  const elapsed = () => performance.now() - started;
  checkLatencyPlan(plan, 'latency plan', false);
  const env = options.environment ?? plan.environment;
  validateEnvironment(env);
  const differs = workloadDifferences(plan.environment, env, ['plan', 'measurement']);
  if (differs.length > 0) throw new MeasurementError(`the plan's graphs were exported for another workload (${differs.join('; ')})`);
  const { runner, onProgress } = options;
  const { protocol, context, model } = plan;
  const R = plan.contextLayers;
  const heads = plan.attentionLevels;
  const neurons = plan.ffnLevels;
  const calibration = plan.graphs.flatMap((g) => (g.role === 'calibration' ? [g] : []));
  const renewEvery = protocol.renewSessionsEvery;

  // Level times are paired differences with the per-run baseline, which therefore runs every round;
  // calibration models are compared with the dense model round by round, so it runs every round too.
  const anchors = [
    ...(context === 'model' ? ['context:empty'] : ['overhead:attention', 'overhead:ffn']),
    ...(calibration.length > 0 ? ['model:dense'] : []),
  ];
  let pool: SessionPool | undefined;
  const timer = new InterleavedTimer({
    ...(protocol.warmupRuns !== undefined ? { warmupRuns: protocol.warmupRuns } : {}),
    ...(protocol.minRounds !== undefined ? { minRounds: protocol.minRounds } : {}),
    ...(protocol.maxRounds !== undefined ? { maxRounds: protocol.maxRounds } : {}),
    ...(protocol.precision !== undefined ? { precision: protocol.precision } : {}),
    ...(protocol.timeBudgetMs !== undefined ? { timeBudgetMs: protocol.timeBudgetMs } : {}),
    ...(typeof options.runsPerSample === 'number' ? { runsPerSample: options.runsPerSample } : {}),
    visitRuns: protocol.visitRuns,
    anchors,
    seed: protocol.seed,
    ...(options.clock ? { clock: options.clock } : {}),
    onProgress,
    beforeTimedRun: options.beforeTimedRun,
    beforeRound: async (round) => {
      if (renewEvery > 0 && round > 0 && round % renewEvery === 0) await pool!.recycle(timer.warmupRuns);
    },
  });

  pool = new SessionPool(runner, env, protocol.seed);
  const total = plan.graphs.length;
  let done = 0;
  try {
    const loaded = new Map<string, EngineSession>();
    for (const graph of plan.graphs) {
      const id = graph.id;
      let onnx: Uint8Array;
      if (graph.role === 'overhead') {
        const block = loaded.get(graph.passThroughOf);
        if (!block) throw new MeasurementError(`${id}: graph "${graph.passThroughOf}" is not loaded`);
        onnx = passThroughGraph(block, graph.blockInput, graph.blockOutput, graph.passThroughOf);
      } else {
        onnx = await options.loadGraph(graph);
      }
      // Inputs are generated and wrapped once; every timed run (and every renewed session) reuses them.
      const session = await pool.open({ id, onnx, vocabSize: graph.vocabSize }, (err) => new MeasurementError(`${id}: ${err.message}`));
      timer.add(id, () => pool.run(id));
      loaded.set(id, session);
      onProgress?.({ phase: 'prepare', done: ++done, total, what: id, elapsedMs: elapsed() });
    }

    await timer.warmup();
    let timerInfo: TableBuildInfo['timer'];
    const notes: string[] = [];
    if (options.runsPerSample === 'auto') {
      const resolutionMs = measureTimerResolution(options.clock);
      const runsPerSample = await timer.chooseRunsPerSample(MIN_RESOLUTION_STEPS_PER_SAMPLE * resolutionMs);
      timerInfo = { resolutionMs, runsPerSample };
      notes.push(
        `performance.now() resolution measured at ${formatMs(resolutionMs)} ms; every timed sample spans ${runsPerSample} back-to-back ` +
          `run${runsPerSample === 1 ? '' : 's'} (its time divided by them), so that a sample of the fastest graph spans at least ` +
          `${MIN_RESOLUTION_STEPS_PER_SAMPLE} resolution steps.`,
      );
    } else if (timer.runsPerSample > 1) {
      notes.push(`every timed sample spans ${timer.runsPerSample} back-to-back runs (its time divided by them), as the caller asked.`);
    }
    notes.push(...(options.notes ?? []));
    const remeasured = await timer.untilPrecise();

    // Level time and its standard error (ms) from the current samples: the median of the per-round
    // differences with the baseline (same round, same state of the machine), per layer.
    const emptyContext = () => timer.summary('context:empty');
    const overhead = (module: 'attention' | 'ffn') => timer.summary(`overhead:${module}`);
    const derive = (module: 'attention' | 'ffn', kept: number): { time: number; error: number; measured: TimingSummary } => {
      const id = `${module}:${kept}`;
      const difference = timer.paired(id, context === 'model' ? 'context:empty' : `overhead:${module}`, 'difference');
      const scale = context === 'model' ? R : 1;
      const time = Math.max(0, difference.median / scale);
      const error = (difference.relativeError * Math.abs(difference.median)) / scale;
      return { time, error, measured: timer.summary(id) };
    };

    // Monotonicity: within each module type, time must not fall as the kept size grows.
    const violations = (module: 'attention' | 'ffn', levels: readonly number[]): Array<[number, number]> => {
      const found: Array<[number, number]> = [];
      const asc = levels.filter((k) => k > 0).sort((a, b) => a - b);
      for (let i = 0; i + 1 < asc.length; i++) {
        const small = derive(module, asc[i]!);
        const large = derive(module, asc[i + 1]!);
        // "Beyond noise": by more than the tolerance and more than 3 combined standard errors.
        const noise = Math.max(protocol.monotonicityTolerance * small.time, 3 * Math.hypot(small.error, large.error));
        if (large.time < small.time - noise) found.push([asc[i]!, asc[i + 1]!]);
      }
      return found;
    };
    const key = (module: string, [a, b]: [number, number]) => `${module}:${a}<${b}`;
    const first = [
      ...violations('attention', heads).map((v) => ['attention', v] as const),
      ...violations('ffn', neurons).map((v) => ['ffn', v] as const),
    ];
    onProgress?.({ phase: 'monotonicity', violations: first.length, elapsedMs: elapsed() });
    const monotonicity: Array<{ module: 'attention' | 'ffn'; smaller: number; larger: number; resolved: boolean }> = [];
    if (first.length > 0) {
      const ids = new Set(first.flatMap(([module, [a, b]]) => [`${module}:${a}`, `${module}:${b}`]));
      if (context === 'model') ids.add('context:empty');
      await timer.rounds(protocol.remeasureRounds ?? timer.minRounds, [...ids], 'remeasure');
      const after = new Set([
        ...violations('attention', heads).map((v) => key('attention', v)),
        ...violations('ffn', neurons).map((v) => key('ffn', v)),
      ]);
      for (const [module, v] of first) monotonicity.push({ module, smaller: v[0], larger: v[1], resolved: !after.has(key(module, v)) });
    }

    const levelTimes = (module: 'attention' | 'ffn', levels: readonly number[]): LevelTime[] => {
      const measured = levels.filter((k) => k > 0).map((k) => ({ kept: k, ...derive(module, k) }));
      let times = measured.map((m) => m.time);
      if (protocol.enforceMonotonicity) {
        // Isotonic fit in ascending kept order, weighted by precision (1 / standard error²).
        const asc = [...times].reverse();
        const weights = [...measured].reverse().map((m) => 1 / Math.max(1e-9, m.error) ** 2);
        times = isotonicIncreasing(asc, weights).reverse();
      }
      return [...measured.map((m, i) => ({ kept: m.kept, time: times[i]!, measured: m.measured })), { kept: 0, time: 0 }];
    };
    let attention = levelTimes('attention', heads);
    let ffn = levelTimes('ffn', neurons);
    const denseSummary = timer.summary('model:dense');
    const nonPrunable = timer.summary('model:empty');
    const perLayer = attention[0]!.time + ffn[0]!.time;
    const predictedDense = nonPrunable.median + model.numLayers * perLayer;
    let scale = 1;
    let offset = 0;
    let calibrationInfo: TableCalibration | undefined;
    if (calibration.length > 0) {
      // Layer time of each whole model: measured (from the per-round speedup over the dense model)
      // and from the level times; the dense model is a point too.
      const timeOf = (levels: LevelTime[], kept: number) => levels.find((l) => l.kept === kept)!.time;
      const rest = nonPrunable.median;
      const points = [
        {
          layerHeads: new Array<number>(model.numLayers).fill(model.numHeads),
          layerIntermediate: new Array<number>(model.numLayers).fill(model.intermediateSize),
          measured: denseSummary.median - rest,
        },
        ...calibration.map((graph) => ({
          layerHeads: [...graph.layerHeads],
          layerIntermediate: [...graph.layerIntermediate],
          measured: denseSummary.median / timer.paired(graph.id, 'model:dense', 'ratio').median - rest,
        })),
      ].map((p) => ({
        ...p,
        sum: p.layerHeads.reduce((a, k) => a + timeOf(attention, k), 0) + p.layerIntermediate.reduce((a, k) => a + timeOf(ffn, k), 0),
        modules: p.layerHeads.filter((k) => k > 0).length + p.layerIntermediate.filter((k) => k > 0).length,
      }));
      const usable = points.filter((p) => p.measured > 0 && p.sum > 0);
      // Kept only when it predicts models left out of the fit better than the uncalibrated levels
      // (leave-one-out, calibration.ts): an in-sample comparison always favours the fit.
      const smallest = Math.min(...[...attention, ...ffn].filter((l) => l.kept > 0).map((l) => l.time));
      const choice = selectCalibration(
        usable.map((p) => ({ sum: p.sum, modules: p.modules, time: rest + p.measured })),
        rest,
        smallest,
        ['scale+offset'],
      );
      const applied = choice.model !== 'none';
      if (applied) {
        scale = choice.scale;
        offset = choice.offset;
      }
      const relative = (x: number, m: number) => Math.abs(x / m - 1);
      const rows = points.map((p) => ({
        layerHeads: p.layerHeads,
        layerIntermediate: p.layerIntermediate,
        measured: p.measured,
        uncalibrated: p.sum,
        calibrated: scale * p.sum + offset * p.modules,
      }));
      calibrationInfo = {
        points: rows,
        error: Math.max(...rows.map((r) => relative(r.calibrated + rest, r.measured + rest))),
        uncalibratedError: Math.max(...rows.map((r) => relative(r.uncalibrated + rest, r.measured + rest))),
        applied,
      };
      const calibrated = (levels: LevelTime[]) => levels.map((l) => (l.kept > 0 ? { ...l, time: scale * l.time + offset } : l));
      attention = calibrated(attention);
      ffn = calibrated(ffn);
    } else if (plan.calibrateToDense) {
      if (!(perLayer > 0) || !(denseSummary.median > nonPrunable.median)) {
        throw new MeasurementError(
          `cannot calibrate: dense ${denseSummary.median} ms, non-prunable ${nonPrunable.median} ms, full layer ${perLayer} ms`,
        );
      }
      scale = (denseSummary.median - nonPrunable.median) / (model.numLayers * perLayer);
      const scaled = (levels: LevelTime[]) => levels.map((l) => ({ ...l, time: l.time * scale }));
      attention = scaled(attention);
      ffn = scaled(ffn);
    }
    const blockTiming: BlockTiming =
      context === 'model'
        ? { context: 'model', layers: R, emptyModel: emptyContext(), scale, ...(offset !== 0 ? { offset } : {}) }
        : {
            context: 'isolated',
            overhead: { attention: overhead('attention').median, ffn: overhead('ffn').median },
            scale,
            ...(offset !== 0 ? { offset } : {}),
          };
    const samples = timer.ids().map((id) => timer.summary(id).samples);
    const build: TableBuildInfo = {
      seconds: elapsed() / 1000,
      rounds: { min: Math.min(...samples), max: Math.max(...samples) },
      warmupRuns: timer.warmupRuns,
      visitRuns: timer.visitRuns,
      renewSessionsEvery: renewEvery,
      precision: timer.precision,
      remeasured,
      monotonicity,
      additivity: { measured: denseSummary.median, predicted: predictedDense, residual: denseSummary.median / predictedDense - 1 },
      ...(calibrationInfo ? { calibration: calibrationInfo } : {}),
      ...(timerInfo ? { timer: timerInfo } : {}),
      ...(notes.length > 0 ? { notes } : {}),
    };
    const table: LatencyTable = {
      format: LATENCY_TABLE_FORMAT,
      version: LATENCY_TABLE_VERSION,
      createdAt: new Date().toISOString(),
      environment: env,
      fingerprint: options.fingerprint,
      model: plan.model,
      unit: 'ms',
      dense: denseSummary,
      nonPrunable,
      ...(env.precision !== undefined ? { reference: timer.summary('model:reference') } : {}),
      prunable: denseSummary.median - nonPrunable.median,
      blockTiming,
      attention,
      ffn,
      build,
    };
    onProgress?.({ phase: 'done', elapsedMs: elapsed() });
    return table;
  } finally {
    await pool.releaseAll();
  }
}

/** A duration in ms with three significant digits (0.1, 0.005, 1). */
function formatMs(ms: number): string {
  return Number(ms.toPrecision(3)).toString();
}
