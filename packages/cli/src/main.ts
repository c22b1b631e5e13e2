// `ziplm` entry point: resolves the command, parses its options, runs it and maps errors to exit
// codes. Commands are imported lazily so `ziplm --help` does not load tfjs or onnxruntime.

import type { OptionsError } from '@ziplm/pipeline';
import { renderHelp, UsageError, parseOptions, type Command, type CommandIO } from './command.js';
import { EXIT } from './exit-codes.js';
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

/** Runs `ziplm argv…` and returns the exit code. Never calls process.exit (tests run it in-process). */
export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
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
    const code = await command.run({ options, args, io });
    return code ?? EXIT.ok;
  } catch (error) {
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
