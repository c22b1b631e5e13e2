// Runs every benchmark in this folder (bench/*.ts except this file and helper modules whose name
// starts with "_"), one after another, each in its own Node process so that memory figures do not
// mix. Arguments filter by file name:
//   pnpm --filter @ziplm/models bench            all benchmarks
//   pnpm --filter @ziplm/models bench -- load    only bench/load.ts
// ZIPLM_BENCH_QUICK=1 asks each benchmark for a smaller, faster run.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
const filters = process.argv.slice(2).filter((a) => a !== '--');
const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('_') && join(here, f) !== self)
  .filter((f) => filters.length === 0 || filters.some((pattern) => f.includes(pattern)))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark in ${here} matches ${filters.join(', ')}`);
  process.exit(1);
}

const failed: string[] = [];
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const t0 = performance.now();
  // The same Node flags as this process (tsx's loader and the @ziplm/source condition).
  const result = spawnSync(process.execPath, [...process.execArgv, join(here, file)], { stdio: 'inherit', env: process.env });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (result.status !== 0) {
    failed.push(file);
    console.log(`=== ${file} FAILED (exit ${result.status ?? result.signal}) after ${seconds} s ===`);
  } else {
    console.log(`=== ${file} done in ${seconds} s ===`);
  }
}
if (failed.length > 0) {
  console.error(`\n${failed.length} benchmark(s) failed: ${failed.join(', ')}`);
  process.exit(1);
}
