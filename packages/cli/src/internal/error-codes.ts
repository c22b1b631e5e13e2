// Which exit code each error of the ziplm packages gives `ziplm`: one table keyed by the errors' stable
// `code`. Keys are checked against every package's code union, so a package that adds an error class
// (and with it a code) does not compile here until the CLI decides its exit code; the test
// test/exit-codes.test.ts checks every exported error class against this table at run time.
// Only types are imported from the packages: `ziplm --help` must not load them. Node's own system errors
// (ENOSPC, EACCES, ...) have no row: ./io-errors.ts decides theirs (6 for a write, 3 for a read).

import type { DistillError } from '@ziplm/distill';
import type { HessianError } from '@ziplm/hessian';
import type { LatencyError } from '@ziplm/latency';
import type { ModelsError } from '@ziplm/models';
import type { OnnxError } from '@ziplm/onnx';
import type { PipelineError } from '@ziplm/pipeline';
import type { UsageError } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { describeSystemError, systemErrorIn } from './io-errors.js';

/** The `code` of every error the ziplm packages (and the CLI itself) throw on purpose. */
export type ZiplmErrorCode =
  | ModelsError['code']
  | OnnxError['code']
  | HessianError['code']
  | LatencyError['code']
  | DistillError['code']
  | PipelineError['code']
  | UsageError['code'];

/**
 * Exit code of each error code. The rule: the user's invocation at fault is `usage`, a file the user
 * gave (model, vocabulary, data, latency table, run directory, training state) is `input`, a target
 * the table cannot reach is `unreachable` (and a write the file system refuses is `output`, see
 * {@link exitCodeFor}); a base class thrown as is, a programming error inside a
 * package, and a numerical breakdown the user cannot act on are `internal` (printed with the stack).
 */
export const EXIT_CODE_OF_ERROR: { readonly [C in ZiplmErrorCode]: ExitCode } = {
  // @ziplm/cli
  ERR_ZIPLM_USAGE: EXIT.usage,

  // @ziplm/models
  ERR_ZIPLM_MODELS: EXIT.internal,
  ERR_ZIPLM_CONFIG: EXIT.input,
  ERR_ZIPLM_WEIGHTS: EXIT.input,
  ERR_ZIPLM_VOCABULARY: EXIT.input,
  ERR_ZIPLM_DATA: EXIT.input,
  ERR_ZIPLM_TOKENIZATION: EXIT.input,
  /** The checkpoint cannot give what the export needs (a missing or misshapen weight, decode mode for BERT). */
  ERR_ZIPLM_ONNX_EXPORT: EXIT.input,

  // @ziplm/onnx
  ERR_ZIPLM_ONNX: EXIT.internal,
  /** The exporters build graphs from validated checkpoints: an inconsistent graph is a bug. */
  ERR_ZIPLM_ONNX_GRAPH: EXIT.internal,
  ERR_ZIPLM_ONNX_DECODE: EXIT.input,
  /** onnxruntime-node is a dependency of the CLI: failing to load it is a broken installation, not input. */
  ERR_ZIPLM_ONNX_RUNTIME_UNAVAILABLE: EXIT.internal,

  // @ziplm/hessian
  ERR_ZIPLM_HESSIAN: EXIT.internal,
  /** Matrix shapes come from the user's checkpoint: one that does not fit the solver is a bad model. */
  ERR_ZIPLM_SHAPE: EXIT.input,
  /** Levels come from the latency table's grid. */
  ERR_ZIPLM_LEVEL: EXIT.input,
  /** The calibration data gave no tokens. */
  ERR_ZIPLM_CALIBRATION: EXIT.input,
  ERR_ZIPLM_NOT_POSITIVE_DEFINITE: EXIT.internal,
  ERR_ZIPLM_DATABASE: EXIT.input,
  ERR_ZIPLM_NUMERICAL: EXIT.internal,

  // @ziplm/latency
  ERR_ZIPLM_LATENCY: EXIT.internal,
  ERR_ZIPLM_LATENCY_TABLE: EXIT.input,
  ERR_ZIPLM_TABLE_MISMATCH: EXIT.input,
  /** The table's grid lacks a size the model has (e.g. `ziplm verify --table` with another grid). */
  ERR_ZIPLM_MISSING_LEVEL: EXIT.input,
  /** The search inputs disagree (the model's layers vs the table's, no level every module offers). */
  ERR_ZIPLM_SEARCH: EXIT.input,
  ERR_ZIPLM_UNREACHABLE: EXIT.unreachable,
  ERR_ZIPLM_ENVIRONMENT: EXIT.usage,
  /** The CLI checks the protocol options first: a failed measurement is unexpected. */
  ERR_ZIPLM_MEASUREMENT: EXIT.internal,
  /** A latency plan's manifest or graph (`--export-levels` output, read back) is malformed or altered. */
  ERR_ZIPLM_LATENCY_PLAN: EXIT.input,

  // @ziplm/distill
  ERR_ZIPLM_DISTILL: EXIT.internal,
  ERR_ZIPLM_LOSS_SHAPE: EXIT.internal,
  ERR_ZIPLM_TRAINING_CONFIG: EXIT.usage,
  ERR_ZIPLM_TRAINING_STATE: EXIT.input,
  /** A recipe's abort signal stopped it after saving its state (Ctrl-C; the CLI gives SIGTERM its own code). */
  ERR_ZIPLM_TRAINING_STOPPED: EXIT.interrupted,

  // @ziplm/pipeline
  ERR_ZIPLM_PIPELINE: EXIT.internal,
  ERR_ZIPLM_RUN_DIRECTORY: EXIT.input,
  /** Another live process holds the run directory's lock: the directory the user named is in use (message names the holder). */
  ERR_ZIPLM_RUN_LOCKED: EXIT.input,
  ERR_ZIPLM_TASK_DATA: EXIT.input,
  ERR_ZIPLM_OPTIONS: EXIT.usage,
  ERR_ZIPLM_REPORT: EXIT.input,
  /** report.md or a plot could not be written into the run directory the user named. */
  ERR_ZIPLM_REPORT_WRITE: EXIT.input,
};

/** An error carrying one of the codes above. */
export function hasZiplmCode(error: unknown): error is Error & { readonly code: ZiplmErrorCode } {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && Object.hasOwn(EXIT_CODE_OF_ERROR, error.code);
}

/**
 * The exit code of an error. A write the file system refused (disk full, permission, read-only) is `output`
 * wherever it surfaces, also as the cause of one of our errors (a report that could not be written); else
 * one of our errors gives its row above, a Node system error (a file that cannot be read) gives `input`,
 * and anything else is a bug: `internal`.
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (describeSystemError(systemErrorIn(error))?.writing) return EXIT.output;
  if (hasZiplmCode(error)) return EXIT_CODE_OF_ERROR[error.code];
  return describeSystemError(error)?.exitCode ?? EXIT.internal;
}
