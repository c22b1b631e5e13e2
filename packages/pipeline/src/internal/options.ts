// Validation of the options a run takes, before anything is loaded, measured or written: a bad value
// a user typed (a count of 0, an unknown method, a negative learning rate) is an OptionsError naming
// the option's path, never a RangeError from deep inside a stage after minutes of work. The pipeline
// does not know how a front end spells an option: the `ziplm` CLI maps the path to its flag.

import { EnvironmentError, inferenceEnvironment, type InferenceEnvironment, type InferenceEnvironmentOptions } from '@ziplm/latency';
import { OptionsError } from '../errors.js';

/** The OptionsError of `option` (its path in the call, e.g. `fineTune.trainSamples`). */
export function optionError(option: string, problem: string, options?: ErrorOptions): OptionsError {
  return new OptionsError(option, problem, options);
}

/** An integer >= min, when present. */
export function checkInteger(value: number | undefined, option: string, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw optionError(option, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
}

/** A finite number > 0 (or >= 0 with `allowZero`), when present. */
export function checkPositive(value: number | undefined, option: string, allowZero = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw optionError(option, `must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${JSON.stringify(value)}`);
  }
}

/** One of `allowed`, when present. */
export function checkChoice(value: string | undefined, option: string, allowed: readonly string[]): void {
  if (value === undefined) return;
  if (!allowed.includes(value)) throw optionError(option, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

/** Speedup targets: at least one, each a finite number > 1; returned ascending without duplicates. */
export function checkTargets(targets: readonly number[]): number[] {
  if (!Array.isArray(targets) || targets.length === 0) throw optionError('targets', 'needs at least one speedup target');
  for (const t of targets)
    if (!(typeof t === 'number' && Number.isFinite(t) && t > 1))
      throw optionError('targets', `must be speedups > 1, got ${JSON.stringify(t)}`);
  return [...new Set(targets)].sort((a, b) => a - b);
}

/** The inference environment of the options; an invalid field is an OptionsError naming `environment.<field>`. */
export function checkEnvironment(options: InferenceEnvironmentOptions | undefined): InferenceEnvironment {
  try {
    return inferenceEnvironment(options ?? {});
  } catch (error) {
    if (error instanceof EnvironmentError) throw optionError(`environment.${error.field}`, error.problem, { cause: error });
    throw error;
  }
}
