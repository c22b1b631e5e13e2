// The engine of the "Measure this device" page (measure.md, browser/MeasureDevice.vue): builds a latency
// table in this browser from a plan the site ships (public/levels/<model>/, `ziplm latency
// --export-levels`) with @ziplm/latency/browser, and re-times pruned members against the dense model in
// the same browser ("verify in this browser"). Loaded by the component's `onMounted` through a dynamic
// import, so none of it runs while VitePress renders the page at build time.
//
// Everything the page reads is untrusted: the plan's manifest is validated and each graph checked against
// its size and sha256 by @ziplm/latency before onnxruntime-web sees it, and the files a visitor picks (a
// run directory) are parsed field by field here.

import {
  type BrowserVerificationReport,
  type BuildProgress,
  buildTableFromPlan,
  checkPlannedGraph,
  type LatencyPlanManifest,
  type LatencyTable,
  parseLatencyPlanManifest,
  parseLatencyTable,
  type ProtocolOverrides,
  serializeLatencyTable,
  type VerifyProgress,
  verifySpeedupsInBrowser,
} from '@ziplm/latency/browser';
import type { WebRuntime } from './ort-web.ts';

/** The plan a page loads: its validated manifest and where its graphs are. */
export interface LoadedPlan {
  readonly baseUrl: string;
  readonly manifest: LatencyPlanManifest;
  /** The manifest as fetched (buildTableFromPlan validates it again, as the library's contract). */
  readonly json: unknown;
  /** Sum of the graph files' sizes, in bytes. */
  readonly bytes: number;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Fetches and validates the plan's manifest under `baseUrl` (an absolute URL ending in `/`). */
export async function loadPlan(baseUrl: string): Promise<LoadedPlan> {
  const url = `${baseUrl}manifest.json`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const json: unknown = await response.json();
  const manifest = parseLatencyPlanManifest(json, url);
  const bytes = manifest.graphs.reduce((sum, g) => sum + (g.role !== 'overhead' && g.file ? g.file.size : 0), 0);
  return { baseUrl, manifest, json, bytes };
}

/** The page's quick protocol (`?rounds=N`, `?warmup=N`): fewer rounds for a fast, rougher table. */
export function protocolFromQuery(params: URLSearchParams): ProtocolOverrides | undefined {
  const int = (name: string, min: number): number | undefined => {
    const raw = params.get(name);
    if (raw === null) return undefined;
    const n = Number(raw);
    return Number.isInteger(n) && n >= min && n <= 1000 ? n : undefined;
  };
  const rounds = int('rounds', 3);
  const warmupRuns = int('warmup', 0);
  if (rounds === undefined && warmupRuns === undefined) return undefined;
  return {
    ...(rounds !== undefined ? { minRounds: rounds, maxRounds: rounds } : {}),
    ...(warmupRuns !== undefined ? { warmupRuns } : {}),
  };
}

/** Builds the plan's table with the page's onnxruntime-web (its backend and threads). */
export function buildTable(
  plan: LoadedPlan,
  runtime: WebRuntime,
  options: { protocol?: ProtocolOverrides; onProgress?: (progress: BuildProgress) => void } = {},
): Promise<LatencyTable> {
  return buildTableFromPlan({
    manifest: plan.json,
    // Checked against the manifest's size and sha256 by buildTableFromPlan before use.
    loadGraph: (file) => fetchBytes(`${plan.baseUrl}${file}`),
    ort: runtime.ort,
    backend: runtime.backend,
    threads: runtime.threads,
    ...(options.protocol ? { protocol: options.protocol } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/** A one-line description of build progress. */
export function describeBuildProgress(p: BuildProgress): string {
  switch (p.phase) {
    case 'prepare':
      return `opening graph ${p.done} of ${p.total}: ${p.what} (checked against the manifest's sha256)`;
    case 'warmup':
      return 'warm-up runs of every graph';
    case 'rounds':
      return `timing: round ${p.round}, ${p.active} graphs still short of the precision`;
    case 'remeasure':
      return `re-timing ${p.active} levels that broke monotonicity: round ${p.round}`;
    case 'monotonicity':
      return `${p.violations} monotonicity violations found`;
    case 'done':
      return 'table assembled';
  }
}

/** The file name the page offers the table as: model, backend and threads (a table is one device's). */
export function tableFileName(model: string, table: LatencyTable): string {
  const env = table.environment;
  return `${model}.${env.backend ?? 'wasm'}-${env.threads}t.b${env.batchSize}x${env.sequenceLength}.latency.json`;
}

/** The table as the JSON file the CLI reads. */
export function tableJson(table: LatencyTable): string {
  return serializeLatencyTable(table);
}

// ---------------------------------------------------------------------------------------------------
// "Verify in this browser": the members of a `ziplm prune --table <browser table>` run, re-timed here.

/** A file a visitor picked, with its path relative to the picked folder (`webkitRelativePath`). */
export interface PickedFile {
  readonly path: string;
  readonly file: Blob;
}

/** A member found in a picked run directory. */
export interface RunMember {
  readonly name: string;
  readonly target: number;
  /** The speedup the search predicted (results.json / member.json). */
  readonly predicted?: number;
  readonly layerHeads?: readonly number[];
  readonly layerIntermediate?: readonly number[];
  readonly onnx: Blob;
}

/** What a picked run directory holds for "verify in this browser". */
export interface PickedRun {
  readonly members: readonly RunMember[];
  /** The run's latency table (latency-table.json), when the folder has one. */
  readonly table?: LatencyTable;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const positiveNumber = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : undefined);
const counts = (x: unknown): number[] | undefined =>
  Array.isArray(x) && x.every((k) => Number.isInteger(k) && k >= 0) ? (x as number[]) : undefined;

async function readJson(file: PickedFile): Promise<unknown> {
  try {
    return JSON.parse(await file.file.text());
  } catch (error) {
    throw new Error(`${file.path}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** The member fields of a results.json entry or a member.json. */
function memberFields(record: unknown, where: string): Pick<RunMember, 'target' | 'predicted' | 'layerHeads' | 'layerIntermediate'> {
  if (!isRecord(record)) throw new Error(`${where}: expected an object`);
  const target = positiveNumber(record.target);
  if (target === undefined) throw new Error(`${where}: "target" must be a positive number`);
  const predicted = positiveNumber(record.predictedSpeedup);
  const layerHeads = counts(record.layerHeads);
  const layerIntermediate = counts(record.layerIntermediate);
  return {
    target,
    ...(predicted !== undefined ? { predicted } : {}),
    ...(layerHeads ? { layerHeads } : {}),
    ...(layerIntermediate ? { layerIntermediate } : {}),
  };
}

/**
 * Finds the members of a picked run directory: every `members/<name>/model.onnx` with its target and
 * prediction from `members/<name>/member.json` (or the run's results.json), and the run's
 * latency-table.json. Paths may start with the picked folder's own name.
 */
export async function readPickedRun(files: readonly PickedFile[]): Promise<PickedRun> {
  // Relative to the run directory: drop everything up to and including the folder holding members/.
  const byPath = new Map<string, PickedFile>();
  for (const f of files) {
    const parts = f.path.split('/');
    const i = parts.lastIndexOf('members');
    const rel = i >= 0 ? parts.slice(i).join('/') : parts[parts.length - 1]!;
    // Only the run's own top-level files (results.json, latency-table.json) are read outside members/.
    if (!byPath.has(rel) || i >= 0) byPath.set(rel, f);
  }
  const results = byPath.get('results.json');
  const fromResults = new Map<string, Pick<RunMember, 'target' | 'predicted' | 'layerHeads' | 'layerIntermediate'>>();
  if (results) {
    const json = await readJson(results);
    if (!isRecord(json) || !Array.isArray(json.members)) throw new Error(`${results.path}: expected a run's results.json (no "members")`);
    json.members.forEach((m, i) => {
      const dir = isRecord(m) && typeof m.dir === 'string' ? m.dir : undefined;
      if (dir) fromResults.set(dir.split('/').pop()!, memberFields(m, `${results.path}: members[${i}]`));
    });
  }
  const members: RunMember[] = [];
  for (const [rel, file] of byPath) {
    const match = /^members\/([^/]+)\/model\.onnx$/.exec(rel);
    if (!match) continue;
    const name = match[1]!;
    const record = byPath.get(`members/${name}/member.json`);
    const fields = record ? memberFields(await readJson(record), record.path) : fromResults.get(name);
    if (!fields) throw new Error(`${file.path}: no member.json beside it and no entry in results.json: its target is unknown`);
    members.push({ name, ...fields, onnx: file.file });
  }
  if (members.length === 0)
    throw new Error('no members/<name>/model.onnx in the picked folder: pick the run directory of a `ziplm prune` run');
  members.sort((a, b) => a.target - b.target || a.name.localeCompare(b.name));
  const tableFile = byPath.get('latency-table.json');
  const table = tableFile ? parseLatencyTable(await readJson(tableFile), tableFile.path) : undefined;
  return { members, ...(table ? { table } : {}) };
}

/** One verified member, as the page shows it. */
export type MemberVerdict = BrowserVerificationReport;

/**
 * Where the verification's workload comes from: a table measured in a browser gives the workload, the
 * engine settings it must be re-timed with and the predictions; any other table (a Node run's) or a plan
 * gives the workload only, and the predictions are the run's own (the search's, for another engine).
 */
function workloadSource(
  table: LatencyTable | undefined,
  plan: LatencyPlanManifest | undefined,
): { table: LatencyTable } | { environment: LatencyTable['environment'] } {
  if (table?.environment.engine === 'onnxruntime-web') return { table };
  const environment = table?.environment ?? plan?.environment;
  if (!environment) throw new Error('no latency table and no plan: the workload to time the members in is unknown');
  return { environment };
}

/**
 * Re-times `members` against `dense` (ONNX bytes) in this page, in paired rounds, and judges each
 * against its target as `ziplm verify` does (see `workloadSource` for what the table gives).
 */
export async function verifyMembers(options: {
  readonly runtime: WebRuntime;
  readonly dense: Uint8Array;
  readonly members: readonly RunMember[];
  readonly table?: LatencyTable;
  /** The workload when there is no table (a plan manifest's). */
  readonly plan?: LatencyPlanManifest;
  readonly rounds?: number;
  readonly onProgress?: (progress: VerifyProgress) => void;
}): Promise<MemberVerdict[]> {
  const members = await Promise.all(
    options.members.map(async (m) => ({
      name: m.name,
      target: m.target,
      ...(m.predicted !== undefined ? { predicted: m.predicted } : {}),
      graph: new Uint8Array(await m.onnx.arrayBuffer()),
    })),
  );
  return verifySpeedupsInBrowser({
    dense: options.dense,
    members,
    ...workloadSource(options.table, options.plan),
    ort: options.runtime.ort,
    backend: options.runtime.backend,
    threads: options.runtime.threads,
    ...(options.rounds !== undefined ? { rounds: options.rounds } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/** The dense model of a plan (`model-dense.onnx`, the speedup's reference), fetched and checked. */
export async function planDenseGraph(plan: LoadedPlan): Promise<Uint8Array> {
  const dense = plan.manifest.graphs.find((g) => g.role === 'dense');
  if (!dense || dense.role === 'overhead' || !dense.file) throw new Error(`${plan.baseUrl}manifest.json: the plan has no dense model`);
  const bytes = await fetchBytes(`${plan.baseUrl}${dense.file.name}`);
  await checkPlannedGraph(dense.file, bytes);
  return bytes;
}

/** A one-line description of verification progress. */
export function describeVerifyProgress(p: VerifyProgress): string {
  if (p.phase === 'prepare') return `opening ${p.what} (${p.done} of ${p.total})`;
  return p.phase === 'warmup' ? 'warm-up runs' : `paired rounds, dense against every member: round ${p.round}`;
}
