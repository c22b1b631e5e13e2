// The plan / measure split (simulated engine, exact): a table measured from a plan, in memory or
// from a plan directory, is the table buildLatencyTable builds; the manifest is validated as
// untrusted input; the timer's resolution decides the runs per sample; web environments and tables.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertConfig } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import {
  describeEnvironment,
  environmentDifferences,
  inferenceEnvironment,
  LATENCY_PLAN_MANIFEST,
  LatencyPlanError,
  type LatencyTable,
  loadLatencyTable,
  parseLatencyPlanManifest,
  parseLatencyTable,
  saveLatencyTable,
  sha256Hex,
  workloadDifferences,
} from '../src/index.js';
import {
  buildLatencyTable,
  measureLatencyPlan,
  measureTimerResolution,
  ortFingerprint,
  planLatencyTable,
  readLatencyPlan,
  writeLatencyPlan,
} from '../src/measure/index.js';
import { InterleavedTimer } from '../src/measure/protocol.js';
import { fakeEngine, type GraphInfo } from './fake-runner.js';

const config = bertConfig({ hiddenSize: 16, numHeads: 4, intermediateSize: 32, numLayers: 3, vocabSize: 50, maxPositions: 32 });
const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 8 });
const quick = { warmupRuns: 1, minRounds: 4, maxRounds: 8, calibrationModels: 2 };

// The simulated costs of build.test.ts (ms).
function cost(info: GraphInfo): number {
  const layers = info.layerHeads.reduce((s, h, l) => s + 0.1 * h + 0.01 * info.layerIntermediate[l]!, 0);
  if (info.kind === 'model') return 0.2 + 1.0 + layers;
  if (info.kind === 'attention') return 0.2 + 0.05 + layers;
  if (info.kind === 'ffn') return 0.2 + layers;
  return 0.2;
}

/** The table without what differs between two builds of the same measurements (time of day, wall-clock seconds). */
function measurements(table: LatencyTable) {
  const { createdAt: _createdAt, build, ...rest } = table;
  const { seconds: _seconds, ...buildRest } = build!;
  return { ...rest, build: buildRest };
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ziplm-plan-'));
}

describe('plan → measure → assemble', () => {
  for (const context of ['model', 'isolated'] as const) {
    it(`${context} context: measuring the plan gives buildLatencyTable's table, in memory and from a plan directory`, async () => {
      const options = { ...quick, context };
      const direct = fakeEngine(cost);
      const built = await buildLatencyTable(config, env, { ...options, runner: direct.runner, clock: direct.clock });

      const planned = planLatencyTable(config, env, options);
      expect(planned.plan.graphs.map((g) => g.id)).toEqual([
        'model:dense',
        'model:empty',
        ...(context === 'model' ? ['context:empty'] : []),
        'attention:4',
        'attention:3',
        'attention:2',
        'attention:1',
        ...planned.plan.ffnLevels.filter((k) => k > 0).map((k) => `ffn:${k}`),
        'calibration:0',
        'calibration:1',
        ...(context === 'isolated' ? ['overhead:attention', 'overhead:ffn'] : []),
      ]);
      const inMemory = fakeEngine(cost);
      const fromPlan = await measureLatencyPlan(planned.plan, {
        runner: inMemory.runner,
        clock: inMemory.clock,
        loadGraph: (graph) => planned.graphBytes(graph),
        fingerprint: built.fingerprint,
      });
      expect(measurements(fromPlan)).toEqual(measurements(built));

      const dir = join(await tempDir(), 'plan');
      const manifest = await writeLatencyPlan(dir, planned);
      const files = (await readdir(dir)).sort();
      expect(files).toEqual(
        [LATENCY_PLAN_MANIFEST, ...manifest.graphs.flatMap((g) => (g.role === 'overhead' ? [] : [g.file!.name]))].sort(),
      );
      const read = await readLatencyPlan(dir);
      expect(read.manifest).toEqual(JSON.parse(JSON.stringify(manifest)));
      const fromFiles = fakeEngine(cost);
      const table = await measureLatencyPlan(read.manifest, {
        runner: fromFiles.runner,
        clock: fromFiles.clock,
        loadGraph: (graph) => read.loadGraph(graph.role === 'overhead' ? '' : graph.file!.name),
        fingerprint: built.fingerprint,
      });
      expect(measurements(table)).toEqual(measurements(built));
    });
  }

  it('an INT8 plan has the FP32 reference graph', () => {
    const plan = planLatencyTable(config, inferenceEnvironment({ sequenceLength: 8, precision: 'int8-dynamic' }), quick).plan;
    expect(plan.graphs.filter((g) => g.role === 'reference').map((g) => g.id)).toEqual(['model:reference']);
  });
});

