// The site's Markdown, checked without building it: every code snippet a page includes
// (`<<< @/file#region`) exists and is non-empty, every tutorial page shows code from a tutorial file
// that a test runs, and every imported run is complete. VitePress itself does not fail on a missing
// snippet file or region (it prints an error in the page, or the whole file), hence this test.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCS_ROOT } from '../scripts/gen.ts';
import { importedRuns, indexedRunsTable, runsTable } from '../scripts/import-results.ts';

/** Every page source of the site, relative to apps/docs. */
function pageSources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!['node_modules', 'test', 'public', '.vitepress', '.cache'].includes(e.name)) walk(p);
      } else if (e.name.endsWith('.md')) out.push(relative(DOCS_ROOT, p));
    }
  };
  walk(DOCS_ROOT);
  return out.filter((p) => p !== 'README.md' && !/^results\/[^/]+\/report\.md$/.test(p)).sort();
}

interface Snippet {
  readonly page: string;
  readonly file: string;
  readonly region: string | undefined;
}

function snippets(page: string): Snippet[] {
  const text = readFileSync(join(DOCS_ROOT, page), 'utf8');
  return [...text.matchAll(/^<<< @\/([^\s#{[]+)(?:#([\w-]+))?/gm)].map((m) => ({ page, file: m[1]!, region: m[2] }));
}

/** The lines of a region, by the same markers VitePress accepts (`// #region x`, `# region x`). */
function regionLines(file: string, region: string): string[] | null {
  const lines = readFileSync(join(DOCS_ROOT, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => new RegExp(`^(//|#) ?#?region ${region}$`).test(l.trim()));
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && new RegExp(`^(//|#) ?#?endregion ${region}$`).test(l.trim()));
  return end < 0 ? null : lines.slice(start + 1, end);
}

const pages = pageSources();
const allSnippets = pages.flatMap(snippets);
// The tutorials run in the end-to-end project (test/e2e/), the checks of the site in the unit project (test/).
const testSources = ['test', 'test/e2e']
  .flatMap((dir) =>
    readdirSync(join(DOCS_ROOT, dir))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => readFileSync(join(DOCS_ROOT, dir, f), 'utf8')),
  )
  .join('\n');

describe('site pages', () => {
  it('has the sections the navigation links to', () => {
    for (const p of [
      'index.md',
      'guide/index.md',
      'tutorials/index.md',
      'reference/index.md',
      'results/index.md',
      'reference/cli.md',
      'demo.md',
    ])
      expect(pages).toContain(p);
  });

  it('includes only snippets that exist, by regions that exist and are not empty', () => {
    expect(allSnippets.length).toBeGreaterThan(10);
    for (const s of allSnippets) {
      expect(existsSync(join(DOCS_ROOT, s.file)), `${s.page}: ${s.file} does not exist`).toBe(true);
      if (s.region === undefined) continue;
      const lines = regionLines(s.file, s.region);
      expect(lines, `${s.page}: region "${s.region}" not found in ${s.file}`).not.toBeNull();
      expect(
        lines!.some((l) => l.trim() !== ''),
        `${s.page}: region "${s.region}" of ${s.file} is empty`,
      ).toBe(true);
    }
  });

  it('shows on every tutorial page code from a tutorial file that a test runs', () => {
    const tutorialPages = pages.filter((p) => /^tutorials\/[^/]+\.md$/.test(p) && p !== 'tutorials/index.md');
    expect(tutorialPages).toHaveLength(9);
    for (const page of tutorialPages) {
      const own = allSnippets.filter((s) => s.page === page && s.file.startsWith('tutorials/'));
      expect(own.length, `${page} includes no code from tutorials/`).toBeGreaterThan(0);
      for (const s of own) {
        const name = s.file.slice('tutorials/'.length);
        expect(testSources.includes(`../tutorials/${name}`), `${s.file} (shown on ${page}) is not run by any test in apps/docs/test`).toBe(
          true,
        );
      }
    }
  });

  it('has a complete directory for every imported run', () => {
    const dir = join(DOCS_ROOT, 'results');
    const runs = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) {
      for (const f of ['index.md', 'report.md']) expect(existsSync(join(dir, run, f)), `results/${run}/${f}`).toBe(true);
      for (const f of ['results.json', 'run.json'])
        expect(existsSync(join(DOCS_ROOT, 'public/results', run, f)), `public/results/${run}/${f}`).toBe(true);
      const report = readFileSync(join(dir, run, 'report.md'), 'utf8');
      for (const m of report.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g))
        expect(existsSync(join(dir, run, m[1]!)), `results/${run}/report.md shows ${m[1]}`).toBe(true);
      const command = JSON.parse(readFileSync(join(DOCS_ROOT, 'public/results', run, 'run.json'), 'utf8')).command as string;
      expect(readFileSync(join(dir, run, 'index.md'), 'utf8')).toContain(command);
    }
  });

  it('lists every imported run in the results overview', async () => {
    expect(await indexedRunsTable()).toBe(runsTable(await importedRuns()));
  });
});
