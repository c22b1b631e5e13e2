// `ziplm` entry point: resolves the command, parses its options, runs it and maps errors to exit
// codes. Commands are imported lazily so `ziplm --help` does not load tfjs or onnxruntime.

import type { OptionsError } from '@ziplm/pipeline';
import { renderHelp, UsageError, parseOptions, type Command, type CommandIO } from './command.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { exitCodeFor, hasZiplmCode } from './internal/error-codes.js';
import { describeSystemError } from './internal/io-errors.js';
import { describeOptionsError } from './internal/option-flags.js';

/** Every command, loaded on demand. The first one is what `ziplm` with no arguments runs. */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  prune: async () => (await import('./commands/prune.js')).pruneCommand,
  gradual: async () => (await import('./commands/gradual.js')).gradualCommand,
  train: async () => (await import('./commands/train.js')).trainCommand,
  latency: async () => (await import('./commands/latency.js')).latencyCommand,
  eval: async () => (await import('./commands/evaluate.js')).evalCommand,
  export: async () => (await import('./commands/export.js')).exportCommand,
  verify: async () => (await import('./commands/verify.js')).verifyCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
};

/** The command `ziplm` runs when given no command name. */
export const DEFAULT_COMMAND = 'prune';

export async function loadCommands(): Promise<Command[]> {
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

async function rootHelp(): Promise<string> {
  const lines = [
    'ziplm: inference-aware structured pruning of BERT and GPT2 (ZipLM)',
    '',
    'Usage: ziplm [command] [options]',
    '',
    'Commands:',
  ];
  for (const command of await loadCommands()) lines.push(`  ${command.name.padEnd(10)} ${command.summary}`);
  lines.push(
    '',
    `With no command, ziplm runs "${DEFAULT_COMMAND}" with its defaults: one-shot ZipLM of the built-in SST-2 BERT to 1.5x, 2x, 3x and 4x`,
    'for batch-1 latency on this machine (SST-2 dev accuracy when ../shared/data or $ZIPLM_DATA_DIR has it, else agreement on built-in text).',
    'Run "ziplm <command> --help" for its options.',
  );
  return `${lines.join('\n')}\n`;
}

/** Recognised by its code, not by class: main.ts must not load @ziplm/pipeline (and tfjs) for --help. */
function isOptionsError(error: unknown): error is OptionsError {
  return hasZiplmCode(error) && error.code === 'ERR_ZIPLM_OPTIONS';
}

/**
 * The message `ziplm` prints for an error: a refused pipeline option is named by its flag, and a failed
 * system call (a full disk, a file that cannot be read) by its path and condition in plain words.
 */
function messageOf(error: unknown): string {
  if (isOptionsError(error)) return describeOptionsError(error);
  if (!hasZiplmCode(error)) {
    const failure = describeSystemError(error);
    if (failure) return failure.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Printed after the stack of an internal error: exit 1 is only for bugs, which we want to hear about. */
const PLEASE_REPORT =
  'This is a bug in ziplm: please report it at https://github.com/ziplm/ziplm/issues with the command you ran and the output above.\n';

/** The signals that ask `ziplm` to stop. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The exit code after each stop signal: 128 + its number, as a shell reports a process the signal ended. */
export const STOP_SIGNAL_EXIT: Readonly<Record<StopSignal, ExitCode>> = { SIGINT: EXIT.interrupted, SIGTERM: EXIT.terminated };

/** What stop-signal handling needs of `process` (tests pass an EventEmitter). */
export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

/** How `ziplm` answers Ctrl-C and SIGTERM while a command runs (made by `handleStopSignals`, passed to `main`). */
export interface StopSignals {
  /** Aborted on the first signal while a command with `stopsOnSignal` runs; `main` passes it on as `io.signal`. */
  readonly signal: AbortSignal;
  /** The signal that asked the running command to stop, if one did. */
  readonly stopRequestedBy: StopSignal | undefined;
  /** Tells which command runs: `main` calls it once the command is known. */
  commandStarted(command: Pick<Command, 'name' | 'stopsOnSignal'>): void;
  /** Removes the handlers: a signal after this has its default effect (the process ends). */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM on `source`. The first signal while a command with `stopsOnSignal` runs aborts
 * `signal` and says so on stderr: the command finishes its step, saves its state and returns. A second signal, or
 * the first for any other command, says what is kept and calls `exit` with 130 (SIGINT) or 143 (SIGTERM) at once.
 */
export function handleStopSignals(
  source: SignalSource,
  io: Pick<CommandIO, 'stderr' | 'interactive'>,
  exit: (code: number) => void,
): StopSignals {
  const controller = new AbortController();
  let running: Pick<Command, 'name' | 'stopsOnSignal'> | undefined;
  let stopRequestedBy: StopSignal | undefined;
  // On a TTY the signal interrupts a progress bar drawn in place: start the message on a line of its own.
  const lineStart = io.interactive ? '\n' : '';
  const onSignal = (signal: StopSignal) => {
    if (running?.stopsOnSignal && stopRequestedBy === undefined) {
      stopRequestedBy = signal;
      io.stderr(
        `${lineStart}- stopping after the current step (state is saved; run the same command again to resume); ` +
          'press Ctrl-C again to quit at once\n',
      );
      controller.abort();
      return;
    }
    const name = running ? `ziplm ${running.name}` : 'ziplm';
    io.stderr(`${lineStart}- interrupted: ${name} stops now; finished work is kept (run directories resume)\n`);
    exit(STOP_SIGNAL_EXIT[signal]);
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  source.on('SIGINT', onSigint);
  source.on('SIGTERM', onSigterm);
  return {
    signal: controller.signal,
    get stopRequestedBy() {
      return stopRequestedBy;
    },
    commandStarted(command) {
      running = command;
    },
    dispose() {
      source.off('SIGINT', onSigint);
      source.off('SIGTERM', onSigterm);
    },
  };
}

/**
 * Whether `error` is how a command gave up on a stop it was asked for: its signal's own reason
 * (`signal.throwIfAborted()`) or an AbortError of a library it passed the signal to.
 */
function isStopRequest(error: unknown, signal: AbortSignal | undefined): boolean {
  if (!signal?.aborted) return false;
  return error === signal.reason || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Runs `ziplm argv…` and returns the exit code. Never calls process.exit (tests run it in-process).
 * With `stopSignals` (bin.ts), a command that returns after a stop signal asked it to exits 130 or 143.
 */
export async function main(argv: readonly string[], io: CommandIO, stopSignals?: StopSignals): Promise<number> {
  /** The exit code of a command that returned `code`: a clean return after a stop request is still a stop. */
  const afterStop = (code: number): number => {
    const stoppedBy = stopSignals?.stopRequestedBy;
    return stoppedBy !== undefined && code === EXIT.ok ? STOP_SIGNAL_EXIT[stoppedBy] : code;
  };
  const commandIO: CommandIO = stopSignals ? { ...io, signal: stopSignals.signal } : io;
  try {
    const first = argv[0];
    if (first === '--help' || first === '-h' || first === 'help') {
      io.stdout(await rootHelp());
      return EXIT.ok;
    }
    const named = first !== undefined && !first.startsWith('-');
    const name = named ? first : DEFAULT_COMMAND;
    const load = COMMANDS[name];
    if (!load) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
    const command = await load();
    const rest = named ? argv.slice(1) : argv;
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(renderHelp(command));
      return EXIT.ok;
    }
    const { options, args } = parseOptions(command, rest);
    stopSignals?.commandStarted(command);
    const code = await command.run({ options, args, io: commandIO });
    return afterStop(code ?? EXIT.ok);
  } catch (error) {
    if (isStopRequest(error, commandIO.signal)) return afterStop(EXIT.ok);
    const code = exitCodeFor(error);
    const message = messageOf(error);
    if (code === EXIT.internal) {
      io.stderr(`ziplm: internal error: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
      io.stderr(PLEASE_REPORT);
    } else io.stderr(`ziplm: ${message}\n`);
    if (code === EXIT.usage) io.stderr('Run "ziplm --help" for usage.\n');
    return code;
  }
}
