#!/usr/bin/env node
import { main } from './main.js';

process.env.ORT_DISABLE_TELEMETRY ??= '1';
const json = process.argv.includes('--json');
const code = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY) && !json,
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
