// The docs site's browser check (`pnpm docs:check`, after `pnpm docs:build`): serves the built site
// and opens every page in headless Chromium (Debian's, driven by playwright-core). A page fails when
//   - the browser logs a console error or an uncaught exception;
//   - it requests anything outside the site (the site must work offline), or a request fails / 4xx;
//   - one of its same-origin links points to a page or file the site does not serve, or to an
//     anchor that the target page does not have;
//   - an image does not load;
//   - a tutorial page (or the CLI reference) has no code block, or a code snippet include failed;
//   - MathJax reported an error in an equation.
// It also checks that the local search finds a page. Exit code 0 when everything passes, 1 with a list
// of failures otherwise, 2 when the site is not built or Chromium is missing.
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium), DOCS_DIST (default .vitepress/dist).

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { chromiumPath, launchChromium } from './chromium.ts';
import { fileForPath, serve } from './static-server.ts';

const DOCS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every page of the build: its .html files except the 404 page, as URL paths. */
export function pagePaths(dist: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html') && p !== join(dist, '404.html')) out.push(`/${relative(dist, p).split(sep).join('/')}`);
    }
  };
  walk(dist);
  return out.sort();
}

/** Pages that must show code: every tutorial (not the overview) and the CLI reference. */
export function needsCode(path: string): boolean {
  return (/^\/tutorials\/[^/]+\.html$/.test(path) && path !== '/tutorials/index.html') || path === '/reference/cli.html';
}

interface PageReport {
  readonly path: string;
  readonly failures: string[];
  readonly links: Array<{ href: string; text: string }>;
  readonly ids: Set<string>;
}

async function checkPage(browser: Browser, origin: string, path: string): Promise<PageReport> {
  const failures: string[] = [];
  const context = await browser.newContext();
  const page = await context.newPage();
  // Nothing may leave the site: record and block every other request.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return route.continue();
    failures.push(`external request blocked: ${url}`);
    return route.abort();
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') failures.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (error) => failures.push(`uncaught exception: ${error.message}`));
  page.on('requestfailed', (req) => {
    if (req.url().startsWith(origin)) failures.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) failures.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  const response = await page.goto(`${origin}${path}`, { waitUntil: 'networkidle' });
  if (!response?.ok()) failures.push(`page answered ${response?.status() ?? 'nothing'}`);

  const facts = await page.evaluate(() => {
    const doc = document;
    return {
      links: [...doc.querySelectorAll('a[href]')].map((a) => ({
        href: (a as HTMLAnchorElement).href,
        text: (a.textContent ?? '').trim().slice(0, 60),
      })),
      ids: [...doc.querySelectorAll('[id]')].map((e) => e.id),
      brokenImages: [...doc.querySelectorAll('img')]
        .filter((img) => !(img as HTMLImageElement).complete || (img as HTMLImageElement).naturalWidth === 0)
        .map((img) => (img as HTMLImageElement).src),
      codeBlocks: doc.querySelectorAll('.vp-doc div[class*="language-"] pre code').length,
      snippetErrors: [...doc.querySelectorAll('.vp-doc pre code')]
        .map((c) => c.textContent ?? '')
        .filter((t) => /Code snippet path not found|Invalid code snippet option/.test(t))
        .map((t) => t.slice(0, 120)),
      mathErrors: doc.querySelectorAll('mjx-merror, [data-mjx-error]').length,
      title: doc.title,
      h1: doc.querySelector('.vp-doc h1, .VPHero .name')?.textContent?.trim() ?? '',
    };
  });
  for (const src of facts.brokenImages) failures.push(`image did not load: ${src}`);
  for (const s of facts.snippetErrors) failures.push(`code snippet include failed: ${s}`);
  if (facts.mathErrors > 0) failures.push(`${facts.mathErrors} MathJax error(s) in equations`);
  if (needsCode(path) && facts.codeBlocks === 0) failures.push('no code block on a page that must show code');
  if (!facts.h1) failures.push('no page heading (h1)');
  await context.close();
  return { path, failures, links: facts.links, ids: new Set(facts.ids) };
}

/** Same-origin links: the target must be served, and its anchor (if any) must exist on the target page. */
function checkLinks(reports: Map<string, PageReport>, origin: string, dist: string): void {
  for (const report of reports.values()) {
    for (const { href, text } of report.links) {
      if (!href.startsWith(`${origin}/`)) continue;
      const url = new URL(href);
      const file = fileForPath(dist, url.pathname);
      if (!file) {
        report.failures.push(`dead link "${text}" -> ${url.pathname}`);
        continue;
      }
      if (!url.hash || !file.endsWith('.html')) continue;
      const target = reports.get(`/${relative(dist, file).split(sep).join('/')}`);
      const anchor = decodeURIComponent(url.hash.slice(1));
      if (target && anchor && !target.ids.has(anchor)) report.failures.push(`missing anchor "${text}" -> ${url.pathname}#${anchor}`);
    }
  }
}

/** The local search (no network) finds the Structured OBS guide page for a word only it uses. */
async function checkSearch(browser: Browser, origin: string): Promise<string[]> {
  const failures: string[] = [];
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => failures.push(`uncaught exception: ${error.message}`));
  await page.goto(`${origin}/`, { waitUntil: 'networkidle' });
  await page.click('.VPNavBarSearch button');
  await page.fill('.VPLocalSearchBox input', 'saliency');
  try {
    await page.waitForSelector('.VPLocalSearchBox .result', { timeout: 10_000 });
    const hits = await page.$$eval('.VPLocalSearchBox .result', (els) =>
      els.map((e) => (e as HTMLAnchorElement).getAttribute('href') ?? ''),
    );
    if (!hits.some((h) => h.includes('/guide/structured-obs')))
      failures.push(`search for "saliency" did not find /guide/structured-obs (hits: ${hits.join(', ')})`);
  } catch {
    failures.push('local search showed no results for "saliency"');
  }
  await context.close();
  return failures;
}

