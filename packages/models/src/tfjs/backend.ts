// TensorFlow.js backend selection. Order of preference: @tensorflow/tfjs-node (native TensorFlow,
// only when the user installed it: it is an optional peer dependency that cannot be installed on
// every machine), then the wasm backend (SIMD, one thread), then the pure-JS cpu backend (20-100x
// slower, a reference only). `ZIPLM_BACKEND=node|wasm|cpu` forces one.
//
// Two wasm kernels are replaced (measured in ../shared/docs/toolchain.md):
// - BatchMatMul with transposeA/transposeB runs ~10x slower than without, and the gradients of
//   matMul use exactly those flags. The replacement materialises the transpose with the wasm
//   Transpose kernel and calls the original kernel without flags.
// - UnsortedSegmentSum (the gradient of gather, i.e. of every embedding lookup) is not implemented
//   on wasm; a small JS kernel provides it.
// Gradients: tfjs-core's Node bundle registers none; importing the union package `@tensorflow/tfjs`
// registers all of them.

import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ModelsError } from '../errors.js';

/** A backend ziplm can select: tfjs-node (`tensorflow`), wasm or cpu. */
export type BackendPreference = 'node' | 'wasm' | 'cpu';

/** The backend `initBackend` selected and why. */
export interface BackendInfo {
  /** tfjs backend name: `tensorflow` (tfjs-node), `wasm` or `cpu`. */
  backend: string;
  /** One line: why this backend, and why the ones before it were not used. */
  reason: string;
}

const ORDER: readonly BackendPreference[] = ['node', 'wasm', 'cpu'];
const TFJS_NAME: Record<BackendPreference, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

let cached: { key: string; promise: Promise<BackendInfo> } | undefined;

/**
 * Selects and initialises the TensorFlow.js backend and registers the gradients. Idempotent: a
 * second call with the same preference returns the first call's result without doing anything.
 *
 * - `ZIPLM_BACKEND=node|wasm|cpu` forces that backend; if it cannot be started, this throws.
 * - Otherwise `preferred` is tried first, then node → wasm → cpu; a backend that cannot be started
 *   is skipped and the reason is reported.
 *
 * @returns the tfjs backend name and a one-line reason, e.g.
 *   `{ backend: 'wasm', reason: '@tensorflow/tfjs-node is not installed; wasm: SIMD on, 1 thread, ...' }`.
 */
export function initBackend(preferred?: BackendPreference): Promise<BackendInfo> {
  // `process` is absent in browsers, where only the variable-free path applies.
  const raw = typeof process === 'undefined' ? undefined : process.env.ZIPLM_BACKEND;
  const env = raw?.trim().toLowerCase();
  let order: BackendPreference[];
  let forcedBy: string | undefined;
  if (env) {
    if (!(ORDER as readonly string[]).includes(env)) {
      return Promise.reject(new ModelsError(`ZIPLM_BACKEND must be one of node, wasm, cpu; got "${raw}"`));
    }
    order = [env as BackendPreference];
    forcedBy = `ZIPLM_BACKEND=${env}`;
  } else {
    if (preferred !== undefined && !ORDER.includes(preferred)) {
      return Promise.reject(new ModelsError(`initBackend: preferred backend must be one of node, wasm, cpu; got "${String(preferred)}"`));
    }
    order = preferred ? [preferred, ...ORDER.filter((b) => b !== preferred)] : [...ORDER];
  }
  const key = `${forcedBy ?? ''}|${order.join(',')}`;
  if (cached?.key === key) return cached.promise;
  const promise = select(order, forcedBy);
  cached = { key, promise };
  // A failed selection may succeed later (e.g. after the user installs something): do not cache it.
  promise.catch(() => {
    if (cached?.promise === promise) cached = undefined;
  });
  return promise;
}

async function select(order: BackendPreference[], forcedBy: string | undefined): Promise<BackendInfo> {
  await registerGradients();
  const skipped: string[] = [];
  for (const choice of order) {
    const attempt = await tryBackend(choice);
    if (attempt.ok) {
      const why = forcedBy ? `forced by ${forcedBy}` : skipped.length > 0 ? skipped.join('; ') : `${choice} is the first choice`;
      return { backend: TFJS_NAME[choice], reason: `${why}; ${attempt.detail}` };
    }
    if (forcedBy) throw new ModelsError(`${forcedBy}: ${attempt.detail}`);
    skipped.push(attempt.detail);
  }
  throw new ModelsError(`no TensorFlow.js backend could be started: ${skipped.join('; ')}`);
}

