// Runs the CLI in-process and captures what it writes.
import { main } from '../src/main.js';

/** `interactive`: as on a TTY (progress bars drawn on stderr). */
export async function runCli(argv: string[], env: Record<string, string | undefined> = {}, interactive = false) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    interactive,
    env: { ...process.env, ...env },
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
}
