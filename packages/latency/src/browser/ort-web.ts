// onnxruntime-web as a SessionRunner. The module is passed in by the page (`import * as ort from
// 'onnxruntime-web'`), never imported here: the page chooses its bundle (wasm only, or with WebGPU)
// and where the .wasm files are served from, and @ziplm/latency needs no dependency on it. The
// types below are the part of onnxruntime-web's API this runner uses.

import type { DeviceFingerprint, InferenceBackend, InferenceEnvironment, WebRuntimeInfo } from '../environment.js';
import { MeasurementError } from '../errors.js';
import type { EngineSession, FeedTensor, InputInfo, SessionRunner } from '../measure/runner.js';

/** An onnxruntime-web tensor (opaque here). */
export type OrtWebTensor = object;

/** The metadata onnxruntime-web reports for a graph input. */
export type OrtWebValueMetadata =
  | { readonly name: string; readonly isTensor: false }
  | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: ReadonlyArray<number | string> };

/** A loaded onnxruntime-web session. */
export interface OrtWebSession {
  readonly inputMetadata: readonly OrtWebValueMetadata[];
  run(feeds: Record<string, OrtWebTensor>): Promise<unknown>;
  release(): Promise<void>;
}

/** The session options this runner passes. */
export interface OrtWebSessionOptions {
  readonly executionProviders: readonly InferenceBackend[];
  readonly graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
}

/** The part of the `onnxruntime-web` module the runner uses (pass the module itself). */
export interface OrtWebModule {
  readonly env: {
    readonly wasm: { numThreads?: number };
    readonly versions: { readonly web?: string; readonly common?: string };
  };
  readonly InferenceSession: { create(model: Uint8Array, options?: OrtWebSessionOptions): Promise<OrtWebSession> };
  readonly Tensor: {
    new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtWebTensor;
    new (type: 'int64', data: BigInt64Array, dims: readonly number[]): OrtWebTensor;
  };
}

/**
 * A WebAssembly module whose one function uses a 128-bit SIMD instruction (`i8x16.splat`): an
 * engine that validates it runs SIMD code. onnxruntime-web 1.19 and later ship SIMD builds only.
 */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x0a, 0x01, 0x08,
  0x00, 0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x62, 0x0b,
]);

/** Whether this JavaScript engine runs WebAssembly SIMD. */
export function webAssemblySimd(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** What the page offers onnxruntime-web: isolation (threads), SIMD, the user agent. */
function webRuntime(requestedThreads: number): WebRuntimeInfo {
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  return {
    userAgent: nav?.userAgent ?? 'unknown',
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    simd: webAssemblySimd(),
    requestedThreads,
  };
}

/**
 * The wasm threads onnxruntime-web can use when `requested` are asked for: more than one needs a
 * SharedArrayBuffer, which a browser only offers to a cross-origin-isolated page (onnxruntime-web
 * then falls back to one thread). Node (no `crossOriginIsolated` global) has SharedArrayBuffer.
 */
export function usableWasmThreads(requested: number): number {
  if (requested <= 1) return 1;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return typeof SharedArrayBuffer === 'function' && isolated !== false ? requested : 1;
}

/** Options of `createOrtWebRunner`. */
export interface OrtWebRunnerOptions {
  /** The `onnxruntime-web` module. */
  readonly ort: OrtWebModule;
  readonly backend: InferenceBackend;
  /**
   * Intra-op threads asked for (wasm); default 1. Set on `ort.env.wasm.numThreads` here, which
   * onnxruntime-web reads once, when its first session is created: create the runner before any other
   * session of the page.
   */
  readonly threads?: number;
}

/** An onnxruntime-web runner and what it found about the page. */
export interface OrtWebRunner extends SessionRunner {
  readonly engine: 'onnxruntime-web';
  readonly backend: InferenceBackend;
  /** The threads onnxruntime-web uses (`usableWasmThreads`), recorded as the environment's `threads`. */
  readonly threads: number;
  readonly web: WebRuntimeInfo;
}

/** The onnxruntime-web session runner. */
export function createOrtWebRunner(options: OrtWebRunnerOptions): OrtWebRunner {
  const { ort, backend } = options;
  const requested = options.threads ?? 1;
  if (!Number.isInteger(requested) || requested < 1) throw new MeasurementError(`threads must be a positive integer, got ${requested}`);
  if (backend !== 'wasm' && backend !== 'webgpu')
    throw new MeasurementError(`backend must be "wasm" or "webgpu", got ${JSON.stringify(backend)}`);
  const threads = usableWasmThreads(requested);
  ort.env.wasm.numThreads = threads;
  return {
    engine: 'onnxruntime-web',
    engineVersion: ort.env.versions.web ?? ort.env.versions.common ?? 'unknown',
    backend,
    threads,
    web: webRuntime(requested),
    async createSession(model: Uint8Array, env: InferenceEnvironment): Promise<EngineSession> {
      if (env.engine !== 'onnxruntime-web' || env.backend !== backend || env.threads !== threads)
        throw new MeasurementError(
          `this onnxruntime-web runner (${backend}, ${threads} thread${threads === 1 ? '' : 's'}) cannot measure ${env.engine}${env.backend ? `/${env.backend}` : ''} with ${env.threads} threads`,
        );
      let session: OrtWebSession;
      try {
        session = await ort.InferenceSession.create(model, {
          executionProviders: [backend],
          graphOptimizationLevel: env.graphOptimizationLevel,
        });
      } catch (err) {
        throw new MeasurementError(
          `onnxruntime-web (${backend}) could not load a graph (${model.length} bytes): ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      const inputs: InputInfo[] = session.inputMetadata.map((m) =>
        m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] },
      );
      let feeds: Record<string, OrtWebTensor> | undefined;
      return {
        inputs,
        bind(list: readonly FeedTensor[]) {
          // Wrapped once, as for onnxruntime-node: every timed run reuses the same tensors.
          feeds = {};
          for (const f of list)
            feeds[f.name] =
              f.data instanceof Float32Array ? new ort.Tensor('float32', f.data, f.dims) : new ort.Tensor('int64', f.data, f.dims);
        },
        async run() {
          if (!feeds) throw new MeasurementError('run() before bind(): inputs must be preallocated');
          await session.run(feeds);
        },
        async release() {
          await session.release();
        },
      };
    },
  };
}

/**
 * The fingerprint of the device a page runs on. Browsers do not tell the CPU model; the core count
 * is `navigator.hardwareConcurrency`, the platform `navigator.platform`, and the user agent is the
 * runtime version (and `web.userAgent`).
 */
export function browserFingerprint(runner: OrtWebRunner): DeviceFingerprint {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number; platform?: string } }).navigator;
  const cores = nav?.hardwareConcurrency;
  return {
    cpuModel: 'unknown (browser)',
    logicalCores: Number.isInteger(cores) && cores! >= 1 ? cores! : 1,
    platform: nav?.platform || 'unknown',
    arch: 'unknown',
    engine: runner.engine,
    engineVersion: runner.engineVersion,
    runtimeVersion: runner.web.userAgent,
    web: runner.web,
  };
}