let gradientsRegistered: Promise<void> | undefined;

/**
 * `@tensorflow/tfjs` (the union package, a dependency pinned to 4.22.0) registers every op's gradient
 * on import, into the copy of `@tensorflow/tfjs-core` it depends on. When the user's tfjs-core (our
 * peer) is another version, the package manager installs two copies and the gradients land in the
 * one ziplm does not use: say so, with both versions, instead of failing later inside `tf.grads`.
 */
function registerGradients(): Promise<void> {
  gradientsRegistered ??= import('@tensorflow/tfjs').then((tfjs) => {
    if (tf.getGradient('BatchMatMul') !== undefined) return;
    const versions = (tfjs as { version?: Record<string, string> }).version ?? {};
    const union = versions.tfjs ?? 'unknown';
    const itsCore = versions['tfjs-core'] ?? 'unknown';
    throw new ModelsError(
      `importing @tensorflow/tfjs ${union} did not register gradients in the @tensorflow/tfjs-core ${tf.version_core} that @ziplm/models runs on ` +
        `(it registered them in its own @tensorflow/tfjs-core ${itsCore}: two copies are installed). ` +
        `Install @tensorflow/tfjs-core ${itsCore === 'unknown' ? union : itsCore}, the same version as @tensorflow/tfjs.`,
    );
  });
  const attempt = gradientsRegistered;
  // A failed registration may succeed after the user fixes the installation: do not cache it.
  attempt.catch(() => {
    if (gradientsRegistered === attempt) gradientsRegistered = undefined;
  });
  return attempt;
}

type Attempt = { ok: true; detail: string } | { ok: false; detail: string };

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const e = error as { code?: string; message?: string };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && String(e.message).includes(specifier);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

async function tryBackend(choice: BackendPreference): Promise<Attempt> {
  if (choice === 'node') {
    // A variable specifier keeps TypeScript from requiring the optional peer's types.
    const specifier: string = '@tensorflow/tfjs-node';
    try {
      await import(specifier);
    } catch (error) {
      if (isModuleNotFound(error, specifier)) return { ok: false, detail: `${specifier} is not installed` };
      return { ok: false, detail: `${specifier} failed to load (${message(error)})` };
    }
    if (tf.findBackendFactory('tensorflow') == null) {
      return { ok: false, detail: `${specifier} registered its backend with a different copy of @tensorflow/tfjs-core` };
    }
    if (!(await setBackendQuietly('tensorflow'))) return { ok: false, detail: `${specifier} is installed but its backend failed to start` };
    return { ok: true, detail: 'tfjs-node (native TensorFlow)' };
  }
  if (choice === 'wasm') {
    let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
    try {
      wasm = await import('@tensorflow/tfjs-backend-wasm');
    } catch (error) {
      return { ok: false, detail: `@tensorflow/tfjs-backend-wasm failed to load (${message(error)})` };
    }
    // Node disables wasm threads anyway (toolchain.md); say so explicitly so that a browser build
    // of the same code behaves the same.
    if (tf.engine().registry.wasm === undefined) wasm.setThreadsCount(1);
    installWasmKernelFixes();
    if (!(await setBackendQuietly('wasm'))) return { ok: false, detail: 'the wasm backend failed to start' };
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = wasm.getThreadsCount();
    return {
      ok: true,
      detail: `wasm: SIMD ${simd ? 'on' : 'off'}, ${threads} thread${threads === 1 ? '' : 's'}, BatchMatMul transpose and UnsortedSegmentSum fixes installed`,
    };
  }
  try {
    await import('@tensorflow/tfjs-backend-cpu');
  } catch (error) {
    return { ok: false, detail: `@tensorflow/tfjs-backend-cpu failed to load (${message(error)})` };
  }
  if (!(await setBackendQuietly('cpu'))) return { ok: false, detail: 'the cpu backend failed to start' };
  // The cpu backend prints a multi-line "install tfjs-node" banner on first use; our reason string
  // already says what was chosen and why, so mark the banner as shown.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return { ok: true, detail: 'cpu (pure JavaScript, a slow reference)' };
}

/** tf.setBackend logs a warning and returns false on failure; turn that into a boolean only. */
async function setBackendQuietly(name: string): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return false;
    await tf.ready();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// wasm kernel fixes
