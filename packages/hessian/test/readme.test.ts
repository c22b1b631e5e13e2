// The README example is scripts/example.ts: this keeps the two identical and runs the script, so the
// example cannot rot (same pattern as packages/onnx/test/readme.test.ts).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { ffnLevels } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README example', () => {
  it('is scripts/example.ts verbatim (after its header comment), and runs', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = readme.match(/<!-- example:start -->\n```ts\n([\s\S]*?)```\n<!-- example:end -->/);
    expect(block).not.toBeNull();
    // The script starts with a comment line naming itself and how to run it; the README says that in prose.
    const script = readFileSync(join(root, 'scripts', 'example.ts'), 'utf8');
    expect(script.startsWith('// ')).toBe(true);
    expect(block![1]).toBe(script.slice(script.indexOf('\n') + 1));

    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import('../scripts/example.js');
      const lines = log.mock.calls.map((call) => String(call[0]));
      expect(lines[0]).toBe('damping 0.01 of the mean diagonal, 0 dead inputs');
      // Six snapshots from the top of the 256-neuron FFN grid, errors from 0 (dense) upwards.
      const rows = lines.slice(1).map((line) => line.match(/^keep +(\d+) neurons: relative output error (\d\.\d{4})$/));
      expect(rows.length).toBe(6);
      expect(rows.every((m) => m !== null)).toBe(true);
      expect(rows.map((m) => Number(m![1]))).toEqual(ffnLevels(256).slice(0, 6));
      const errors = rows.map((m) => Number(m![2]));
      expect(errors[0]).toBe(0);
      for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeGreaterThanOrEqual(errors[i - 1]!);
      expect(errors[5]).toBeGreaterThan(0);
      expect(errors[5]).toBeLessThan(1);
    } finally {
      log.mockRestore();
    }
  });
});
