// The inference environment a latency table is measured for (guide/latency.md "Environment"): the
// original code times whatever batch its data loader yields, so batch size, sequence length, device
// and engine settings together define what "2x faster" means. We make that description explicit and
// store it in every table, so a table is never silently reused for another setting.

import type { OnnxExportOptions } from '@ziplm/models';
import type { GraphOptimizationLevel } from '@ziplm/onnx/runtime';
import { EnvironmentError } from './errors.js';

// onnxruntime's graph optimisation levels have one owner, @ziplm/onnx (its session options take them);
// re-exported (type only) because every environment names one.
export type { GraphOptimizationLevel };

/**
 * The inference engine. The measurement takes an injected session runner: onnxruntime-node in
 * `@ziplm/latency/measure`, onnxruntime-web (a visitor's browser, or its wasm backend in Node) in
 * `@ziplm/latency/browser`. The table format and the search do not depend on it.
 */
export type InferenceEngine = 'onnxruntime-node' | 'onnxruntime-web';

/**
 * onnxruntime-web's execution provider: `wasm` (WebAssembly with SIMD, multi-threaded only when the
 * page is cross-origin isolated) or `webgpu`. Only a web environment names one.
 */
export type InferenceBackend = 'wasm' | 'webgpu';

/**
 * - `throughput`: a full-sequence forward pass on a batch (`batchSize` × `sequenceLength`).
 * - `latency`: the same with batch size 1.
 * - `generation`: GPT2 decoding one new token per sequence with a KV cache of `pastLength` tokens
 *   (guide/latency.md: the original times attention with a random `layer_past` of 50 tokens).
 */
export type InferenceMode = 'throughput' | 'latency' | 'generation';

/**
 * The number format the exported graphs compute in (guide/compound-compression.md):
 * - `fp32`: float32 weights and activations (every table before issue 15);
 * - `int8-dynamic`: INT8 weights per output channel, activations quantized per batch at run time
 *   (DynamicQuantizeLinear + MatMulInteger, onnxruntime's `quantize_dynamic` form);
 * - `int8-static`: INT8 weights, activations quantized with ranges fixed at export (QDQ around MatMul).
 * Speedups of an INT8 table are relative to the dense FP32 model (the paper's compound speedups).
 */
export type InferencePrecision = 'fp32' | 'int8-dynamic' | 'int8-static';

export interface InferenceEnvironment {
  readonly engine: InferenceEngine;
  /** Intra-op threads of the engine (onnxruntime's default is the core count). */
  readonly threads: number;
  readonly graphOptimizationLevel: GraphOptimizationLevel;
  readonly mode: InferenceMode;
  /** Sequences per forward pass (1 in latency mode). */
  readonly batchSize: number;
  /** Tokens per sequence in one forward pass: the full length, or 1 (the new token) in generation mode. */
  readonly sequenceLength: number;
  /** KV-cache length in generation mode; 0 otherwise. */
  readonly pastLength: number;
  /**
   * Whether the engine's idle intra-op threads spin-wait for work (onnxruntime's
   * `session.intra_op.allow_spinning`). Spinning makes each parallel operator start a little
   * sooner but keeps burning a core after every run; timing many sessions in turn with spinning on
   * lets one session's spinning threads slow the next one down. Part of the environment because it
   * changes times: deploy with the setting the table was measured with (`ortSessionOptions`).
   */
  readonly allowSpinning: boolean;
  /**
   * The graphs' number format; absent means 'fp32' (so tables and runs written before INT8 existed
   * keep their identity). `inferenceEnvironment` only sets it for an INT8 format.
   */
  readonly precision?: Exclude<InferencePrecision, 'fp32'>;
  /**
   * onnxruntime-web's execution provider; present exactly when `engine` is 'onnxruntime-web' (so every
   * onnxruntime-node environment and table keeps its identity).
   */
  readonly backend?: InferenceBackend;
}

