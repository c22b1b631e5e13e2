// A small typed command layer: commands declare their options once, and that one declaration
// drives parsing (strict: unknown flags and bad numbers are usage errors), `--help`, and the CLI
// reference in the docs (`renderMarkdown`).

export type OptionType = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  readonly type: OptionType;
  readonly description: string;
  /** Shown in help; used when the flag is absent. */
  readonly default?: string | number | boolean | readonly string[];
  /** Allowed values of a string option, or of each item of a list option. */
  readonly choices?: readonly string[];
  readonly required?: boolean;
  /** Placeholder shown in help, e.g. `DIR`. */
  readonly valueName?: string;
}

export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

/** The value of a string option, or of one item of a list option: one of its choices when it has any. */
type ChoiceOf<O extends OptionSpec> = O extends { readonly choices: readonly (infer C extends string)[] } ? C : string;

type ValueOf<O extends OptionSpec> = O['type'] extends 'number'
  ? number
  : O['type'] extends 'boolean'
    ? boolean
    : O['type'] extends 'list'
      ? ChoiceOf<O>[]
      : ChoiceOf<O>;

/**
 * The option specs whose parsed value a field of type `T` accepts: a number option for a number, a boolean
 * option for a boolean, a string option for a string (with choices, required when `T` is a union of
 * literals, drawn from `T`), a list option for an array of strings. `never` for anything else (objects):
 * such a field has no option of its name.
 */
type SpecFeeding<T> = [T] extends [number]
  ? { readonly type: 'number' }
  : [T] extends [boolean]
    ? { readonly type: 'boolean' }
    : [T] extends [string]
      ? { readonly type: 'string' } & (string extends T ? { readonly choices?: readonly string[] } : { readonly choices: readonly T[] })
      : [T] extends [readonly (infer E extends string)[]]
        ? { readonly type: 'list' } & (string extends E ? { readonly choices?: readonly string[] } : { readonly choices: readonly E[] })
        : never;

/**
 * An option table checked against the options of the library call it feeds (vitest's `CLIOptions<Config>`):
 * an option named like a field of `Config` must parse to a value that field accepts, so a flag cannot drift
 * from the option it sets (a string flag for a number, a choice the library does not know, a free string
 * for an enum). Options of other names (`model`, `json`, ...) are the command's own. A field the command
 * converts before passing it on (`targets`, parsed from `2,3x`) is left out of `Config` with `Omit`.
 */
export type OptionsFor<Config> = OptionsSpec & { readonly [K in keyof Config]?: OptionSpec & SpecFeeding<NonNullable<Config[K]>> };

