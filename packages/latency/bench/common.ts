// Shared helpers of the latency benchmarks.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@ziplm/core';
import type { LayerErrors, LatencyTable } from '../src/index.js';
import type { BuildProgress } from '../src/measure/index.js';

export const quick = process.env.ZIPLM_BENCH_QUICK === '1';

/**
 * Timing protocols of the benchmarks' table builds and verifications, per batch size. Batch 1 runs
 * take milliseconds: many rounds. A batch-32 run of BERT-base takes seconds, so fewer rounds. Both
 * use warm visits (the default 2 runs per visit): with one (cold) run per visit, batch 32 measured
 * small levels far too slow (the 30x member ran 41% faster than predicted).
 */
export const protocols = (batchSize: number) =>
  quick
    ? {
        build: { warmupRuns: 2, minRounds: 6, maxRounds: 12, precision: 0.01 },
        verify: { warmupRuns: 2, minRounds: 8, maxRounds: 16, precision: 0.01 },
      }
    : batchSize === 1
      ? {
          build: { warmupRuns: 3, minRounds: 30, maxRounds: 90, precision: 0.003 },
          verify: { warmupRuns: 3, minRounds: 40, maxRounds: 150, precision: 0.002 },
        }
      : {
          build: { warmupRuns: 1, minRounds: 10, maxRounds: 16, precision: 0.003 },
          verify: { warmupRuns: 1, minRounds: 10, maxRounds: 20, precision: 0.003 },
        };

/** `runs/latency/` at the repository root (git-ignored): measured tables land here. */
export function outputDir(): string {
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../runs/latency');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function outputFile(name: string): string {
  return join(outputDir(), name);
}

/**
 * Random layer-wise errors for the search (the benchmark times configurations; it does not need
 * real errors): per module a random sensitivity s and exponent p, error = s·(1 − kept/full)^p,
 * monotone in the kept size, and 1 for a removed module (guide/structured-obs.md).
 */
export function randomErrors(table: LatencyTable, seed: number): LayerErrors[] {
  const random = seededRandom(seed);
  const out: LayerErrors[] = [];
  for (let layer = 0; layer < table.model.numLayers; layer++) {
    for (const module of ['attention', 'ffn'] as const) {
      const full = module === 'attention' ? table.model.numHeads : table.model.intermediateSize;
      const s = 0.1 + 0.8 * random();
      const p = 0.5 + 1.5 * random();
      const levels = (module === 'attention' ? table.attention : table.ffn).map((l) => ({
        kept: l.kept,
        error: l.kept === 0 ? 1 : s * (1 - l.kept / full) ** p,
      }));
      out.push({ layer, module, levels });
    }
  }
  return out;
}

/** A progress callback that prints at most every `everyMs`. */
export function progressLogger(label: string, everyMs = 10_000): (p: BuildProgress) => void {
  let last = -Infinity;
  return (p) => {
    const now = performance.now();
    if (p.phase !== 'done' && p.phase !== 'monotonicity' && now - last < everyMs) return;
    last = now;
    const s = (p.elapsedMs / 1000).toFixed(0);
    if (p.phase === 'prepare') console.log(`  [${label}] ${s}s prepare ${p.done}/${p.total} (${p.what})`);
    else if (p.phase === 'monotonicity') console.log(`  [${label}] ${s}s monotonicity check: ${p.violations} violation(s)`);
    else if (p.phase === 'done') console.log(`  [${label}] ${s}s done`);
    else console.log(`  [${label}] ${s}s ${p.phase} round ${p.round}, ${p.active} configuration(s) active`);
  };
}

export const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;

export function pad(values: Array<string | number>, widths: number[]): string {
  return values.map((v, i) => String(v).padStart(widths[i] ?? 10)).join(' ');
}