/** Options of `inferenceEnvironment`; everything not given takes the default shown. */
export interface InferenceEnvironmentOptions {
  /** Default 'onnxruntime-node'. */
  engine?: InferenceEngine;
  /** Default 2 (the core count of this project's machines). */
  threads?: number;
  /** Default 'all'. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Default 'latency'. */
  mode?: InferenceMode;
  /** Default 1 in latency and generation mode, 32 in throughput mode. Must be 1 in latency mode. */
  batchSize?: number;
  /** Default 128; forced to 1 in generation mode. */
  sequenceLength?: number;
  /** Generation mode only; default 50 (the original's `seq_length = 50`). */
  pastLength?: number;
  /** Default false. */
  allowSpinning?: boolean;
  /** Default 'fp32'. */
  precision?: InferencePrecision;
  /** onnxruntime-web only; default 'wasm' there. */
  backend?: InferenceBackend;
}

const ENGINES: readonly InferenceEngine[] = ['onnxruntime-node', 'onnxruntime-web'];
const LEVELS: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];
const MODES: readonly InferenceMode[] = ['throughput', 'latency', 'generation'];
const PRECISIONS: readonly InferencePrecision[] = ['fp32', 'int8-dynamic', 'int8-static'];
const BACKENDS: readonly InferenceBackend[] = ['wasm', 'webgpu'];

/** Builds and validates an environment description. */
export function inferenceEnvironment(options: InferenceEnvironmentOptions = {}): InferenceEnvironment {
  const mode = options.mode ?? 'latency';
  const engine = options.engine ?? 'onnxruntime-node';
  if (options.backend !== undefined && engine !== 'onnxruntime-web')
    throw new EnvironmentError('backend', `is an onnxruntime-web setting; engine ${engine} has none`);
  const env: InferenceEnvironment = {
    engine,
    threads: options.threads ?? 2,
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    mode,
    batchSize: options.batchSize ?? (mode === 'throughput' ? 32 : 1),
    sequenceLength: mode === 'generation' ? 1 : (options.sequenceLength ?? 128),
    pastLength: mode === 'generation' ? (options.pastLength ?? 50) : 0,
    allowSpinning: options.allowSpinning ?? false,
    ...(options.precision !== undefined && options.precision !== 'fp32' ? { precision: options.precision } : {}),
    ...(engine === 'onnxruntime-web' ? { backend: options.backend ?? 'wasm' } : {}),
  };
  if (options.precision !== undefined && !PRECISIONS.includes(options.precision))
    throw new EnvironmentError('precision', `must be one of ${PRECISIONS.join(', ')}, got ${JSON.stringify(options.precision)}`);
  if (mode === 'generation' && options.sequenceLength !== undefined && options.sequenceLength !== 1) {
    throw new EnvironmentError('sequenceLength', `must be 1 in generation mode (one new token per step), got ${options.sequenceLength}`);
  }
  if (mode !== 'generation' && options.pastLength !== undefined && options.pastLength !== 0) {
    throw new EnvironmentError('pastLength', `is only meaningful in generation mode, got ${options.pastLength} in ${mode} mode`);
  }
  validateEnvironment(env);
  return env;
}

function checkInt(value: unknown, field: string, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new EnvironmentError(field, `must be an integer, got ${JSON.stringify(value)}`);
  if (value < min) throw new EnvironmentError(field, `must be >= ${min}, got ${value}`);
}

