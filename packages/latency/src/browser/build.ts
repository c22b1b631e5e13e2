// A latency table measured in the visitor's browser: the graphs of a plan written by `ziplm latency
// --export-levels DIR`, timed with onnxruntime-web in the same protocol as onnxruntime-node tables
// (warm visits, interleaved paired rounds, session renewal), with as many runs per timed sample as
// the page's coarsened `performance.now()` needs (measure-plan.ts), into the same table format.
// The manifest and the graphs are untrusted: the manifest is validated, and each graph's size and
// sha256 are checked against it before onnxruntime-web sees a byte.

import type { InferenceBackend, InferenceEnvironment } from '../environment.js';
import { LatencyPlanError } from '../errors.js';
import type { BuildProgress } from '../measure/measure-plan.js';
import { measureLatencyPlan } from '../measure/measure-plan.js';
import type { LatencyTablePlan, PlanProtocol } from '../plan.js';
import { checkLatencyPlan, checkPlannedGraph, LATENCY_PLAN_MANIFEST, parseLatencyPlanManifest } from '../plan.js';
import type { LatencyTable } from '../table.js';
import type { OrtWebModule } from './ort-web.js';
import { browserFingerprint, createOrtWebRunner } from './ort-web.js';

/** Protocol settings a page may change from the manifest's (e.g. fewer rounds for a quick table). */
export type ProtocolOverrides = Partial<Pick<PlanProtocol, 'warmupRuns' | 'minRounds' | 'maxRounds' | 'precision' | 'timeBudgetMs'>>;

/** Options of `buildTableFromPlan`. */
export interface BuildTableFromPlanOptions {
  /** The plan's `manifest.json`, parsed (`await response.json()`); validated here. */
  readonly manifest: unknown;
  /** The bytes of a graph file the manifest names (e.g. `fetch(new URL(file, planUrl))`); checked against its size and sha256. */
  readonly loadGraph: (file: string) => Promise<Uint8Array>;
  /** The `onnxruntime-web` module (`import * as ort from 'onnxruntime-web'`), its wasm paths set up by the page. */
  readonly ort: OrtWebModule;
  readonly backend: InferenceBackend;
  /** wasm threads to ask for; default 1. More than one needs a cross-origin-isolated page (else 1 is used, and the table says so). */
  readonly threads?: number;
  /**
   * Back-to-back runs per timed sample; default 'auto' (chosen from the measured resolution of
   * `performance.now()`, recorded in `build.timer`).
   */
  readonly runsPerSample?: number | 'auto';
  /** Protocol settings that replace the manifest's. */
  readonly protocol?: ProtocolOverrides;
  readonly onProgress?: (progress: BuildProgress) => void;
}

/**
 * Builds a latency table from a plan with onnxruntime-web. The table's environment is the plan's
 * workload with engine `onnxruntime-web`, the backend and the threads used; its fingerprint records
 * the user agent, cross-origin isolation, SIMD and the threads asked for (`fingerprint.web`).
 * Throws LatencyPlanError for a bad manifest or graph, MeasurementError when the engine fails.
 */
export async function buildTableFromPlan(options: BuildTableFromPlanOptions): Promise<LatencyTable> {
  const startedAt = performance.now();
  const manifest = parseLatencyPlanManifest(options.manifest, LATENCY_PLAN_MANIFEST);
  const plan: LatencyTablePlan = options.protocol ? { ...manifest, protocol: { ...manifest.protocol, ...options.protocol } } : manifest;
  if (options.protocol) checkLatencyPlan(plan, `${LATENCY_PLAN_MANIFEST} with the page's protocol settings`, true);
  const runner = createOrtWebRunner({
    ort: options.ort,
    backend: options.backend,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  });
  const { backend: _nodeBackend, ...workload } = plan.environment;
  const environment: InferenceEnvironment = { ...workload, engine: 'onnxruntime-web', backend: runner.backend, threads: runner.threads };
  const notes: string[] = [];
  if (runner.threads < runner.web.requestedThreads)
    notes.push(
      `${runner.web.requestedThreads} wasm threads were asked for; the page is not cross-origin isolated (no SharedArrayBuffer), so onnxruntime-web ran on ${runner.threads}.`,
    );
  return measureLatencyPlan(plan, {
    runner,
    environment,
    fingerprint: browserFingerprint(runner),
    async loadGraph(graph) {
      // The overhead graphs (isolated context) have no file; measureLatencyPlan builds them itself.
      if (graph.role === 'overhead' || !graph.file) throw new LatencyPlanError(LATENCY_PLAN_MANIFEST, `graph "${graph.id}" has no file`);
      const bytes = await options.loadGraph(graph.file.name);
      await checkPlannedGraph(graph.file, bytes);
      return bytes;
    },
    runsPerSample: options.runsPerSample ?? 'auto',
    notes,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    startedAt,
  });
}
