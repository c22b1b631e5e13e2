// @ziplm/cli: the `ziplm` command line. The programmatic API is `main(argv, io)`, which runs it in-process;
// the docs site renders its CLI reference from `loadCommands` and `renderMarkdown`. Only the names listed
// here are public.

// running the CLI in-process
export { DEFAULT_COMMAND, main } from './main.js';
export { EXIT } from './exit-codes.js';
export { UsageError } from './command.js';
export type { CommandIO } from './command.js';

// the command definitions, for generated documentation
export { loadCommands } from './main.js';
export { renderMarkdown } from './command.js';
export type { Command } from './command.js';
