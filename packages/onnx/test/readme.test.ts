import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README example', () => {
  it('is examples/quickstart.ts verbatim, and runs with the outputs its comments state', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = readme.match(/<!-- quickstart:start -->\n```ts\n([\s\S]*?)```\n<!-- quickstart:end -->/);
    expect(block).not.toBeNull();
    expect(block![1]).toBe(readFileSync(join(root, 'examples', 'quickstart.ts'), 'utf8'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import('../examples/quickstart.js');
      const [[dims, y], [c]] = log.mock.calls as [[number[], Float32Array], [Float64Array]];
      expect(dims).toEqual([2, 2]);
      expect(Array.from(y)).toEqual([0, Math.fround(2.9), 0, Math.fround(5.9)]);
      expect(Array.from(c)).toEqual([17, 23, 39, 53]);
    } finally {
      log.mockRestore();
    }
  });
});
