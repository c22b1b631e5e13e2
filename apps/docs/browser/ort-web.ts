// onnxruntime-web on the docs site: which build a page loads, where its wasm files come from, how many
// threads it runs, and whether WebGPU is there. Every browser page of the site (the demo, "Measure this
// device") goes through here, so they all run the same way.
//
// - The wasm binaries are served by the site itself (public/ort/, copied from node_modules by
//   scripts/browser-assets.ts at build time): nothing is fetched from a CDN, and the docs check blocks
//   any request outside the site.
// - Threads: onnxruntime-web's wasm threads need SharedArrayBuffer, which browsers give only to a
//   cross-origin isolated page (served with COOP: same-origin and COEP: require-corp). Without it the
//   runtime runs on the page's own thread, and `performance.now()` is coarsened to 100 µs in Chromium
//   (5 µs when isolated), so timings repeat each model enough to stay well above that resolution.
// - Two builds: `onnxruntime-web/wasm` (CPU only, 14 MB of wasm) and `onnxruntime-web/webgpu` (the
//   WebGPU execution provider, 27 MB), loaded only when the browser offers a WebGPU adapter and the
//   reader picks it.

import type * as OrtWeb from 'onnxruntime-web';

export type OrtWebModule = typeof OrtWeb;

/** The execution provider a page's sessions run on. */
export type WebBackend = 'wasm' | 'webgpu';

/** How a page runs onnxruntime-web: recorded next to every timing it shows. */
export interface WebRuntime {
  readonly ort: OrtWebModule;
  readonly backend: WebBackend;
  /** wasm threads the sessions run with (1 when the page is not cross-origin isolated). */
  readonly threads: number;
  readonly crossOriginIsolated: boolean;
  /** Resolution of `performance.now()` on this page, in ms (measured, see `timerResolutionMs`). */
  readonly timerResolutionMs: number;
  /** onnxruntime-web's version (`ort.env.versions.web`). */
  readonly version: string;
}

/** The thread counts a reader may ask for with `?threads=N` (isolated pages only). */
export const MAX_WASM_THREADS = 8;

/**
 * wasm threads for a page: 1 without cross-origin isolation (no SharedArrayBuffer, so no worker threads);
 * otherwise `requested` when given and valid, else one per logical core, at most 4. (onnxruntime-web's
 * own default is half the cores, which on a 2-core machine is one thread even when isolated; ziplm's
 * Node tables use every core, so the page does too.)
 */
export function wasmThreadCount(isolated: boolean, hardwareConcurrency: number, requested?: number): number {
  if (!isolated) return 1;
  if (requested !== undefined && Number.isInteger(requested) && requested >= 1 && requested <= MAX_WASM_THREADS) return requested;
  return Math.max(1, Math.min(4, hardwareConcurrency));
}

/**
 * The smallest step of `performance.now()` seen in `samples` back-to-back reads, in ms: Chromium
 * coarsens the clock to 100 µs without cross-origin isolation and 5 µs with it (plus jitter).
 */
export function timerResolutionMs(samples = 2000, now: () => number = () => performance.now()): number {
  let smallest = Number.POSITIVE_INFINITY;
  let previous = now();
  for (let i = 0; i < samples; i++) {
    const t = now();
    if (t > previous) {
      smallest = Math.min(smallest, t - previous);
      previous = t;
    }
  }
  return Number.isFinite(smallest) ? smallest : 0;
}

/**
 * Loads onnxruntime-web for `backend`, with its wasm files under `wasmBaseUrl` (an absolute URL ending
 * in `/`, e.g. the site's `/ort/`) and `threads` wasm threads. Call once per page: onnxruntime-web
 * reads these settings when its wasm module starts, which is on the first session.
 */
export async function loadOrtWeb(backend: WebBackend, wasmBaseUrl: string, threads: number): Promise<WebRuntime> {
  const ort: OrtWebModule = backend === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = wasmBaseUrl;
  ort.env.wasm.numThreads = threads;
  // No proxy worker: sessions run on the page's thread (plus the wasm threads), so a timing is the
  // model's own time, not a message round trip to a worker.
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  return {
    ort,
    backend,
    threads,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    timerResolutionMs: timerResolutionMs(),
    version: ort.env.versions.web ?? 'unknown',
  };
}

/**
 * Creates a session for ONNX bytes on the runtime's backend, with every graph optimisation (as ziplm's
 * Node timings use). The runtime's own log shows errors only (as in @ziplm/onnx/runtime): it writes its
 * warnings with console.error, e.g. that WebGPU leaves shape operators on the CPU, which is by design.
 */
export function createWebSession(runtime: WebRuntime, bytes: ArrayBuffer): Promise<OrtWeb.InferenceSession> {
  return runtime.ort.InferenceSession.create(new Uint8Array(bytes), {
    executionProviders: [runtime.backend],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
}

// WebGPU's types are not in TypeScript's DOM library; this is the little of it the probe reads.
interface WebGpuAdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
  /** A software adapter (e.g. SwiftShader): WebGPU works, but on the CPU. */
  readonly isFallbackAdapter?: boolean;
}
interface WebGpuAdapter {
  readonly info?: WebGpuAdapterInfo;
}
interface WebGpuNavigator {
  readonly gpu?: { requestAdapter(): Promise<WebGpuAdapter | null> };
}

/** Whether the browser offers WebGPU, and the adapter or the reason it does not. */
export type WebGpuProbe =
  | { readonly available: true; readonly adapter: string; readonly software: boolean }
  | { readonly available: false; readonly reason: string };

/** Asks the browser for a WebGPU adapter (never throws). */
export async function probeWebGpu(nav: WebGpuNavigator = globalThis.navigator as Navigator & WebGpuNavigator): Promise<WebGpuProbe> {
  if (nav?.gpu === undefined) return { available: false, reason: 'this browser has no navigator.gpu (WebGPU is off or unsupported)' };
  try {
    const adapter = await nav.gpu.requestAdapter();
    if (adapter === null) return { available: false, reason: 'navigator.gpu.requestAdapter() found no adapter (no usable GPU)' };
    const info = adapter.info;
    const name = [info?.vendor, info?.architecture, info?.description].filter((s) => s !== undefined && s !== '').join(' ');
    return { available: true, adapter: name === '' ? 'an unnamed adapter' : name, software: info?.isFallbackAdapter === true };
  } catch (error) {
    return { available: false, reason: `navigator.gpu.requestAdapter() failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}
