// @ziplm/cli: the `ziplm` command line. The programmatic API is `main(argv, io)`.
export { main, COMMANDS, DEFAULT_COMMAND, loadCommands, exitCodeFor } from './main.js';
export { defineCommand, parseOptions, renderHelp, renderMarkdown, UsageError, type Command, type CommandIO, type OptionSpec } from './command.js';
export { EXIT } from './exit-codes.js';
