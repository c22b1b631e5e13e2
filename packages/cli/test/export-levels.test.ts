// `ziplm latency --export-levels DIR`: the plan of a table build as files, for a browser to measure
// (@ziplm/latency/browser). Nothing is timed; the manifest names every graph file with its sha256 and size.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLatencyPlanManifest } from '@ziplm/latency';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('ziplm latency --export-levels', () => {
  it('writes one ONNX file per level, the anchor, dense and calibration graphs, and a manifest whose hashes match the files', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ziplm-export-levels-')), 'tiny-bert.levels');
    const result = await runCli(['latency', '--model', 'tiny-bert', '--seq-length', '16', '--max-rounds', '20', '--export-levels', dir]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+ graphs \([\d.]+ MiB\) and manifest\.json written to /);

    const manifest = parseLatencyPlanManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
    expect(manifest.model).toMatchObject({ modelType: 'bert', hiddenSize: 48, numHeads: 6, intermediateSize: 192, numLayers: 4 });
    expect(manifest.environment).toMatchObject({ engine: 'onnxruntime-node', mode: 'latency', batchSize: 1, sequenceLength: 16 });
    expect(manifest.protocol.maxRounds).toBe(20);
    const ids = manifest.graphs.map((g) => g.id);
    expect(ids.slice(0, 3)).toEqual(['model:dense', 'model:empty', 'context:empty']);
    for (const kept of manifest.attentionLevels.filter((k) => k > 0)) expect(ids).toContain(`attention:${kept}`);
    for (const kept of manifest.ffnLevels.filter((k) => k > 0)) expect(ids).toContain(`ffn:${kept}`);
    expect(ids.filter((id) => id.startsWith('calibration:')).length).toBe(6);

    const files = manifest.graphs.flatMap((g) => (g.role === 'overhead' ? [] : [g.file!]));
    expect(files.length).toBe(manifest.graphs.length);
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', ...files.map((f) => f.name)].sort());
    for (const file of files) {
      const bytes = await readFile(join(dir, file.name));
      expect(bytes.byteLength).toBe(file.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
    }
  }, 60_000);
});
