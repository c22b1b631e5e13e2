// The generated reference pages must match what the code says now: the CLI reference comes from the
// command definitions, the package pages from the READMEs and exports. A changed flag, README or
// export without `pnpm --filter @ziplm/docs gen` fails here, naming the page.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCommands } from '@ziplm/cli';
import { describe, expect, it } from 'vitest';
import {
  DOCS_ROOT,
  driftedFiles,
  errorExitCodes,
  escapeOutsideCode,
  exitCodes,
  generatedFiles,
  pasteable,
  rewriteLinks,
} from '../scripts/gen.ts';
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

  it('writes every command as the reader pastes it: `pnpm ziplm …`, with the installed form shown once', async () => {
    const page = await readFile(join(DOCS_ROOT, 'reference/cli.md'), 'utf8');
    const commandLines = [...page.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
      .flatMap((m) => m[1]!.split('\n'))
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(commandLines.length).toBeGreaterThan(10);
    for (const line of commandLines) expect(line).toMatch(/^pnpm ziplm( |$)/);
    for (const command of await loadCommands()) expect(page).toContain(`Usage: \`pnpm ziplm ${command.name}`);
    expect(page.match(/npx ziplm /g)).toHaveLength(1);
    expect(pasteable('ziplm prune --targets 2')).toBe('pnpm ziplm prune --targets 2');
    expect(() => pasteable('pnpm ziplm prune')).toThrow(/must start with "ziplm "/);
  });

  it('lists every error code under the exit code it gives', async () => {
    const page = await readFile(join(DOCS_ROOT, 'reference/cli.md'), 'utf8');
    const rows = await errorExitCodes();
    expect(rows.length).toBeGreaterThan(30);
    const names = new Set((await exitCodes()).map((e) => e.name));
    for (const { code, exit } of rows) {
      expect(names.has(exit), `${code}: EXIT.${exit} is not an exit code`).toBe(true);
      expect(page).toMatch(new RegExp(`^\\| \\d+ \`${exit}\` \\|.*\`${code}\``, 'm'));
    }
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
