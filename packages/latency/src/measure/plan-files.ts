// A latency plan as a directory (Node): one ONNX file per graph and `manifest.json`, what
// `ziplm latency --export-levels DIR` writes for `@ziplm/latency/browser` to measure. Written
// atomically (the whole directory appears at once, @ziplm/core/node), read back with every graph's
// size and sha256 checked before it is used.

import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDirectoryAtomic } from '@ziplm/core/node';
import { LatencyPlanError } from '../errors.js';
import type { LatencyPlanManifest, PlannedGraph } from '../plan.js';
import {
  checkPlannedGraph,
  LATENCY_PLAN_FORMAT,
  LATENCY_PLAN_LIMITS,
  LATENCY_PLAN_MANIFEST,
  LATENCY_PLAN_VERSION,
  parseLatencyPlanManifest,
  sha256Hex,
} from '../plan.js';
import type { PlannedLatencyTable } from './build.js';

/** Progress of `writeLatencyPlan`: one event per graph written. */
export interface WritePlanProgress {
  readonly done: number;
  readonly total: number;
  /** The graph's id. */
  readonly what: string;
}

/** The file name of a graph in a plan directory: its id with `:` as `-` (`ffn-3072.onnx`). */
export function planGraphFileName(graph: PlannedGraph): string {
  return `${graph.id.replace(':', '-')}.onnx`;
}

/**
 * Writes `planned` to the directory `dir` (replacing it atomically): every file-backed graph
 * exported one at a time, then the manifest recording each file's name, sha256 and size. Returns
 * the manifest.
 */
export async function writeLatencyPlan(
  dir: string,
  planned: PlannedLatencyTable,
  options: { onProgress?: (progress: WritePlanProgress) => void } = {},
): Promise<LatencyPlanManifest> {
  let manifest: LatencyPlanManifest | undefined;
  await writeDirectoryAtomic(dir, async (tmp) => {
    const graphs: PlannedGraph[] = [];
    const total = planned.plan.graphs.length;
    for (const graph of planned.plan.graphs) {
      if (graph.role === 'overhead') graphs.push(graph);
      else {
        const bytes = planned.graphBytes(graph);
        const name = planGraphFileName(graph);
        await writeFile(join(tmp, name), bytes);
        graphs.push({ ...graph, file: { name, sha256: await sha256Hex(bytes), size: bytes.byteLength } });
      }
      options.onProgress?.({ done: graphs.length, total, what: graph.id });
    }
    manifest = {
      format: LATENCY_PLAN_FORMAT,
      version: LATENCY_PLAN_VERSION,
      createdAt: new Date().toISOString(),
      ...planned.plan,
      graphs,
    };
    // Checked as a reader will check it, so nothing unreadable is ever written.
    parseLatencyPlanManifest(JSON.parse(JSON.stringify(manifest)), join(dir, LATENCY_PLAN_MANIFEST));
    await writeFile(join(tmp, LATENCY_PLAN_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return manifest!;
}

/** A plan directory read back: the validated manifest and a loader that checks each graph against it. */
export interface LatencyPlanDirectory {
  readonly manifest: LatencyPlanManifest;
  /** The bytes of a graph file named by the manifest, checked (size, sha256) against it. */
  loadGraph(file: string): Promise<Uint8Array>;
}

/** Reads and validates the plan in `dir` (LatencyPlanError naming the file and the problem). */
export async function readLatencyPlan(dir: string): Promise<LatencyPlanDirectory> {
  const manifestFile = join(dir, LATENCY_PLAN_MANIFEST);
  let text: string;
  try {
    const { size } = await stat(manifestFile);
    if (size > LATENCY_PLAN_LIMITS.manifestBytes)
      throw new LatencyPlanError(manifestFile, `is ${size} bytes, more than a manifest may have (${LATENCY_PLAN_LIMITS.manifestBytes})`);
    text = await readFile(manifestFile, 'utf8');
  } catch (err) {
    if (err instanceof LatencyPlanError) throw err;
    throw new LatencyPlanError(manifestFile, `cannot be read: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new LatencyPlanError(manifestFile, `is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const manifest = parseLatencyPlanManifest(json, manifestFile);
  const files = new Map(manifest.graphs.flatMap((g) => (g.role !== 'overhead' && g.file ? [[g.file.name, g.file] as const] : [])));
  return {
    manifest,
    async loadGraph(name: string): Promise<Uint8Array> {
      const file = files.get(name);
      if (!file) throw new LatencyPlanError(join(dir, name), 'is not a graph of this plan');
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(join(dir, file.name)));
      } catch (err) {
        throw new LatencyPlanError(join(dir, file.name), `cannot be read: ${(err as Error).message}`, { cause: err });
      }
      await checkPlannedGraph(file, bytes);
      return bytes;
    },
  };
}
