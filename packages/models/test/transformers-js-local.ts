// transformers.js (the real @huggingface/transformers, a devDependency of these tests) reading models from a
// temporary directory only: no download, no cache. A test file calls `localTransformersJs(prefix)` at its top
// level and writes each model under the returned directory, then loads it by its sub-directory name.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll } from 'vitest';

/** Points transformers.js at a fresh temporary directory for this file's tests; returns that directory (once they run). */
export function localTransformersJs(prefix: string): () => string {
  let root: string | undefined;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.useFSCache = false;
    env.localModelPath = root;
  });
  afterAll(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });
  return () => {
    if (root === undefined) throw new Error('localTransformersJs: the directory exists only while the tests run');
    return root;
  };
}
