#!/usr/bin/env node
import { handleStopSignals, main } from './main.js';

process.env.ORT_DISABLE_TELEMETRY ??= '1';
const json = process.argv.includes('--json');
const io = {
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY) && !json,
  env: process.env,
  cwd: process.cwd(),
};
// Our own handlers, in this process: run as `pnpm ziplm` (tsx starts this file in a child process), a signal
// sent to this process or relayed to it by tsx reaches them, and a command that saves its state can stop cleanly.
const stopSignals = handleStopSignals(process, io, (code) => process.exit(code));
const code = await main(process.argv.slice(2), io, stopSignals);
stopSignals.dispose();
process.exitCode = code;
