// The harness of the browser tests (test/e2e/*-page.test.ts): the built site, served with or without
// cross-origin isolation (scripts/static-server.ts), opened in headless Chromium (scripts/chromium.ts)
// with the docs check's rules: nothing may be requested outside the site, and a console error, an
// uncaught exception or a failed request is recorded as a problem.
//
// CI builds the site after `pnpm test` (.ci/run), so during `pnpm test` on a fresh clone these tests
// skip with a message; `pnpm docs:check` runs them on the site it just checked and sets
// ZIPLM_DOCS_BROWSER_TESTS=1, which turns a missing site or browser into a failure.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumPath, hasChromium, launchChromium } from '../scripts/chromium.ts';
import { type ServeOptions, serve } from '../scripts/static-server.ts';

export const DOCS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(DOCS_ROOT, '../..');

/** The built site: $DOCS_DIST (relative to apps/docs) or .vitepress/dist. */
export function distDir(): string {
  return resolve(DOCS_ROOT, process.env.DOCS_DIST ?? '.vitepress/dist');
}

/**
 * Why the browser tests cannot run here (no built `file` in the site, no Chromium), or undefined when
 * they can. With ZIPLM_DOCS_BROWSER_TESTS=1 a reason is an error instead.
 */
export function browserTestsUnavailable(file: string): string | undefined {
  const reason = !existsSync(join(distDir(), file))
    ? `the built site has no ${file} (run \`pnpm docs:build\`; \`pnpm docs:check\` runs these tests after it)`
    : !hasChromium()
      ? `no Chromium at ${chromiumPath()} (Debian: apt-get install -y chromium; or set CHROMIUM_PATH)`
      : undefined;
  if (reason !== undefined && process.env.ZIPLM_DOCS_BROWSER_TESTS === '1') throw new Error(`browser tests required: ${reason}`);
  return reason;
}

/** A served site and a browser. */
export interface SiteSession {
  readonly origin: string;
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Serves the built site (with `options`) and launches Chromium with `chromiumFlags`. */
export async function openSite(options: ServeOptions, chromiumFlags: readonly string[] = []): Promise<SiteSession> {
  const { server, origin } = await serve(distDir(), options);
  const browser = await launchChromium(chromiumFlags);
  return {
    origin,
    browser,
    async close() {
      await browser.close();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** A page with the docs check's rules, and the problems it recorded. */
export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly problems: string[];
  /** Every console message, for the test's log. */
  readonly console: string[];
}

export async function watchedPage(site: SiteSession): Promise<WatchedPage> {
  const context = await site.browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  const messages: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${site.origin}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    problems.push(`external request blocked: ${url}`);
    return route.abort();
  });
  page.on('console', (msg) => {
    messages.push(`[${msg.type()}] ${msg.text()}`);
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught exception: ${error.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return { page, context, problems, console: messages };
}
