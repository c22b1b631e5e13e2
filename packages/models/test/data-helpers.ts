// What the data-reader tests share: the typed error a read must end in.
import { expect } from 'vitest';
import { DataError } from '../src/errors.js';

/** The DataError `run` throws (fails the test when it throws nothing or something else). */
export function dataError(run: () => unknown): DataError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return error as DataError;
  }
  throw new Error('expected a DataError, but the read succeeded');
}
