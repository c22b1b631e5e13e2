// Exit codes of `ziplm`, in one place (documented in the README and the CLI reference).

export const EXIT = {
  /** Success. */
  ok: 0,
  /** An unexpected internal error (a bug: please report it with the stack trace). */
  internal: 1,
  /** Wrong flags, values or arguments. */
  usage: 2,
  /** A bad input file: model, vocabulary, data, latency table or run directory. */
  input: 3,
  /** A speedup target cannot be reached under the latency table (the message names the maximum). */
  unreachable: 4,
  /**
   * A check failed: a measured speedup surely below target (its whole 95% interval under target × (1 − tolerance);
   * an inconclusive timing exits 0), or tfjs/ONNX parity out of tolerance.
   */
  checkFailed: 5,
  /** Cannot write output (disk full, permission, read-only file system): the message names the path and the condition. */
  output: 6,
  /**
   * Stopped by Ctrl-C (SIGINT): a command that saves a resumable state stopped after its current step (run it again
   * to resume); any other stopped at once, keeping what it had finished (run directories resume).
   */
  interrupted: 130,
  /** Stopped by SIGTERM, as for `interrupted`. */
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
