// onnxruntime helpers for tests. Typed structurally, so this package needs neither onnxruntime-node nor
// @ziplm/onnx: a test passes in `createSession` (from @ziplm/onnx/runtime) and the loaded `ort` module.

import { afterAll } from 'vitest';

/** What a test needs of an onnxruntime InferenceSession to release it. */
export interface ReleasableSession {
  release(): Promise<void>;
}

/**
 * Wraps a session factory so that every session it opens is released after the test file (vitest
 * `afterAll`): `const session = releasedAfterAll(createSession); const s = await session(bytes)`.
 * Call it at the top level of a test file.
 */
export function releasedAfterAll<S extends ReleasableSession, A extends unknown[]>(
  create: (...args: A) => Promise<S>,
): (...args: A) => Promise<S> {
  const opened: S[] = [];
  afterAll(async () => {
    for (const session of opened.splice(0)) await session.release();
  });
  return async (...args: A) => {
    const session = await create(...args);
    opened.push(session);
    return session;
  };
}

/** The part of the onnxruntime module that builds an int64 tensor. */
export interface Int64TensorFactory<T> {
  readonly Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => T;
}

/** An int64 tensor [rows, cols] from equal-length rows of integers (token ids, attention masks). */
export function int64Tensor<T>(ort: Int64TensorFactory<T>, rows: readonly (readonly number[])[]): T {
  const cols = rows[0]?.length ?? 0;
  if (rows.some((row) => row.length !== cols)) throw new Error('int64Tensor: rows differ in length');
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, cols]);
}