/** Throws an EnvironmentError naming the first invalid field. */
export function validateEnvironment(env: InferenceEnvironment): void {
  if (!ENGINES.includes(env.engine))
    throw new EnvironmentError('engine', `must be one of ${ENGINES.join(', ')}, got ${JSON.stringify(env.engine)}`);
  if (!LEVELS.includes(env.graphOptimizationLevel)) {
    throw new EnvironmentError(
      'graphOptimizationLevel',
      `must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(env.graphOptimizationLevel)}`,
    );
  }
  if (!MODES.includes(env.mode)) throw new EnvironmentError('mode', `must be one of ${MODES.join(', ')}, got ${JSON.stringify(env.mode)}`);
  checkInt(env.threads, 'threads', 1);
  checkInt(env.batchSize, 'batchSize', 1);
  checkInt(env.sequenceLength, 'sequenceLength', 1);
  checkInt(env.pastLength, 'pastLength', 0);
  if (typeof env.allowSpinning !== 'boolean')
    throw new EnvironmentError('allowSpinning', `must be a boolean, got ${JSON.stringify(env.allowSpinning)}`);
  const precision: string | undefined = env.precision;
  if (precision !== undefined && (precision === 'fp32' || !PRECISIONS.includes(precision as InferencePrecision)))
    throw new EnvironmentError(
      'precision',
      `must be absent (fp32) or one of int8-dynamic, int8-static, got ${JSON.stringify(env.precision)}`,
    );
  if (env.engine === 'onnxruntime-web') {
    if (!BACKENDS.includes(env.backend as InferenceBackend))
      throw new EnvironmentError(
        'backend',
        `must be one of ${BACKENDS.join(', ')} for onnxruntime-web, got ${JSON.stringify(env.backend)}`,
      );
  } else if (env.backend !== undefined) {
    throw new EnvironmentError(
      'backend',
      `must be absent for ${env.engine} (an onnxruntime-web setting), got ${JSON.stringify(env.backend)}`,
    );
  }
  if (env.mode === 'latency' && env.batchSize !== 1)
    throw new EnvironmentError('batchSize', `must be 1 in latency mode, got ${env.batchSize}`);
  if (env.mode === 'generation') {
    if (env.sequenceLength !== 1) throw new EnvironmentError('sequenceLength', `must be 1 in generation mode, got ${env.sequenceLength}`);
    if (env.pastLength < 1) throw new EnvironmentError('pastLength', `must be >= 1 in generation mode, got ${env.pastLength}`);
  } else if (env.pastLength !== 0) {
    throw new EnvironmentError('pastLength', `must be 0 outside generation mode, got ${env.pastLength}`);
  }
}

/**
 * One line for logs and reports, e.g. `onnxruntime-node 2 threads opt=all latency 1x128`
 * (`onnxruntime-web/wasm 1 thread …` in a browser).
 */
export function describeEnvironment(env: InferenceEnvironment): string {
  const shape = env.mode === 'generation' ? `${env.batchSize}x1 past ${env.pastLength}` : `${env.batchSize}x${env.sequenceLength}`;
  const precision = env.precision ? ` ${env.precision}` : '';
  const engine = env.backend ? `${env.engine}/${env.backend}` : env.engine;
  return `${engine} ${env.threads} thread${env.threads === 1 ? '' : 's'}${env.allowSpinning ? ' spinning' : ''} opt=${env.graphOptimizationLevel}${precision} ${env.mode} ${shape}`;
}

/**
 * The fields in which two environments differ, each as `field: <a label> <value>, <b label> <value>`
 * (empty when they are the same environment). Every field of either counts: an FP32 environment has
 * no `precision`, and an INT8 one differs from it in that field.
 */
export function environmentDifferences(
  a: InferenceEnvironment,
  b: InferenceEnvironment,
  labels: readonly [string, string] = ['table', 'now'],
): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as Array<keyof InferenceEnvironment>);
  // An absent precision is FP32, and is shown as such.
  const show = (env: InferenceEnvironment, k: keyof InferenceEnvironment) => JSON.stringify(k === 'precision' ? precisionOf(env) : env[k]);
  return [...keys].filter((k) => a[k] !== b[k]).map((k) => `${k}: ${labels[0]} ${show(a, k)}, ${labels[1]} ${show(b, k)}`);
}

/** The environment's number format, 'fp32' when it names none. */
export function precisionOf(env: InferenceEnvironment): InferencePrecision {
  return env.precision ?? 'fp32';
}

/** The same environment in FP32: where the speedup reference of an INT8 environment (the dense FP32 model) runs. */
export function fp32Environment(env: InferenceEnvironment): InferenceEnvironment {
  const { precision: _precision, ...rest } = env;
  return rest;
}

/** The fields of an environment that define the timed work (which graphs, on which inputs), not the engine that runs it. */
const WORKLOAD_FIELDS = ['mode', 'batchSize', 'sequenceLength', 'pastLength', 'precision'] as const;