describe('the plan manifest (untrusted input)', () => {
  const dirPromise = (async () => {
    const dir = join(await tempDir(), 'plan');
    await writeLatencyPlan(dir, planLatencyTable(config, env, quick));
    return dir;
  })();
  const manifestJson = async () =>
    JSON.parse(await readFile(join(await dirPromise, LATENCY_PLAN_MANIFEST), 'utf8')) as Record<string, unknown>;
  type Graphs = Array<Record<string, unknown> & { file?: Record<string, unknown> }>;

  it('records the model shape, the environment, the protocol and every file with its sha256 and size', async () => {
    const dir = await dirPromise;
    const manifest = parseLatencyPlanManifest(await manifestJson());
    expect(manifest).toMatchObject({ format: 'ziplm-latency-plan', version: 1, context: 'model', contextLayers: 3 });
    expect(manifest.model).toEqual({ modelType: 'bert', hiddenSize: 16, numHeads: 4, intermediateSize: 32, numLayers: 3, vocabSize: 50 });
    expect(manifest.environment).toEqual(env);
    expect(manifest.protocol).toMatchObject({ warmupRuns: 1, minRounds: 4, maxRounds: 8, visitRuns: 2, renewSessionsEvery: 10, seed: 0 });
    for (const graph of manifest.graphs) {
      if (graph.role === 'overhead') continue;
      const bytes = new Uint8Array(await readFile(join(dir, graph.file!.name)));
      expect(graph.file).toEqual({ name: `${graph.id.replace(':', '-')}.onnx`, sha256: await sha256Hex(bytes), size: bytes.byteLength });
    }
  });

  it('refuses file names with a path, bad hashes, missing or unplanned graphs, and oversized lists, naming the field', async () => {
    const bad = async (edit: (m: Record<string, unknown> & { graphs: Graphs }) => void, problem: RegExp) => {
      const m = (await manifestJson()) as Record<string, unknown> & { graphs: Graphs };
      edit(m);
      expect(() => parseLatencyPlanManifest(m, 'plan/manifest.json')).toThrow(LatencyPlanError);
      expect(() => parseLatencyPlanManifest(m, 'plan/manifest.json')).toThrow(problem);
    };
    await bad((m) => {
      m.graphs[0]!.file!.name = '../dense.onnx';
    }, /graphs\[0\]\.file\.name" must be a plain file name/);
    await bad((m) => {
      m.graphs[0]!.file!.name = 'sub/dense.onnx';
    }, /plain file name/);
    await bad((m) => {
      m.graphs[0]!.file!.name = 'C:\\dense.onnx';
    }, /plain file name/);
    await bad((m) => {
      m.graphs[1]!.file!.sha256 = 'ABC';
    }, /graphs\[1\]\.file\.sha256" must be 64 lower-case hex digits/);
    await bad((m) => {
      m.graphs[1]!.file!.size = 2 ** 40;
    }, /graphs\[1\]\.file\.size" must be an integer in/);
    await bad((m) => void m.graphs.splice(3, 1), /graphs" lack graph "attention:4"/);
    await bad((m) => {
      m.graphs[3]!.kept = 5;
    }, /must be "attention:5" for this role/);
    await bad((m) => {
      m.graphs[1]!.file = m.graphs[0]!.file;
    }, /duplicates file "model-dense.onnx"/);
    await bad((m) => void delete m.graphs[1]!.file, /graphs\[1\]\.file" is missing/);
    await bad((m) => {
      m.graphs = new Array(5000).fill(m.graphs[0]);
    }, /graphs" must have at most 1024 graphs/);
    await bad((m) => {
      m.format = 'ziplm-latency-table';
    }, /format" must be "ziplm-latency-plan"/);
    await bad((m) => {
      m.model = { ...(m.model as object), numLayers: 100_000 };
    }, /model\.numLayers" must be <= 1024/);
    await bad((m) => {
      m.environment = { ...(m.environment as object), sequenceLength: 1 << 30 };
    }, /tokens per run/);
    await bad((m) => {
      m.attentionLevels = [4, 2, 3, 0];
    }, /attentionLevels\[2\]" must be below the previous level/);
    await bad((m) => void delete m.protocol, /protocol" is missing/);
  });

  it('reading a plan directory checks each graph against its size and sha256', async () => {
    const dir = await dirPromise;
    const copy = join(await tempDir(), 'plan');
    const manifest = await writeLatencyPlan(copy, planLatencyTable(config, env, quick));
    const name = manifest.graphs.find((g) => g.id === 'ffn:32')!;
    if (name.role === 'overhead') throw new Error('unexpected');
    const file = join(copy, name.file!.name);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] ^= 1;
    await writeFile(file, bytes);
    const read = await readLatencyPlan(copy);
    await expect(read.loadGraph(name.file!.name)).rejects.toThrow(/ffn-32\.onnx: has sha256 [0-9a-f]{64}, the manifest says/);
    await writeFile(file, bytes.subarray(1));
    await expect(read.loadGraph(name.file!.name)).rejects.toThrow(/has \d+ bytes, the manifest says/);
    await expect(read.loadGraph('../manifest.json')).rejects.toThrow(/is not a graph of this plan/);
    expect((await readLatencyPlan(dir)).manifest.graphs.length).toBe(manifest.graphs.length);
  });
});

describe('the timer resolution', () => {
  it('is measured as the median step of the clock, jitter aside', () => {
    let t = 0;
    // A 0.1 ms clock, read every 0.003 ms, with jitter on the step boundary.
    const jittered = () => {
      t += 0.003;
      const step = Math.floor(t / 0.1);
      return (step + (step % 3 === 0 ? 0.2 : 0)) * 0.1;
    };
    expect(measureTimerResolution(jittered)).toBeCloseTo(0.1, 10);
    expect(() => measureTimerResolution(() => 1, 21, 1000)).toThrow(/did not advance in 1000 readings/);
  });

  it('runs per sample: the fastest configuration spans the asked time; every sample is its runs averaged', async () => {
    let now = 0;
    const timer = new InterleavedTimer({ warmupRuns: 0, minRounds: 2, maxRounds: 2, clock: () => Math.floor(now * 10) / 10 });
    timer.add('fast', async () => {
      now += 0.03;
    });
    timer.add('slow', async () => {
      now += 0.25;
    });
    expect(await timer.chooseRunsPerSample(10)).toBe(334);
    expect(timer.runsPerSample).toBe(334);
    await timer.untilPrecise();
    expect(timer.summary('fast').median).toBeCloseTo(0.03, 3);
    expect(timer.summary('slow').median).toBeCloseTo(0.25, 3);
    await expect(timer.chooseRunsPerSample(10)).rejects.toThrow(/before the first timed round/);
  });

  it("'auto' records the resolution and the runs per sample in build.timer and build.notes", async () => {
    const engine = fakeEngine(cost);
    let reads = 0;
    // A 0.1 ms clock that also advances a little per reading (so its resolution can be measured).
    const clock = () => Math.floor((engine.clock() + ++reads * 1e-5) * 10) / 10;
    const planned = planLatencyTable(config, env, { ...quick, calibrationModels: 0 });
    const table = await measureLatencyPlan(planned.plan, {
      runner: engine.runner,
      clock,
      loadGraph: (graph) => planned.graphBytes(graph),
      fingerprint: await ortFingerprint(),
      runsPerSample: 'auto',
    });
    expect(table.build!.timer!.resolutionMs).toBeCloseTo(0.1, 10);
    // 100 steps = 10 ms over the fastest graph (the 3-layer empty context model, 1.2 ms).
    expect(table.build!.timer!.runsPerSample).toBe(Math.ceil(10 / 1.2));
    expect(table.build!.notes![0]).toMatch(/resolution measured at 0\.1 ms; every timed sample spans 9 back-to-back runs/);
    for (const l of table.attention) expect(l.time).toBeCloseTo(0.1 * l.kept, 2);
    expect(parseLatencyTable(JSON.parse(JSON.stringify(table)))).toEqual(table);
  });
});

describe('web environments and tables', () => {
  it('a web environment names its backend; a Node one has none', () => {
    const web = inferenceEnvironment({ engine: 'onnxruntime-web', threads: 1, sequenceLength: 8 });
    expect(web.backend).toBe('wasm');
    expect(describeEnvironment(inferenceEnvironment({ engine: 'onnxruntime-web', backend: 'webgpu', threads: 1 }))).toBe(
      'onnxruntime-web/webgpu 1 thread opt=all latency 1x128',
    );
    expect(env.backend).toBeUndefined();
    expect(() => inferenceEnvironment({ backend: 'wasm' })).toThrow(/backend" is an onnxruntime-web setting/);
    // Engine settings differ; the workload (what is timed) does not.
    expect(environmentDifferences(web, env)).toEqual([
      'engine: table "onnxruntime-web", now "onnxruntime-node"',
      'threads: table 1, now 2',
      'backend: table "wasm", now undefined',
    ]);
    expect(workloadDifferences(web, env)).toEqual([]);
    expect(workloadDifferences(web, inferenceEnvironment({ sequenceLength: 16 }))).toEqual(['sequenceLength: table 8, now 16']);
  });

  it('a browser table is a valid table file; loading it on Node warns about the device, never fails', async () => {
    const engine = fakeEngine(cost);
    const planned = planLatencyTable(config, env, quick);
    const web = { userAgent: 'Mozilla/5.0 HeadlessChrome/140', crossOriginIsolated: false, simd: true, requestedThreads: 2 };
    const table = await measureLatencyPlan(planned.plan, {
      runner: engine.runner,
      clock: engine.clock,
      loadGraph: (graph) => planned.graphBytes(graph),
      environment: { ...env, engine: 'onnxruntime-web', backend: 'wasm', threads: 1 },
      fingerprint: {
        cpuModel: 'unknown (browser)',
        logicalCores: 2,
        platform: 'Linux x86_64',
        arch: 'unknown',
        engine: 'onnxruntime-web',
        engineVersion: '1.30.0',
        runtimeVersion: web.userAgent,
        web,
      },
    });
    const file = join(await tempDir(), 'browser.json');
    await saveLatencyTable(file, table);
    const { table: loaded, warnings } = await loadLatencyTable(file, { model: config, fingerprint: await ortFingerprint() });
    expect(loaded.environment).toEqual({ ...env, engine: 'onnxruntime-web', backend: 'wasm', threads: 1 });
    expect(loaded.fingerprint.web).toEqual(web);
    expect(warnings.map((w) => w.field)).toEqual(expect.arrayContaining(['cpuModel', 'engine', 'runtimeVersion']));
    // A web table without its backend, or a Node table with one, is refused naming the field.
    const json = JSON.parse(JSON.stringify(table)) as { environment: Record<string, unknown> };
    delete json.environment.backend;
    expect(() => parseLatencyTable(json)).toThrow(/environment\.backend" must be one of wasm, webgpu for onnxruntime-web/);
    json.environment.engine = 'onnxruntime-node';
    json.environment.backend = 'wasm';
    expect(() => parseLatencyTable(json)).toThrow(/environment\.backend" must be absent for onnxruntime-node/);
  });

  it('measuring a plan for another workload is refused', async () => {
    const planned = planLatencyTable(config, env, quick);
    await expect(
      measureLatencyPlan(planned.plan, {
        runner: fakeEngine(cost).runner,
        loadGraph: (graph) => planned.graphBytes(graph),
        environment: inferenceEnvironment({ sequenceLength: 16 }),
        fingerprint: await ortFingerprint(),
      }),
    ).rejects.toThrow(/exported for another workload \(sequenceLength: plan 8, measurement 16\)/);
  });
});
