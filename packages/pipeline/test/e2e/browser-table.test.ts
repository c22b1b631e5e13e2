// A latency table measured in a browser (onnxruntime-web; issue 17) prunes for that device: `runOneShot` with such
// a table searches its members with it, warns that they are not re-timed here (this process runs onnxruntime-node,
// not the browser), records that in the results' notes, and writes members without a measured speedup. A browser
// table of another workload (batch size) is refused like any table of another environment.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLatencyTable, serializeLatencyTable } from '@ziplm/latency';
import { builtinModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { RunDirectoryError } from '../../src/errors.js';
import { runOneShot, type OneShotOptions } from '../../src/oneshot.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-browser-table-'));
const options = (runDir: string): OneShotOptions => ({
  modelDir: builtinModelDir('tiny-bert'),
  runDir,
  targets: [1.5, 2],
  task: 'samples',
  methods: ['ziplm'],
  calibrationSamples: 8,
  engine: 'js',
  spdy: false,
  retarget: 0,
  tableRounds: { minRounds: 3, maxRounds: 4 },
});

/** The table of a finished Node run, rewritten as the docs page writes a browser table (engine, backend, fingerprint.web). */
function browserTable(nodeTable: string, change: (environment: Record<string, unknown>) => void = () => {}): string {
  const json = JSON.parse(readFileSync(nodeTable, 'utf8')) as {
    environment: Record<string, unknown>;
    fingerprint: Record<string, unknown>;
  };
  json.environment = { ...json.environment, engine: 'onnxruntime-web', backend: 'wasm', threads: 1 };
  change(json.environment);
  json.fingerprint = {
    ...json.fingerprint,
    engine: 'onnxruntime-web',
    runtimeVersion: 'Mozilla/5.0 HeadlessChrome/140',
    web: { userAgent: 'Mozilla/5.0 HeadlessChrome/140', crossOriginIsolated: true, simd: true, requestedThreads: 1 },
  };
  const file = join(root, `browser-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, serializeLatencyTable(parseLatencyTable(json, file)));
  return file;
}

describe('a latency table measured in a browser', () => {
  it('prunes for that device and leaves re-timing to it', { timeout: 300_000 }, async () => {
    const nodeRun = join(root, 'node');
    await runOneShot({ ...options(nodeRun), targets: [1.5], verify: false });
    const table = browserTable(join(nodeRun, 'latency-table.json'));

    const warnings: string[] = [];
    const results = await runOneShot({
      ...options(join(root, 'browser')),
      tablePath: table,
      onEvent: (e) => {
        if (e.kind === 'warning') warnings.push(e.message);
      },
    });
    expect(warnings.some((w) => w.includes('measured with onnxruntime-web (wasm)') && w.includes('not re-timed here'))).toBe(true);
    expect(results.notes.some((n) => n.includes('Measure this device'))).toBe(true);
    expect(results.members.map((m) => m.target)).toEqual([1.5, 2]);
    for (const m of results.members) {
      expect(m.predictedSpeedup).toBeGreaterThanOrEqual(m.target * 0.98);
      expect(m.measuredSpeedup).toBeUndefined();
    }
  });

  it('of another workload is refused, naming the difference', { timeout: 300_000 }, async () => {
    const nodeRun = join(root, 'node-2');
    await runOneShot({ ...options(nodeRun), targets: [1.5], verify: false });
    const table = browserTable(join(nodeRun, 'latency-table.json'), (environment) => {
      environment.sequenceLength = 64;
    });
    const error = await runOneShot({ ...options(join(root, 'browser-2')), tablePath: table }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunDirectoryError);
    expect((error as Error).message).toMatch(/sequenceLength: table 64, run 128/);
  });
});
