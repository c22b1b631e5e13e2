// The subpath entries keep their promise: importing `@ziplm/models/tokenizers` (or /data, /io, /onnx)
// loads neither TensorFlow.js nor onnxruntime. Each entry is imported in a fresh Node process (source
// condition, through tsx) whose module loader records every module it loads; a stray import of
// tfjs-core anywhere in an entry's graph, even through errors.ts or config.ts, shows up there.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const RECORD_LOADS = fileURLToPath(new URL('./fixtures/entries/record-loads.mjs', import.meta.url));

/** Packages an entry that promises "no TensorFlow.js, no onnxruntime" must never load. */
const ENGINE_PACKAGE = /\/node_modules\/(@tensorflow\/[^/]+|onnxruntime-[^/]+)\//;

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'ziplm-entries-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** The URLs of every module a fresh process loads to import `specifier` (resolved from this package). */
async function modulesLoadedBy(specifier: string): Promise<string[]> {
  const record = join(workDir, `${specifier.replaceAll('/', '_')}.txt`);
  const script = `await import(${JSON.stringify(specifier)});`;
  await promisify(execFile)(
    process.execPath,
    ['--conditions=@ziplm/source', '--import', 'tsx', '--import', RECORD_LOADS, '--input-type=module', '--eval', script],
    { cwd: PACKAGE_DIR, env: { ...process.env, ZIPLM_RECORD_LOADS: record } },
  );
  return (await readFile(record, 'utf8')).split('\n').filter((url) => url !== '');
}

/** The engine packages among the loaded modules, by package name. */
function enginePackages(urls: readonly string[]): string[] {
  return [...new Set(urls.flatMap((url) => ENGINE_PACKAGE.exec(url)?.[1] ?? []))].sort();
}

describe('subpath entries', () => {
  it.each(['@ziplm/models/tokenizers', '@ziplm/models/data', '@ziplm/models/io', '@ziplm/models/onnx'])(
    '%s loads neither TensorFlow.js nor onnxruntime',
    async (entry) => {
      const loaded = await modulesLoadedBy(entry);
      const area = entry.slice('@ziplm/models/'.length);
      // The recording works: the entry's own index module is among the loaded modules.
      expect(loaded.some((url) => url.endsWith(`/src/${area}/index.ts`))).toBe(true);
      expect(enginePackages(loaded)).toEqual([]);
    },
  );

  it('sees TensorFlow.js where it is loaded (@ziplm/models/tfjs)', async () => {
    expect(enginePackages(await modulesLoadedBy('@ziplm/models/tfjs'))).toContain('@tensorflow/tfjs-core');
  });
});
