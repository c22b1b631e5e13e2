// Test helper: starts every tfjs backend present here (wasm with ziplm's kernel fixes, cpu; tfjs-node when
// installed) through @ziplm/models' initBackend, which also registers the gradients, and lets a test switch
// between them.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@ziplm/models';

let started: Promise<string[]> | undefined;

/** Names of the tfjs backends that could be started, the fastest first. */
export function startBackends(): Promise<string[]> {
  started ??= (async () => {
    const names = new Set<string>();
    for (const preferred of ['cpu', 'wasm', 'node'] as const) {
      try {
        names.add((await initBackend(preferred)).backend);
      } catch {
        // not available here: the test runs on the others
      }
    }
    return ['tensorflow', 'wasm', 'cpu'].filter((n) => names.has(n));
  })();
  return started;
}

/** Makes `name` the active backend. */
export async function useBackend(name: string): Promise<void> {
  await tf.setBackend(name);
  await tf.ready();
}
