import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

// The main entry must run in a browser: no module it reaches may import node:* (those live in ./node).
describe('the platform-neutral entry', () => {
  it('imports no node:* module', async () => {
    const seen = new Set<string>();
    const pending = ['index.ts'];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = await readFile(new URL(`../src/${file}`, import.meta.url), 'utf8');
      expect(text, file).not.toMatch(/from 'node:/);
      for (const [, local] of text.matchAll(/from '\.\/([\w-]+)\.js'/g)) pending.push(`${local}.ts`);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});
