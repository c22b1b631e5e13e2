// Loading onnxruntime-node (an optional peer dependency) and creating sessions.

import type { InferenceSession } from 'onnxruntime-node';
import { OnnxRuntimeUnavailableError } from '../errors.js';

/** The onnxruntime-node module. */
export type OrtModule = typeof import('onnxruntime-node');

/** Version this package is developed and tested against. */
export const ORT_VERSION = '1.30.0';

let cached: Promise<OrtModule> | undefined;

/**
 * Imports onnxruntime-node once, with telemetry off. onnxruntime-node 1.30 writes a device id under
 * ~/.cache/Microsoft and contacts a telemetry host unless ORT_DISABLE_TELEMETRY is set before the
 * native module loads, so the variable is set here, before the (lazy) import.
 *
 * @throws OnnxRuntimeUnavailableError when onnxruntime-node is not installed or its native binary fails to load.
 */
export function loadOrt(): Promise<OrtModule> {
  cached ??= importOrt(() => import('onnxruntime-node')).catch((error: unknown) => {
    cached = undefined; // let a later call retry (e.g. after the user installed it)
    throw error;
  });
  return cached;
}

/** `loadOrt` with an injectable importer (tests simulate a missing package with it). */
export async function importOrt(importer: () => Promise<unknown>): Promise<OrtModule> {
  process.env.ORT_DISABLE_TELEMETRY = '1';
  let mod: unknown;
  try {
    mod = await importer();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : String(error);
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes('onnxruntime-node')) {
      throw new OnnxRuntimeUnavailableError(
        `the optional peer dependency onnxruntime-node is not installed; install it next to @ziplm/onnx (pnpm add onnxruntime-node@${ORT_VERSION})`,
        error,
      );
    }
    throw new OnnxRuntimeUnavailableError(`onnxruntime-node failed to load: ${message}`, error);
  }
  // onnxruntime-node is CommonJS; depending on the loader its API is on the namespace or on `default`.
  const ns = mod as Partial<OrtModule> & { default?: Partial<OrtModule> };
  const ort = typeof ns.InferenceSession === 'function' ? ns : ns.default;
  if (!ort || typeof ort.InferenceSession !== 'function' || typeof ort.Tensor !== 'function') {
    throw new OnnxRuntimeUnavailableError('the module loaded as onnxruntime-node has no InferenceSession/Tensor');
  }
  return ort as OrtModule;
}

/** onnxruntime graph optimisation levels. 'extended' and 'all' enable the transformer fusions. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Session settings this project uses; anything else can be passed through `overrides`. */
export interface OrtSessionOptions {
  /** Intra-op threads; default: onnxruntime's default (the number of physical cores). */
  readonly threads?: number;
  /** Default 'all'. */
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
  /** Where onnxruntime writes the optimised graph (to inspect its fusions). */
  readonly optimizedModelFilePath?: string;
  /**
   * Whether idle intra-op threads spin-wait for work (onnxruntime's default: true). Spinning
   * threads keep burning a core after each run, so several sessions used in turn (a benchmark
   * interleaving a model and its blocks) or other processes on a 2-core machine slow each other
   * down; timing code should pass false.
   */
  readonly allowSpinning?: boolean;
  /** 0 verbose … 4 fatal; default 3 (errors only), so fusions' informational messages stay quiet. */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Further onnxruntime session options, applied last. */
  readonly overrides?: InferenceSession.SessionOptions;
}

/** The onnxruntime session options for `options`: CPU provider, sequential execution, one inter-op thread. */
export function sessionOptions(options: OrtSessionOptions = {}): InferenceSession.SessionOptions {
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new RangeError(`sessionOptions: threads must be a positive integer, got ${options.threads}`);
  }
  return {
    executionProviders: ['cpu'],
    executionMode: 'sequential',
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    interOpNumThreads: 1,
    ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
    ...(options.optimizedModelFilePath !== undefined ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
    logSeverityLevel: options.logSeverityLevel ?? 3,
    ...options.overrides,
    ...(options.allowSpinning !== undefined
      ? // Session config key "session.intra_op.allow_spinning" (onnxruntime_session_options_config_keys.h).
        { extra: mergeExtra(options.overrides?.extra, { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } }) }
      : {}),
  };
}

function mergeExtra(a: unknown, b: Record<string, unknown>): Record<string, unknown> {
  if (typeof a !== 'object' || a === null) return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) {
    out[k] = typeof v === 'object' && v !== null ? mergeExtra(out[k], v as Record<string, unknown>) : v;
  }
  return out;
}

/** Creates an inference session from ONNX model bytes (e.g. `GraphBuilder.toBytes()`). */
export async function createSession(model: Uint8Array, options: OrtSessionOptions = {}): Promise<InferenceSession> {
  const ort = await loadOrt();
  return ort.InferenceSession.create(model, sessionOptions(options));
}