// ---------------------------------------------------------------------------------------------

/** Marks our replacement kernels so that installing twice is a no-op. */
const FIXED = Symbol.for('ziplm.wasmKernelFix');

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): TensorInfo;
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

/**
 * Replaces the wasm BatchMatMul and adds a wasm UnsortedSegmentSum (see the file comment).
 * Must run after `@tensorflow/tfjs-backend-wasm` is imported (its import registers the originals).
 * Exported for tests; `initBackend('wasm')` calls it.
 */
export function installWasmKernelFixes(): void {
  const original = tf.getKernel(tf.BatchMatMul, 'wasm') as (KernelConfig & { [FIXED]?: true }) | undefined;
  if (original === undefined) throw new ModelsError('installWasmKernelFixes: @tensorflow/tfjs-backend-wasm is not loaded');
  if (original[FIXED] !== true) {
    const transposeKernel = tf.getKernel(tf.Transpose, 'wasm');
    if (transposeKernel === undefined) throw new ModelsError('installWasmKernelFixes: the wasm Transpose kernel is missing');
    const matmul = original.kernelFunc;
    const transpose = transposeKernel.kernelFunc;
    const kernelFunc: KernelFunc = (args) => {
      const attrs = args.attrs as unknown as BatchMatMulAttrs;
      if (!attrs.transposeA && !attrs.transposeB) return matmul(args);
      const backend = args.backend as unknown as WasmBackendLike;
      const temporaries: TensorInfo[] = [];
      // Swap the last two axes of a rank >= 2 input: a materialised copy in wasm memory.
      const swapLast = (x: TensorInfo): TensorInfo => {
        const rank = x.shape.length;
        const perm = Array.from({ length: rank }, (_, i) => i);
        perm[rank - 2] = rank - 1;
        perm[rank - 1] = rank - 2;
        const t = transpose({ inputs: { x }, backend: args.backend, attrs: { perm } }) as TensorInfo;
        temporaries.push(t);
        return t;
      };
      const a = attrs.transposeA ? swapLast(args.inputs.a!) : args.inputs.a!;
      const b = attrs.transposeB ? swapLast(args.inputs.b!) : args.inputs.b!;
      try {
        return matmul({ ...args, inputs: { a, b }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      } finally {
        for (const t of temporaries) backend.disposeData(t.dataId);
      }
    };
    tf.unregisterKernel(tf.BatchMatMul, 'wasm');
    tf.registerKernel({ ...original, kernelFunc, [FIXED]: true } as KernelConfig);
  }

  const segmentSum = tf.getKernel(tf.UnsortedSegmentSum, 'wasm') as (KernelConfig & { [FIXED]?: true }) | undefined;
  if (segmentSum === undefined) {
    tf.registerKernel({
      kernelName: tf.UnsortedSegmentSum,
      backendName: 'wasm',
      kernelFunc: unsortedSegmentSumJs,
      [FIXED]: true,
    } as KernelConfig);
  }
}

/**
 * out[s, ...] = Σ_{i : ids[i] = s} x[i, ...]  (TensorFlow semantics: ids outside [0, numSegments)
 * are dropped). segmentIds covers the leading axes of x; the remaining axes are summed as rows.
 */
const unsortedSegmentSumJs: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as unknown as WasmBackendLike;
  const x = inputs.x!;
  const segmentIds = inputs.segmentIds!;
  const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
  const idRank = segmentIds.shape.length;
  for (let i = 0; i < idRank; i++) {
    if (segmentIds.shape[i] !== x.shape[i]) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`);
    }
  }
  const rows = segmentIds.shape.reduce((p, v) => p * v, 1);
  const rowSize = x.shape.slice(idRank).reduce((p, v) => p * v, 1);
  const ids = b.readSync(segmentIds.dataId) as Int32Array | Float32Array;
  const values = b.readSync(x.dataId) as Float32Array | Int32Array;
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * rowSize) : new Float32Array(numSegments * rowSize);
  for (let r = 0; r < rows; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue;
    const src = r * rowSize;
    const dst = s * rowSize;
    for (let j = 0; j < rowSize; j++) out[dst + j] += values[src + j]!;
  }
  return b.makeOutput([numSegments, ...x.shape.slice(idRank)], x.dtype, undefined, out);
};