/** Parsed options: options with a default or `required` are always present. */
export type ParsedOptions<S extends OptionsSpec> = {
  [K in keyof S]: S[K] extends { default: unknown } | { required: true } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

/** Where a command writes. Tests pass their own to run the CLI in-process. */
export interface CommandIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when progress may be drawn in place (a TTY, and not --json). */
  readonly interactive: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * Aborted when the user asks a command with `stopsOnSignal` to stop (the first Ctrl-C or SIGTERM): the command
   * finishes its current step, saves its state and returns. Absent when nothing can ask (tests, the docs' runner).
   */
  readonly signal?: AbortSignal;
}

export interface CommandContext<S extends OptionsSpec> {
  readonly options: ParsedOptions<S>;
  /** Positional arguments. */
  readonly args: readonly string[];
  readonly io: CommandIO;
}

export interface Command<S extends OptionsSpec = OptionsSpec> {
  readonly name: string;
  readonly summary: string;
  /** Longer description (Markdown allowed; shown in help and the docs). */
  readonly description?: string;
  readonly options: S;
  /** Names of positional arguments, for help. */
  readonly positionals?: readonly { name: string; description: string; required?: boolean }[];
  readonly examples?: readonly { command: string; description: string }[];
  /**
   * True when the command stops cleanly on the first Ctrl-C or SIGTERM: it watches `io.signal`, and once aborted
   * finishes its current step, saves a state the same command resumes from, and returns (`ziplm` then exits 130
   * or 143). Without it the first signal ends the process at once; what the command finished is on disk already.
   */
  readonly stopsOnSignal?: boolean;
  /** Returns the process exit code (0 when nothing is returned). */
  // biome-ignore lint/suspicious/noConfusingVoidType: a command that only prints returns nothing (an async function with no return value), which means exit 0
  run(context: CommandContext<S>): Promise<number | void>;
}

export function defineCommand<const S extends OptionsSpec>(command: Command<S>): Command<S> {
  return command;
}

/** Wrong flags, values or arguments: the user's invocation is at fault (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly code = 'ERR_ZIPLM_USAGE';
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Parses argv against a command's options. Throws UsageError naming the offending flag. */
export function parseOptions<S extends OptionsSpec>(
  command: Command<S>,
  argv: readonly string[],
): { options: ParsedOptions<S>; args: string[] } {
  const byFlag = new Map<string, string>();
  for (const key of Object.keys(command.options)) byFlag.set(kebab(key), key);
  const values: Record<string, unknown> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('--')) {
      args.push(token);
      continue;
    }
    let flag = token.slice(2);
    let inline: string | undefined;
    const eq = flag.indexOf('=');
    if (eq >= 0) {
      inline = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    let negated = false;
    let key = byFlag.get(flag);
    if (key === undefined && flag.startsWith('no-') && command.options[byFlag.get(flag.slice(3)) ?? '']?.type === 'boolean') {
      key = byFlag.get(flag.slice(3));
      negated = true;
    }
    if (key === undefined) {
      const known = [...byFlag.keys()].map((f) => `--${f}`).join(', ');
      throw new UsageError(`unknown option --${flag} for "ziplm ${command.name}" (options: ${known || 'none'})`);
    }
    const spec = command.options[key]!;
    if (spec.type === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false')
        throw new UsageError(`--${flag} takes no value (or =true/=false)`);
      values[key] = negated ? false : inline !== 'false';
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new UsageError(`--${flag} needs a value`);
    values[key] = convert(flag, spec, raw, values[key]);
  }
  for (const [key, spec] of Object.entries(command.options)) {
    if (values[key] !== undefined) continue;
    if (spec.default !== undefined) values[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
    else if (spec.required) throw new UsageError(`--${kebab(key)} is required`);
  }
  return { options: values as ParsedOptions<S>, args };
}

function convert(flag: string, spec: OptionSpec, raw: string, previous: unknown): unknown {
  if (spec.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got "${raw}"`);
    return n;
  }
  if (spec.type === 'list') {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (items.length === 0) throw new UsageError(`--${flag} needs at least one value, got "${raw}"`);
    if (spec.choices) {
      const bad = items.filter((item) => !spec.choices!.includes(item));
      if (bad.length > 0)
        throw new UsageError(`--${flag} takes values from ${spec.choices.join(', ')}, got ${bad.map((b) => `"${b}"`).join(', ')}`);
    }
    // A list flag given twice accumulates (`--targets 2,3 --targets 4`).
    return [...(Array.isArray(previous) ? previous : []), ...items];
  }
  if (spec.choices && !spec.choices.includes(raw))
    throw new UsageError(`--${flag} must be one of ${spec.choices.join(', ')}, got "${raw}"`);
  return raw;
}

function defaultText(spec: OptionSpec): string {
  if (spec.default === undefined) return '';
  const v = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
  return v === '' ? '' : ` (default: ${v})`;
}

function flagText(key: string, spec: OptionSpec): string {
  const name = `--${kebab(key)}`;
  if (spec.type === 'boolean') return name;
  const value =
    spec.valueName ??
    (spec.type === 'list'
      ? spec.choices
        ? `{${spec.choices.join('|')}},...`
        : 'A,B,...'
      : spec.choices
        ? spec.choices.join('|')
        : spec.type === 'number'
          ? 'N'
          : 'VALUE');
  return `${name} ${value}`;
}

/** Plain-text help for `ziplm <command> --help`. */
export function renderHelp(command: Command): string {
  const lines: string[] = [];
  const pos = (command.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`)).join(' ');
  lines.push(`ziplm ${command.name}${pos ? ` ${pos}` : ''} [options]`, '', command.summary);
  if (command.description) lines.push('', command.description);
  if (command.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of command.positionals) lines.push(`  ${p.name.padEnd(28)} ${p.description}`);
  }
  lines.push('', 'Options:');
  for (const [key, spec] of Object.entries(command.options)) {
    lines.push(`  ${flagText(key, spec).padEnd(28)} ${spec.description}${spec.required ? ' (required)' : defaultText(spec)}`);
  }
  lines.push(`  ${'--help'.padEnd(28)} Show this help`);
  if (command.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of command.examples) lines.push(`  ${e.command}`, `      ${e.description}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Markdown reference of one command, for the docs site (generated, checked for drift). */
export function renderMarkdown(command: Command): string {
  const out: string[] = [`## \`ziplm ${command.name}\``, '', command.summary, ''];
  if (command.description) out.push(command.description, '');
  if (command.positionals?.length) {
    out.push('| argument | description |', '|---|---|');
    for (const p of command.positionals) out.push(`| \`${p.name}\`${p.required ? ' (required)' : ''} | ${p.description} |`);
    out.push('');
  }
  out.push('| option | description | default |', '|---|---|---|');
  for (const [key, spec] of Object.entries(command.options)) {
    const def = spec.required
      ? 'required'
      : spec.default === undefined
        ? ''
        : `\`${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)}\``;
    out.push(`| \`${flagText(key, spec).replace(/\|/g, '\\|')}\` | ${spec.description.replace(/\|/g, '\\|')} | ${def} |`);
  }
  if (command.examples?.length) {
    out.push('', 'Examples:', '', '```sh');
    for (const e of command.examples) out.push(`# ${e.description}`, e.command);
    out.push('```');
  }
  return `${out.join('\n')}\n`;
}
