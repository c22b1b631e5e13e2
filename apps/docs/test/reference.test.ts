// The generated reference pages must match what the code says now: the CLI reference comes from the
// command definitions, the package pages from the READMEs and exports. A changed flag, README or
// export without `pnpm --filter @ziplm/docs gen` fails here, naming the page.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCommands } from '@ziplm/cli';
import { describe, expect, it } from 'vitest';
import { DOCS_ROOT, driftedFiles, escapeOutsideCode, exitCodes, generatedFiles, rewriteLinks } from '../scripts/gen.ts';
import { PACKAGE_PAGES } from '../scripts/pages.ts';

describe('generated reference pages', () => {
  it('are up to date with the code (run `pnpm --filter @ziplm/docs gen` when this fails)', async () => {
    const files = await generatedFiles();
    expect([...files.keys()].sort()).toEqual(['reference/cli.md', ...PACKAGE_PAGES.map((p) => `reference/packages/${p.slug}.md`)].sort());
    expect(await driftedFiles(files)).toEqual([]);
  }, 120_000);

  it('documents every command and every option of the CLI', async () => {
    const page = await readFile(join(DOCS_ROOT, 'reference/cli.md'), 'utf8');
    for (const command of await loadCommands()) {
      expect(page).toContain(`## \`ziplm ${command.name}\``);
      for (const key of Object.keys(command.options)) expect(page).toContain(`\`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    }
    for (const e of await exitCodes()) expect(page).toContain(`| ${e.code} | \`${e.name}\` |`);
  });

  it('detects drift: a page that differs from the generated text is reported', async () => {
    const files = new Map([['reference/cli.md', 'stale\n']]);
    expect(await driftedFiles(files)).toEqual(['reference/cli.md']);
  });

  it('rewrites README links for the site and escapes what VitePress would interpret', () => {
    const page = PACKAGE_PAGES.find((p) => p.slug === 'latency')!;
    expect(rewriteLinks('[solver](../hessian) and [models](../models/README.md)', page)).toBe(
      '[solver](/reference/packages/hessian) and [models](/reference/packages/models)',
    );
    expect(rewriteLinks('see [the bench](bench/additivity.ts), [x](#schema-version-1), [npm](https://www.npmjs.com)', page)).toBe(
      'see the bench (`packages/latency/bench/additivity.ts`), [x](#schema-version-1), [npm](https://www.npmjs.com)',
    );
    expect(escapeOutsideCode('costs $5 {{ x }} <Foo> `$HOME {{y}} <T>`\n```sh\necho $HOME\n```')).toBe(
      'costs \\$5 &#123;&#123; x }} &lt;Foo> `$HOME {{y}} <T>`\n```sh\necho $HOME\n```',
    );
  });
});