export async function checkSite(
  dist: string,
  executablePath: string,
  log: (line: string) => void = console.log,
): Promise<{ pages: number; failures: Map<string, string[]> }> {
  const { server, origin } = await serve(dist);
  // No GPU: the docs check opens pages as a reader without WebGPU would (pages must not depend on it).
  const browser = await launchChromium(['--disable-gpu'], executablePath);
  try {
    const reports = new Map<string, PageReport>();
    for (const path of pagePaths(dist)) {
      const report = await checkPage(browser, origin, path);
      reports.set(path, report);
      log(`${report.failures.length === 0 ? 'ok  ' : 'FAIL'} ${path}`);
    }
    checkLinks(reports, origin, dist);
    const failures = new Map<string, string[]>();
    for (const r of reports.values()) if (r.failures.length > 0) failures.set(r.path, [...new Set(r.failures)]);
    const search = await checkSearch(browser, origin);
    log(`${search.length === 0 ? 'ok  ' : 'FAIL'} local search`);
    if (search.length > 0) failures.set('(local search)', search);
    return { pages: reports.size, failures };
  } finally {
    await browser.close();
    server.close();
  }
}

async function main(): Promise<void> {
  const dist = resolve(DOCS_ROOT, process.env.DOCS_DIST ?? '.vitepress/dist');
  const executablePath = chromiumPath();
  if (!existsSync(join(dist, 'index.html'))) {
    console.error(`docs:check: ${dist} has no built site; run \`pnpm docs:build\` first`);
    process.exit(2);
  }
  if (!existsSync(executablePath)) {
    console.error(`docs:check: no Chromium at ${executablePath} (Debian: apt-get install -y chromium; or set CHROMIUM_PATH)`);
    process.exit(2);
  }
  const t0 = performance.now();
  const { pages, failures } = await checkSite(dist, executablePath);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (failures.size > 0) {
    console.error(`\ndocs:check: ${failures.size} of ${pages} pages failed (${seconds} s):`);
    for (const [path, list] of failures) {
      console.error(`  ${path}`);
      for (const f of list) console.error(`    - ${f}`);
    }
    process.exit(1);
  }
  console.log(
    `\ndocs:check: ${pages} pages opened in Chromium, every link, anchor, image and code block checked, local search works (${seconds} s)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
