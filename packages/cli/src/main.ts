// `ziplm` entry point: resolves the command, parses its options, runs it and maps errors to exit
// codes. Commands are imported lazily so `ziplm --help` does not load tfjs or onnxruntime.

import { renderHelp, UsageError, parseOptions, type Command, type CommandIO } from './command.js';
import { EXIT } from './exit-codes.js';

/** Every command, loaded on demand. The first one is what `ziplm` with no arguments runs. */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  prune: async () => (await import('./commands/prune.js')).pruneCommand as unknown as Command,
  gradual: async () => (await import('./commands/gradual.js')).gradualCommand as unknown as Command,
  train: async () => (await import('./commands/train.js')).trainCommand as unknown as Command,
  latency: async () => (await import('./commands/latency.js')).latencyCommand as unknown as Command,
  eval: async () => (await import('./commands/evaluate.js')).evalCommand as unknown as Command,
  export: async () => (await import('./commands/export.js')).exportCommand as unknown as Command,
  verify: async () => (await import('./commands/verify.js')).verifyCommand as unknown as Command,
  report: async () => (await import('./commands/report.js')).reportCommand as unknown as Command,
  check: async () => (await import('./commands/check.js')).checkCommand as unknown as Command,
};

/** The command `ziplm` runs when given no command name. */
export const DEFAULT_COMMAND = 'prune';

export async function loadCommands(): Promise<Command[]> {
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

async function rootHelp(): Promise<string> {
  const lines = ['ziplm: inference-aware structured pruning of BERT and GPT2 (ZipLM)', '', 'Usage: ziplm [command] [options]', '', 'Commands:'];
  for (const command of await loadCommands()) lines.push(`  ${command.name.padEnd(10)} ${command.summary}`);
  lines.push(
    '',
    `With no command, ziplm runs "${DEFAULT_COMMAND}" with its defaults: one-shot ZipLM of the built-in SST-2 BERT to 1.5x, 2x, 3x and 4x`,
    'for batch-1 latency on this machine (SST-2 dev accuracy when ../shared/data or $ZIPLM_DATA_DIR has it, else agreement on built-in text).',
    'Run "ziplm <command> --help" for its options.',
  );
  return `${lines.join('\n')}\n`;
}

/** Error classes that mean "bad input file" (matched by name, so packages need not depend on the CLI). */
const INPUT_ERRORS = /^(ConfigError|WeightsError|VocabularyError|TokenizationError|DataError|LatencyTableError|TableMismatchError|DatabaseError|RunDirectoryError|OnnxDecodeError|ReportError|TrainingStateError)$/;
const UNREACHABLE_ERRORS = /^InfeasibleTargetError$/;
/** Error classes that mean "bad option value" (an option the pipeline, the latency model or the trainer refused). */
const USAGE_ERRORS = /^(OptionsError|EnvironmentError|TrainingConfigError)$/;

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  const name = error instanceof Error ? error.name : '';
  if (USAGE_ERRORS.test(name)) return EXIT.usage;
  if (INPUT_ERRORS.test(name)) return EXIT.input;
  if (UNREACHABLE_ERRORS.test(name)) return EXIT.unreachable;
  return EXIT.internal;
}

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
    const message = error instanceof Error ? error.message : String(error);
    if (code === EXIT.internal) io.stderr(`ziplm: internal error: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    else io.stderr(`ziplm: ${message}\n`);
    if (code === EXIT.usage) io.stderr('Run "ziplm --help" for usage.\n');
    return code;
  }
}
