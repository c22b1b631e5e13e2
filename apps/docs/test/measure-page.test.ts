// The "Measure this device" page's logic without a browser (the page itself runs in
// test/e2e/measure-page.test.ts): the plot of a table, the quick protocol of the URL, the file name and
// prune command it offers, and the reading of a picked run directory for "verify in this browser".

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLatencyTable, serializeLatencyTable } from '@ziplm/latency';
import { describe, expect, it } from 'vitest';
import { latencyPlot, niceCeiling } from '../browser/latency-plot.ts';
import { MEASURE_PLANS, measurePlan, planPath, pruneCommandFor } from '../browser/measure-plans.ts';
import { type PickedFile, protocolFromQuery, readPickedRun, tableFileName } from '../browser/measure-runtime.ts';
import { DOCS_ROOT } from './browser.ts';

// An imported run's table (a committed file of the site): BERT, 12 layers, Node.
const TABLE_FILE = join(DOCS_ROOT, 'public/results/sst2-gradual-token-distillation/latency-table.json');
const table = parseLatencyTable(JSON.parse(readFileSync(TABLE_FILE, 'utf8')), TABLE_FILE);

const picked = (path: string, content: string | Uint8Array<ArrayBuffer>): PickedFile => ({ path, file: new Blob([content]) });

describe('the plot of a table', () => {
  it('puts every level on a shared time axis, kept counts ascending along x', () => {
    const plot = latencyPlot(table, 720, 300);
    const [attention, ffn] = plot.panels;
    expect(attention.points.map((p) => p.kept)).toEqual(table.attention.map((l) => l.kept).sort((a, b) => a - b));
    expect(ffn.points).toHaveLength(table.ffn.length);
    const maxTime = Math.max(...[...table.attention, ...table.ffn].map((l) => l.time));
    for (const panel of plot.panels) {
      // Removed (kept 0, time 0) sits at the panel's origin; the x axis ends at the dense size.
      expect(panel.points[0]).toMatchObject({ kept: 0, time: 0, x: panel.x0, y: plot.y1 });
      expect(panel.points.at(-1)!.x).toBeCloseTo(panel.x0 + panel.width, 6);
      for (const p of panel.points) expect(p.y).toBeGreaterThanOrEqual(plot.y0 - 1e-9);
      expect(panel.path.startsWith('M')).toBe(true);
    }
    expect(ffn.x0).toBeGreaterThan(attention.x0 + attention.width);
    expect(Number(plot.yTicks.at(-1)!.label)).toBeGreaterThanOrEqual(maxTime - 1e-9);
    expect(plot.caption).toContain(
      `dense model ${table.dense.median >= 10 ? table.dense.median.toFixed(0) : table.dense.median.toFixed(1)} ms`,
    );
  });

  it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0.37, 1, 1.2, 3, 7, 0.011, 0].map(niceCeiling)).toEqual([0.5, 1, 2, 5, 10, 0.02, 1]);
  });
});

describe('the plans and what the page offers', () => {
  it('ships sst2-bert first, with the plain prune command', () => {
    expect(MEASURE_PLANS[0]!.model).toBe('sst2-bert');
    expect(pruneCommandFor(MEASURE_PLANS[0]!, 'my.json')).toBe('pnpm ziplm prune --model sst2-bert --table my.json');
    expect(pruneCommandFor(measurePlan('tiny-bert')!, 't.json')).toBe('pnpm ziplm prune --model tiny-bert --seq-length 16 --table t.json');
    expect(planPath(measurePlan('tiny-bert')!)).toBe('/levels/tiny-bert/');
    expect(measurePlan('gpt2')).toBeUndefined();
  });

  it('names the download after the model, backend, threads and workload', () => {
    const web = {
      ...table,
      environment: { ...table.environment, engine: 'onnxruntime-web' as const, backend: 'wasm' as const, threads: 2 },
    };
    expect(tableFileName('sst2-bert', web)).toBe(`sst2-bert.wasm-2t.b1x${table.environment.sequenceLength}.latency.json`);
  });

  it('reads the quick protocol from the URL, ignoring values out of range', () => {
    expect(protocolFromQuery(new URLSearchParams(''))).toBeUndefined();
    expect(protocolFromQuery(new URLSearchParams('rounds=3&warmup=1'))).toEqual({ minRounds: 3, maxRounds: 3, warmupRuns: 1 });
    expect(protocolFromQuery(new URLSearchParams('rounds=2&warmup=x'))).toBeUndefined();
  });
});

describe('a picked run directory', () => {
  const results = JSON.stringify({
    members: [
      { dir: 'members/ziplm-4.00x', target: 4, predictedSpeedup: 4.01, layerHeads: [1, 0], layerIntermediate: [8, 0] },
      { dir: 'members/ziplm-2.00x', target: 2, predictedSpeedup: 2.02 },
    ],
  });

  it('finds every member with its target and prediction, and the run table, sorted by target', async () => {
    const run = await readPickedRun([
      picked('run/results.json', results),
      picked('run/latency-table.json', serializeLatencyTable(table)),
      picked('run/members/ziplm-4.00x/model.onnx', new Uint8Array([1])),
      picked('run/members/ziplm-2.00x/model.onnx', new Uint8Array([2])),
      picked('run/members/ziplm-2.00x/member.json', JSON.stringify({ target: 2, predictedSpeedup: 2.05 })),
      picked('run/database/attention-0.bin', new Uint8Array([0])),
    ]);
    expect(run.members.map((m) => [m.name, m.target, m.predicted])).toEqual([
      ['ziplm-2.00x', 2, 2.05], // member.json wins over results.json
      ['ziplm-4.00x', 4, 4.01],
    ]);
    expect(run.members[1]!.layerHeads).toEqual([1, 0]);
    expect(run.table?.dense.median).toBe(table.dense.median);
  });

  it('refuses a folder without members, a member without a target, and damaged JSON, naming the file', async () => {
    await expect(readPickedRun([picked('x/results.json', results)])).rejects.toThrow(/no members\/<name>\/model\.onnx/);
    await expect(readPickedRun([picked('r/members/a/model.onnx', new Uint8Array([1]))])).rejects.toThrow(
      /r\/members\/a\/model\.onnx: no member\.json beside it .*target is unknown/,
    );
    await expect(
      readPickedRun([picked('r/members/a/model.onnx', new Uint8Array([1])), picked('r/members/a/member.json', '{"target": -1}')]),
    ).rejects.toThrow(/r\/members\/a\/member\.json: "target" must be a positive number/);
    await expect(readPickedRun([picked('r/results.json', '{')])).rejects.toThrow(/r\/results\.json: not JSON/);
  });
});
