// The README's TypeScript fragments are the files in examples/, verbatim: the package's typecheck covers
// examples/, so every fragment a reader copies compiles, imports included.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('shows every example file once, and only example files', () => {
    const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
    const fragments = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
    const examples = readdirSync(join(PACKAGE_DIR, 'examples'))
      .filter((name) => name.endsWith('.ts'))
      .sort();
    const shown = fragments.map(
      (fragment) => examples.find((name) => readFileSync(join(PACKAGE_DIR, 'examples', name), 'utf8') === fragment) ?? fragment,
    );
    expect(shown.sort()).toEqual(examples);
  });

  it('opens with examples/readme.ts, the example the pack check runs', () => {
    const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
    const first = /^```ts\n([\s\S]*?)^```$/m.exec(readme)?.[1];
    expect(first).toBe(readFileSync(join(PACKAGE_DIR, 'examples', 'readme.ts'), 'utf8'));
  });
});
