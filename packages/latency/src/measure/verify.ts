// Verification of a pruned model's speedup on this device with onnxruntime-node. The timing (paired
// rounds of the dense and the pruned models) and the verdict (the 95% interval of the speedup against
// target × (1 − tolerance)) live in paired-speedup.ts, shared with the browser's
// `verifySpeedupsInBrowser`; this module adds what only Node has: checkpoints exported for the
// environment, the machine's load average (for the reasons of an uncertain verdict) and a
// young-generation collection before each timed run.

import { availableParallelism, loadavg } from 'node:os';
import type { Checkpoint } from '@ziplm/models';
import { exportModelToOnnx } from '@ziplm/models';
import type { InferenceEnvironment } from '../environment.js';
import { environmentDifferences, fp32Environment, validateEnvironment } from '../environment.js';
import { MeasurementError } from '../errors.js';
import { youngGarbageCollector } from '../internal/gc.js';
import type { LatencyTable } from '../table.js';
import { referenceTime } from '../runtime.js';
import { timingExportOptions } from './build.js';
import { createOrtRunner } from './ort.js';
import type { MachineLoad, TimedGraph, VerificationReport, VerifyProgress } from './paired-speedup.js';
import { DEFAULT_VERIFY_TOLERANCE, timePairedSpeedups, verificationReport } from './paired-speedup.js';
import type { ProtocolOptions } from './protocol.js';
import type { SessionRunner } from './runner.js';

// The verdict and the report moved to paired-speedup.ts (no node imports); re-exported for this entry's users.
export { speedupVerdict } from './paired-speedup.js';
export type { MachineLoad, SpeedupVerdict, VerdictInput, VerificationReport, VerificationStatus } from './paired-speedup.js';

/** A model to time: ONNX bytes (with the vocabulary size, for valid token ids) or a checkpoint. */
export type TimedModel = { readonly onnx: Uint8Array; readonly vocabSize: number } | Checkpoint;

/** Settings shared by `verifySpeedup` and `verifySpeedups`. */
export interface VerifyCommonOptions extends ProtocolOptions {
  /**
   * The dense model (the speedup's reference). Given as a checkpoint it is exported in FP32 even in
   * an INT8 environment: INT8 members are judged against the dense FP32 model (guide/compound-compression.md).
   */
  dense: TimedModel;
  env: InferenceEnvironment;
  /** The table the predictions came from; reports how far today's dense time is from the table's. */
  table?: LatencyTable;
  /** Allowed shortfall of measured vs target speedup (relative); default `DEFAULT_VERIFY_TOLERANCE` (0.02). */
  tolerance?: number;
  runner?: SessionRunner;
  /** Renew every session every this many rounds (0 = never); default `DEFAULT_RENEW_ROUNDS` (see `BuildTableOptions`). */
  renewSessionsEvery?: number;
  /** Seed of the inputs and of the round order; default 0. */
  seed?: number;
  /**
   * The machine's load, read once the timing is done (for the reasons of an uncertain verdict);
   * default: the 1-minute load average (`os.loadavg`, always 0 on Windows) and
   * `os.availableParallelism()`. Injected by tests.
   */
  machineLoad?: () => MachineLoad;
}

/** One pruned model to verify. */
export interface VerifyCandidate {
  readonly model: TimedModel;
  /** The speedup that was asked for. */
  readonly target: number;
  /** The speedup the runtime model predicted (e.g. `SearchResult.predictedSpeedup`); optional. */
  readonly predicted?: number;
}

export interface VerifyOptions extends VerifyCommonOptions, Omit<VerifyCandidate, 'model'> {
  /** The pruned model. */
  pruned: TimedModel;
}

function readMachineLoad(): MachineLoad {
  return { loadAverage: loadavg()[0] ?? 0, cores: availableParallelism() };
}

function toOnnx(model: TimedModel, env: InferenceEnvironment): TimedGraph {
  if ('onnx' in model) return model;
  // A checkpoint is timed as the environment's graph (static INT8 with nominal ranges: ranges change no work).
  return { onnx: exportModelToOnnx(model, timingExportOptions(model.config, env)), vocabSize: model.config.vocabSize };
}

/** Times the dense and the pruned model and reports measured against target (and predicted) speedup. */
export async function verifySpeedup(options: VerifyOptions): Promise<VerificationReport> {
  const { pruned, target, predicted, ...common } = options;
  const [report] = await verifySpeedups({
    ...common,
    candidates: [{ model: pruned, target, ...(predicted !== undefined ? { predicted } : {}) }],
  });
  return report!;
}

/**
 * Verifies several pruned models of one dense model (a family of targets) in ONE interleaved
 * protocol: the dense model runs once per round for all of them, and all ratios share its samples.
 */
export async function verifySpeedups(
  options: VerifyCommonOptions & { candidates: readonly VerifyCandidate[] },
): Promise<VerificationReport[]> {
  const { env, candidates } = options;
  validateEnvironment(env);
  for (const c of candidates) if (!(c.target > 0)) throw new MeasurementError(`target speedup must be > 0, got ${c.target}`);
  if (options.table) {
    // Predictions from a table only hold in the environment it was measured in.
    const differs = environmentDifferences(options.table.environment, env);
    if (differs.length > 0) throw new MeasurementError(`the latency table was measured in another environment (${differs.join('; ')})`);
  }
  const tolerance = options.tolerance ?? DEFAULT_VERIFY_TOLERANCE;
  // INT8 members are judged against the dense FP32 model (guide: compound compression, apps/docs/guide/compound-compression.md).
  const dense = toOnnx(options.dense, fp32Environment(env));
  const pruned = candidates.map((c) => toOnnx(c.model, env));
  const { onProgress } = options;
  const timing = await timePairedSpeedups({
    runner: options.runner ?? (await createOrtRunner()),
    env,
    dense,
    pruned,
    warmupRuns: options.warmupRuns,
    minRounds: options.minRounds,
    maxRounds: options.maxRounds,
    precision: options.precision,
    timeBudgetMs: options.timeBudgetMs,
    visitRuns: options.visitRuns,
    runsPerSample: options.runsPerSample,
    renewSessionsEvery: options.renewSessionsEvery,
    seed: options.seed,
    clock: options.clock,
    beforeTimedRun: options.beforeTimedRun ?? youngGarbageCollector(),
    // Callers of this function know the protocol's phases only; opening the sessions is not reported.
    ...(onProgress
      ? {
          onProgress: (p: VerifyProgress) => {
            if (p.phase !== 'prepare') onProgress(p);
          },
        }
      : {}),
  });
  const denseDrift = options.table ? timing.dense.median / referenceTime(options.table) - 1 : undefined;
  const load = (options.machineLoad ?? readMachineLoad)();
  return candidates.map((c, i) =>
    verificationReport({
      target: c.target,
      ...(c.predicted !== undefined ? { predicted: c.predicted } : {}),
      tolerance,
      dense: timing.dense,
      speedup: timing.speedups[i]!,
      ...(denseDrift !== undefined ? { denseDrift } : {}),
      load,
      threads: env.threads,
    }),
  );
}
