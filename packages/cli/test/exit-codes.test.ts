// Every error class a ziplm package exports has its own stable `code`, and `ziplm` gives it a deliberate exit
// code. The classes are found by importing every entry point of every package (from the `exports` map of
// its package.json, so a new subpath is covered too) and keeping each export whose prototype chain reaches
// Error: a new error class without a row in EXPECTED (and a code in EXIT_CODE_OF_ERROR) fails here.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_OF_ERROR, exitCodeFor } from '../src/internal/error-codes.js';
import { EXIT, type ExitCode } from '../src/exit-codes.js';

/** The workspace packages whose errors can reach `ziplm` (every dependency of @ziplm/cli, and the CLI). */
const PACKAGES = ['models', 'onnx', 'hessian', 'latency', 'distill', 'pipeline', 'teachers', 'core', 'cli'] as const;

/** The exit code each exported error class gives, by class name: the decision, restated on purpose. */
const EXPECTED: Readonly<Record<string, ExitCode>> = {
  // @ziplm/cli
  UsageError: EXIT.usage,
  // @ziplm/models
  ModelsError: EXIT.internal,
  ConfigError: EXIT.input,
  WeightsError: EXIT.input,
  VocabularyError: EXIT.input,
  DataError: EXIT.input,
  TokenizationError: EXIT.input,
  OnnxExportError: EXIT.input,
  // @ziplm/onnx
  OnnxError: EXIT.internal,
  OnnxGraphError: EXIT.internal,
  OnnxDecodeError: EXIT.input,
  OnnxRuntimeUnavailableError: EXIT.internal,
  // @ziplm/hessian
  HessianError: EXIT.internal,
  ShapeError: EXIT.input,
  LevelError: EXIT.input,
  CalibrationError: EXIT.input,
  NotPositiveDefiniteError: EXIT.internal,
  DatabaseError: EXIT.input,
  NumericalError: EXIT.internal,
  // @ziplm/latency
  LatencyError: EXIT.internal,
  LatencyTableError: EXIT.input,
  TableMismatchError: EXIT.input,
  MissingLevelError: EXIT.input,
  SearchError: EXIT.input,
  InfeasibleTargetError: EXIT.unreachable,
  EnvironmentError: EXIT.usage,
  MeasurementError: EXIT.internal,
  LatencyPlanError: EXIT.input,
  // @ziplm/distill
  DistillError: EXIT.internal,
  LossShapeError: EXIT.internal,
  TrainingConfigError: EXIT.usage,
  TrainingStateError: EXIT.input,
  TrainingStoppedError: EXIT.interrupted,
  // @ziplm/pipeline
  PipelineError: EXIT.internal,
  RunDirectoryError: EXIT.input,
  RunLockedError: EXIT.input,
  TaskDataError: EXIT.input,
  OptionsError: EXIT.usage,
  ReportError: EXIT.input,
  ReportWriteError: EXIT.input,
};

type ErrorClass = abstract new (...args: never[]) => Error;

function isErrorClass(value: unknown): value is ErrorClass {
  return typeof value === 'function' && (value === Error || value.prototype instanceof Error);
}

/** `@ziplm/x`, `@ziplm/x/sub`, ... for every entry of the package's `exports` map. */
function entryPoints(dir: string): string[] {
  const file = new URL(`../../${dir}/package.json`, import.meta.url);
  const manifest: { name: string; exports: Record<string, unknown> } = JSON.parse(readFileSync(file, 'utf8'));
  return Object.keys(manifest.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => `${manifest.name}${subpath.slice(1)}`);
}

/** Every exported error class (each once, however many entries or names export it), with where it was found. */
async function exportedErrorClasses(): Promise<Map<ErrorClass, { name: string; entry: string }>> {
  const found = new Map<ErrorClass, { name: string; entry: string }>();
  for (const dir of PACKAGES) {
    for (const entry of entryPoints(dir)) {
      const module: Record<string, unknown> = await import(entry);
      for (const value of Object.values(module)) {
        // Keyed by the class itself: a deprecated alias (ZiplmModelError = ModelsError) is the same class.
        if (isErrorClass(value) && !found.has(value)) found.set(value, { name: value.name, entry });
      }
    }
  }
  return found;
}

/**
 * An instance to read the `code` field from. The constructors take strings, numbers, arrays and options
 * in various orders; these arguments fit every one of them (a string is a message or a name, a number a
 * count or a speedup, an array the list of levels some take).
 */
function instanceOf(errorClass: ErrorClass): Error {
  return Reflect.construct(errorClass, ['x', 1, [], undefined]);
}

describe('error codes and exit codes', () => {
  it('reads every entry point named in the issue', () => {
    const entries = PACKAGES.flatMap(entryPoints);
    const named = ['@ziplm/models', '@ziplm/onnx', '@ziplm/onnx/runtime', '@ziplm/hessian', '@ziplm/hessian/node'];
    named.push('@ziplm/latency', '@ziplm/latency/measure', '@ziplm/distill', '@ziplm/pipeline');
    for (const entry of named) expect(entries).toContain(entry);
  });

  it('every exported error class has its own code and the exit code decided for it', async () => {
    const classes = await exportedErrorClasses();
    const codes = new Map<string, string>();
    const unmapped: string[] = [];
    for (const [errorClass, { name, entry }] of classes) {
      const error = instanceOf(errorClass);
      const expected = EXPECTED[name];
      if (expected === undefined) {
        unmapped.push(`${name} (${entry})`);
        continue;
      }
      expect(error, name).toBeInstanceOf(errorClass);
      const code = 'code' in error ? error.code : undefined;
      expect(code, `${name}.code`).toMatch(/^ERR_ZIPLM_[A-Z_]+$/);
      expect(codes.get(String(code)), `${name} shares its code with another class`).toBeUndefined();
      codes.set(String(code), name);
      expect(Object.keys(EXIT_CODE_OF_ERROR), `${name}: ${String(code)} has no row in EXIT_CODE_OF_ERROR`).toContain(code);
      expect(exitCodeFor(error), `exit code of ${name}`).toBe(expected);
    }
    expect(unmapped, 'error classes with no decided exit code (add them to EXPECTED and EXIT_CODE_OF_ERROR)').toEqual([]);
    expect([...classes.values()].map((c) => c.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    // No stale rows: every code in the table belongs to an exported class.
    expect([...codes.keys()].sort()).toEqual(Object.keys(EXIT_CODE_OF_ERROR).sort());
  });

  it('an error without a ziplm code is internal', () => {
    expect(exitCodeFor(new RangeError('a bug'))).toBe(EXIT.internal);
    expect(exitCodeFor(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe(EXIT.internal);
    expect(exitCodeFor('a string')).toBe(EXIT.internal);
  });
});
