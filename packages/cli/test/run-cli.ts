// Runs the CLI in-process and captures what it writes.
import { main } from '../src/main.js';

export async function runCli(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    interactive: false,
    env: { ...process.env, ...env },
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
}
