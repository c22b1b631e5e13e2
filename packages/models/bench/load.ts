// Loading a BERT-base-sized checkpoint (12 layers, hidden 768, 12 heads, FFN 3072, classifier:
// 109.5M parameters, ~438 MB as F32 safetensors) with loadCheckpoint: time and memory.
// Target (issue 2): < 5 s and at most two copies of the weights in memory.
//
// The file is written by a child process, so that this process's peak RSS reflects the load only.
// Memory figures: RSS after the load minus RSS before it (resident copies held), and the
// process's peak RSS minus the RSS before (transient copies), both as multiples of the file size.

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bertConfig } from '../src/config.js';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { randomCheckpoint } from '../src/random.js';
import type { SafetensorsWriteDtype } from '../src/io/safetensors.js';

const MB = 1024 * 1024;
const quick = process.env.ZIPLM_BENCH_QUICK === '1';
const config = bertConfig(
  quick
    ? { numLayers: 2, head: { type: 'classification', labels: ['negative', 'positive'] } }
    : { head: { type: 'classification', labels: ['negative', 'positive'] } },
);

async function write(dir: string, dtype: SafetensorsWriteDtype): Promise<void> {
  await saveCheckpoint(dir, randomCheckpoint(config, { seed: 1 }), { dtype });
}

async function measure(dir: string, label: string): Promise<void> {
  const size = (await stat(join(dir, 'model.safetensors'))).size;
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const ckpt = await loadCheckpoint(dir);
  const ms = performance.now() - t0;
  const rssAfter = process.memoryUsage().rss;
  const peak = process.resourceUsage().maxRSS * 1024; // kB → bytes
  let params = 0;
  for (const t of ckpt.weights.values()) params += t.data.length;
  const weightBytes = params * 4;
  console.log(
    `${label.padEnd(5)} file ${(size / MB).toFixed(0)} MB, ${(params / 1e6).toFixed(1)}M params: load ${(ms / 1000).toFixed(2)} s ` +
      `(${(size / MB / (ms / 1000)).toFixed(0)} MB/s); RSS +${((rssAfter - rssBefore) / MB).toFixed(0)} MB held ` +
      `(${((rssAfter - rssBefore) / weightBytes).toFixed(2)}x the float32 weights), peak +${((peak - rssBefore) / MB).toFixed(0)} MB ` +
      `(${((peak - rssBefore) / weightBytes).toFixed(2)}x)`,
  );
}

const args = process.argv.slice(2);
if (args[0] === '--write') {
  await write(args[1]!, args[2] as SafetensorsWriteDtype);
} else {
  const root = await mkdtemp(join(tmpdir(), 'ziplm-bench-load-'));
  try {
    const dtype = (args[0] ?? 'F32') as SafetensorsWriteDtype;
    const dir = join(root, dtype);
    const t0 = performance.now();
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--write', dir, dtype], {
      stdio: 'inherit',
    });
    if (child.status !== 0) throw new Error(`writing the checkpoint failed (exit ${child.status})`);
    console.log(
      `wrote a random ${config.numLayers}-layer BERT-base checkpoint (${dtype}) in ${((performance.now() - t0) / 1000).toFixed(1)} s (not part of the figure)`,
    );
    await measure(dir, dtype);
    if (args[0] === undefined) {
      // F16 storage is converted tensor by tensor; measured in a fresh process for a clean peak.
      const again = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'F16'], { stdio: 'inherit' });
      if (again.status !== 0) throw new Error('the F16 run failed');
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
