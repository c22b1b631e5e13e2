// Node parity of the browser table builder (issue 17, item 5): onnxruntime-web's wasm backend also runs
// in Node, so `buildTableFromPlan` builds a tiny table here from the plan `ziplm latency
// --export-levels` writes for the built-in tiny-bert, exactly as a page would (manifest JSON, graphs
// loaded by file name and checked), and the table has the structure of the onnxruntime-node table
// measured from the same plan directory. Few rounds: this checks the logic, not timings.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir, readConfigFile } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { type BuildProgress, buildTableFromPlan, type OrtWebModule } from '../src/browser/index.js';
import { inferenceEnvironment, LATENCY_PLAN_MANIFEST, type LatencyTable, parseLatencyTable } from '../src/index.js';
import { measureLatencyPlan, ortFingerprint, planLatencyTable, readLatencyPlan, writeLatencyPlan } from '../src/measure/index.js';
import { createOrtRunner } from '../src/measure/ort.js';

// onnxruntime-web is a devDependency of @ziplm/latency for this test only; the page passes its own.
// Imported by a computed specifier so that the package's type check does not depend on it.
const ORT_WEB = 'onnxruntime-web';
const ortWeb = await import(ORT_WEB).then(
  (module: OrtWebModule) => module,
  () => undefined,
);

const config = await readConfigFile(join(builtinModelDir('tiny-bert'), 'config.json'));
const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 16, threads: 1 });
// A few FFN levels of the solver's grid keep the test fast; the attention grid is whole (6 heads).
const protocol = { warmupRuns: 1, minRounds: 3, maxRounds: 3, calibrationModels: 2, ffnLevels: [192, 144, 96, 48, 24, 0] };

/** What two tables of one plan share whatever the engine: the grids, how levels were timed, the calibration's models. */
function structure(table: LatencyTable) {
  return {
    model: table.model,
    attention: table.attention.map((l) => l.kept),
    ffn: table.ffn.map((l) => l.kept),
    blockTiming: { context: table.blockTiming.context, layers: table.blockTiming.context === 'model' ? table.blockTiming.layers : 0 },
    calibrationModels: table.build?.calibration?.points.map((p) => [p.layerHeads, p.layerIntermediate]),
    // Monotonicity re-measurements (which the two engines may need for different levels) add rounds, so samples are not compared.
    nonPrunableSamples: table.nonPrunable.samples,
    warmupRuns: table.build?.warmupRuns,
    visitRuns: table.build?.visitRuns,
  };
}

describe.skipIf(ortWeb === undefined)('buildTableFromPlan with onnxruntime-web (wasm, Node)', () => {
  it('builds tiny-bert from its exported plan: a valid table with the structure of the onnxruntime-node table of the same plan', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ziplm-browser-')), 'tiny-bert.levels');
    await writeLatencyPlan(dir, planLatencyTable(config, env, protocol));
    const manifest: unknown = JSON.parse(await readFile(join(dir, LATENCY_PLAN_MANIFEST), 'utf8'));

    const progress: BuildProgress['phase'][] = [];
    const loaded: string[] = [];
    const webStarted = performance.now();
    const web = await buildTableFromPlan({
      manifest,
      loadGraph: async (file) => {
        loaded.push(file);
        return new Uint8Array(await readFile(join(dir, file)));
      },
      ort: ortWeb!,
      backend: 'wasm',
      threads: 1,
      onProgress: (p) => progress.push(p.phase),
    });
    const webSeconds = (performance.now() - webStarted) / 1000;
    expect(parseLatencyTable(JSON.parse(JSON.stringify(web)))).toEqual(web);
    expect(progress[0]).toBe('prepare');
    expect(progress.at(-1)).toBe('done');
    expect(loaded.length).toBe((await readLatencyPlan(dir)).manifest.graphs.length);
    expect(web.environment).toEqual({ ...env, engine: 'onnxruntime-web', backend: 'wasm', threads: 1 });
    expect(web.fingerprint).toMatchObject({ engine: 'onnxruntime-web', engineVersion: '1.30.0' });
    expect(web.fingerprint.web).toMatchObject({ simd: true, crossOriginIsolated: false, requestedThreads: 1 });
    // Node's performance.now() resolves far below 1 µs: one run per sample.
    expect(web.build!.timer!.resolutionMs).toBeLessThan(0.01);
    expect(web.build!.timer!.runsPerSample).toBe(1);
    expect(web.build!.notes!.join(' ')).toMatch(/performance\.now\(\) resolution measured at/);

    const plan = await readLatencyPlan(dir);
    const nodeStarted = performance.now();
    const node = await measureLatencyPlan(plan.manifest, {
      runner: await createOrtRunner(),
      loadGraph: (graph) => plan.loadGraph(graph.role === 'overhead' ? '' : graph.file!.name),
      fingerprint: await ortFingerprint(),
    });
    const nodeSeconds = (performance.now() - nodeStarted) / 1000;
    expect(structure(web)).toEqual(structure(node));
    for (const table of [web, node]) {
      expect(table.dense.median).toBeGreaterThan(table.nonPrunable.median);
      for (const l of [...table.attention, ...table.ffn]) expect(Number.isFinite(l.time) && l.time >= 0).toBe(true);
    }
    console.info(
      `tiny-bert table (${web.attention.length + web.ffn.length} levels, 3 rounds): onnxruntime-web wasm ` +
        `${webSeconds.toFixed(1)} s, dense ${web.dense.median.toFixed(3)} ms; onnxruntime-node ${nodeSeconds.toFixed(1)} s, dense ${node.dense.median.toFixed(3)} ms`,
    );
  }, 60_000);

  it('refuses an altered graph before onnxruntime-web sees it', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ziplm-browser-')), 'plan');
    await writeLatencyPlan(dir, planLatencyTable(config, env, { ...protocol, calibrationModels: 0 }));
    const manifest: unknown = JSON.parse(await readFile(join(dir, LATENCY_PLAN_MANIFEST), 'utf8'));
    await expect(
      buildTableFromPlan({
        manifest,
        loadGraph: async (file) => {
          const bytes = new Uint8Array(await readFile(join(dir, file)));
          bytes[100] ^= 0xff;
          return bytes;
        },
        ort: ortWeb!,
        backend: 'wasm',
      }),
    ).rejects.toThrow(/model-dense\.onnx: has sha256 [0-9a-f]{64}, the manifest says/);
  });
});