/**
 * The fields in which two environments' workloads differ (mode, batch, lengths, precision), in
 * `environmentDifferences`' wording; engine settings (engine, backend, threads, graph optimisation,
 * spinning) are not compared. A table measured by another engine (a browser table given to the
 * Node CLI) describes the same work when this is empty: its times are that engine's.
 */
export function workloadDifferences(
  a: InferenceEnvironment,
  b: InferenceEnvironment,
  labels: readonly [string, string] = ['table', 'now'],
): string[] {
  const show = (env: InferenceEnvironment, k: (typeof WORKLOAD_FIELDS)[number]) =>
    JSON.stringify(k === 'precision' ? precisionOf(env) : env[k]);
  return WORKLOAD_FIELDS.filter((k) => (k === 'precision' ? precisionOf(a) !== precisionOf(b) : a[k] !== b[k])).map(
    (k) => `${k}: ${labels[0]} ${show(a, k)}, ${labels[1]} ${show(b, k)}`,
  );
}

/**
 * The ONNX export options (@ziplm/models `OnnxExportOptions`) that produce graphs for this
 * environment: full or decode mode, and for an INT8 environment the INT8 form (weights quantized
 * round-to-nearest at export unless the caller adds its own `quantize.weights`).
 */
export function exportOptionsFor(env: InferenceEnvironment): OnnxExportOptions {
  const mode: OnnxExportOptions = env.mode === 'generation' ? { mode: 'decode', pastLength: env.pastLength } : { mode: 'full' };
  if (env.precision === undefined) return mode;
  return { ...mode, quantize: { activations: env.precision === 'int8-static' ? 'static' : 'dynamic' } };
}

/**
 * What identifies the device a table was measured on. Times from another CPU, core count or engine
 * version are not this device's times; loading such a table yields a warning (not an error: a
 * user may knowingly reuse a table from an identical machine).
 */
export interface DeviceFingerprint {
  /** CPU model string as the OS reports it. */
  readonly cpuModel: string;
  /** Logical cores visible to the process. */
  readonly logicalCores: number;
  /** `process.platform`, e.g. `linux`. */
  readonly platform: string;
  /** `process.arch`, e.g. `x64`. */
  readonly arch: string;
  readonly engine: string;
  readonly engineVersion: string;
  /** `process.versions.node`, or the browser's user agent for a web engine. */
  readonly runtimeVersion: string;
  /** What a web engine's speed depends on beyond the CPU; only tables measured with onnxruntime-web have it. */
  readonly web?: WebRuntimeInfo;
}

/** The web runtime a table was measured in (`DeviceFingerprint.web`). */
export interface WebRuntimeInfo {
  /** `navigator.userAgent` ('unknown' outside a browser). */
  readonly userAgent: string;
  /**
   * `crossOriginIsolated`: whether the page was served with COOP/COEP headers. Without isolation
   * there is no SharedArrayBuffer, so onnxruntime-web's wasm backend runs on one thread, and
   * `performance.now()` is coarsened (100 µs in Chromium, 1 ms in some browsers).
   */
  readonly crossOriginIsolated: boolean;
  /** Whether this WebAssembly engine validates 128-bit SIMD instructions. */
  readonly simd: boolean;
  /** Intra-op threads asked for; `environment.threads` holds those the engine could use. */
  readonly requestedThreads: number;
}

/** Fields in which two fingerprints differ, with both values. */
export function compareFingerprints(
  table: DeviceFingerprint,
  current: DeviceFingerprint,
): Array<{ field: keyof DeviceFingerprint; table: string | number; current: string | number }> {
  // `web` is not compared: its user agent is `runtimeVersion`, and the rest describes the page, not the device.
  const fields: Array<Exclude<keyof DeviceFingerprint, 'web'>> = [
    'cpuModel',
    'logicalCores',
    'platform',
    'arch',
    'engine',
    'engineVersion',
    'runtimeVersion',
  ];
  return fields.filter((f) => table[f] !== current[f]).map((f) => ({ field: f, table: table[f], current: current[f] }));
}
