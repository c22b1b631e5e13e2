import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ZiplmModelError } from '../src/errors.js';
import { initBackend, installWasmKernelFixes } from '../src/tfjs/backend.js';
import { createRng } from '../src/random.js';

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => rng.normal());
  return tf.tensor(data, shape);
}

/** Runs `f` on a backend and returns its result as plain arrays. */
async function on<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 1e-30;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return diff / scale;
}

let info: { backend: string; reason: string };

beforeAll(async () => {
  delete process.env.ZIPLM_BACKEND;
  info = await initBackend();
});

afterEach(async () => {
  delete process.env.ZIPLM_BACKEND;
  await tf.setBackend(info.backend);
});

describe('initBackend', () => {
  it('picks tfjs-node when installed, else wasm with SIMD, and says why', () => {
    expect(['tensorflow', 'wasm']).toContain(info.backend);
    expect(tf.getBackend()).toBe(info.backend);
    if (info.backend === 'wasm') {
      expect(info.reason).toMatch(/@tensorflow\/tfjs-node (is not installed|failed to load|registered|is installed)/);
      expect(info.reason).toMatch(/SIMD on, 1 thread/);
    }
  });

  it('is idempotent', async () => {
    expect(await initBackend()).toBe(info);
    expect(tf.getBackend()).toBe(info.backend);
  });

  it('registers gradients (tfjs-core alone has none in Node)', () => {
    for (const kernel of [tf.BatchMatMul, tf.GatherV2, tf.Softmax, tf.Erf, tf.Tanh, tf.Transpose, tf.Reshape]) {
      expect(tf.getGradient(kernel), kernel).toBeDefined();
    }
  });

  it('ZIPLM_BACKEND overrides the preference, and a bad value is an error', async () => {
    process.env.ZIPLM_BACKEND = 'cpu';
    const forced = await initBackend('wasm');
    expect(forced.backend).toBe('cpu');
    expect(forced.reason).toMatch(/forced by ZIPLM_BACKEND=cpu/);
    expect(tf.getBackend()).toBe('cpu');
    process.env.ZIPLM_BACKEND = 'gpu';
    await expect(initBackend()).rejects.toThrow(ZiplmModelError);
    await expect(initBackend()).rejects.toThrow(/ZIPLM_BACKEND must be one of node, wasm, cpu; got "gpu"/);
  });

  it('a forced backend that cannot start is an error, not a silent fallback', async () => {
    if (info.backend === 'tensorflow') return; // tfjs-node is installed here: nothing to test
    process.env.ZIPLM_BACKEND = 'node';
    await expect(initBackend()).rejects.toThrow(/ZIPLM_BACKEND=node: @tensorflow\/tfjs-node/);
  });

  it('a preference is tried first', async () => {
    const cpu = await initBackend('cpu');
    expect(cpu.backend).toBe('cpu');
    expect(cpu.reason).toMatch(/cpu is the first choice/);
  });
});

describe('wasm kernel fixes', () => {
  it('BatchMatMul with transposeA/transposeB matches cpu for every flag combination and broadcast', async () => {
    const installed = tf.getKernel(tf.BatchMatMul, 'wasm');
    installWasmKernelFixes(); // a second install is a no-op
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')).toBe(installed);
    expect((installed as unknown as Record<symbol, unknown>)[Symbol.for('ziplm.wasmKernelFix')]).toBe(true);
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[5, 7], [7, 3], false, false],
      [[7, 5], [7, 3], true, false],
      [[5, 7], [3, 7], false, true],
      [[7, 5], [3, 7], true, true],
      [[2, 3, 9, 4], [2, 3, 6, 4], false, true],
      [[2, 3, 4, 9], [2, 3, 4, 6], true, false],
      [[3, 4, 5], [1, 6, 5], false, true],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const f = () => tf.tidy(() => tf.matMul(randomTensor(sa, 1), randomTensor(sb, 2), ta, tb).dataSync().slice());
      const wasm = await on('wasm', f);
      const cpu = await on('cpu', f);
      expect(maxRelDiff(wasm, cpu), `${sa} ${sb} ${ta} ${tb}`).toBeLessThan(1e-6);
    }
  });

  it('the BatchMatMul fix does not leak wasm memory', async () => {
    await tf.setBackend('wasm');
    const a = randomTensor([16, 32], 1);
    const b = randomTensor([24, 32], 2);
    const run = () => tf.matMul(a, b, false, true).dispose();
    run(); // warm-up
    const before = tf.memory().numBytes;
    const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numBytes).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataIds);
    tf.dispose([a, b]);
  });

  it('UnsortedSegmentSum exists on wasm and matches cpu (ids outside the range are dropped)', async () => {
    const f = () =>
      tf.tidy(() =>
        tf
          .unsortedSegmentSum(randomTensor([6, 5], 3), tf.tensor1d([2, 0, 2, 7, 4, -1], 'int32'), 5)
          .dataSync()
          .slice(),
      );
    const wasm = await on('wasm', f);
    const cpu = await on('cpu', f);
    expect(maxRelDiff(wasm, cpu)).toBeLessThan(1e-6);
    // Row 3 (id 7) and row 5 (id -1) fall outside [0, 5); segments 1 and 3 receive nothing.
    expect(Array.from(wasm.slice(5, 10))).toEqual([0, 0, 0, 0, 0]);
  });

  it('gradients of an embedding lookup and of transposed matMuls match cpu', async () => {
    const f = () =>
      tf.tidy(() => {
        const table = randomTensor([9, 4], 4);
        const w = randomTensor([5, 4], 5);
        const ids = tf.tensor1d([3, 1, 3, 8, 0], 'int32');
        const g = tf.grads((t: tf.Tensor, m: tf.Tensor) => tf.sum(tf.square(tf.matMul(tf.gather(t, ids), m, false, true))));
        const [dt, dm] = g([table, w]);
        return [...dt!.dataSync(), ...dm!.dataSync()];
      });
    const wasm = await on('wasm', f);
    const cpu = await on('cpu', f);
    expect(maxRelDiff(wasm, cpu)).toBeLessThan(1e-6);
  });
});
