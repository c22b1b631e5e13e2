// Drives the "Measure this device" page (measure.md, browser/MeasureDevice.vue) from playwright-core, as a
// visitor would: open it, press "Build the latency table", download the table, pick a run directory for
// "verify in this browser" and read the verdicts. Shared by the page's browser test
// (test/e2e/measure-page.test.ts) and the goals script (scripts/browser-goals.ts), which read the page
// through its data-* attributes only.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LatencyTable, parseLatencyTable } from '@ziplm/latency';
import type { Page } from 'playwright-core';

/** The page root's data-* attributes (state, model, backend, threads, isolated, webgpu, buildSeconds, tableFile). */
export type MeasurePageData = Record<string, string>;

async function pageData(page: Page): Promise<MeasurePageData> {
  return page.$eval('.ziplm-measure', (el) => ({ ...(el as HTMLElement).dataset }) as Record<string, string>);
}

/** Waits until the page's state is one of `states` (or 'error', which throws with the page's message). */
async function waitForState(page: Page, states: readonly string[], timeoutMs: number): Promise<MeasurePageData> {
  const selector = [...states, 'error'].map((s) => `.ziplm-measure[data-state="${s}"]`).join(', ');
  await page.waitForSelector(selector, { timeout: timeoutMs });
  const data = await pageData(page);
  if (data.state === 'error') throw new Error(`the page failed: ${await page.textContent('.ziplm-measure [role="alert"]')}`);
  return data;
}

/** Opens the page at `url` (with its query) and waits until the plan and onnxruntime-web are loaded. */
export async function openMeasurePage(page: Page, url: string, timeoutMs = 60_000): Promise<MeasurePageData> {
  await page.goto(url);
  return waitForState(page, ['ready'], timeoutMs);
}

/** What building a table in the page gave. */
export interface PageTable {
  readonly data: MeasurePageData;
  /** Seconds from the button to the table, as the page measured them. */
  readonly buildSeconds: number;
  /** Where the downloaded table was saved. */
  readonly file: string;
  readonly table: LatencyTable;
  /** The `pnpm ziplm prune … --table <file>` command the page shows. */
  readonly command: string;
}

/** Presses "Build the latency table", waits for it, and downloads the table into `saveDir`. */
export async function buildTableInPage(page: Page, saveDir: string, timeoutMs: number): Promise<PageTable> {
  await page.click('#ziplm-measure-start');
  const data = await waitForState(page, ['built'], timeoutMs);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#ziplm-measure-download')]);
  mkdirSync(saveDir, { recursive: true });
  const file = join(saveDir, download.suggestedFilename());
  await download.saveAs(file);
  const table = parseLatencyTable(JSON.parse(readFileSync(file, 'utf8')), file);
  const command = (await page.textContent('.ziplm-measure pre.command code')) ?? '';
  return { data, buildSeconds: Number(data.buildSeconds), file, table, command };
}

/** One member's verdict as the page shows it. */
export interface PageVerdict {
  readonly member: string;
  readonly target: number;
  /** NaN when the page had no prediction. */
  readonly predicted: number;
  readonly measured: number;
  readonly status: string;
}

/** What "verify in this browser" printed. */
export interface PageVerification {
  readonly verdicts: readonly PageVerdict[];
  /** The `ziplm verify`-style lines, one per member. */
  readonly report: string;
  readonly seconds: number;
}

/** Picks `runDir` in "verify in this browser", re-times its members, and reads the verdicts. */
export async function verifyInPage(page: Page, runDir: string, timeoutMs: number): Promise<PageVerification> {
  await page.setInputFiles('#ziplm-verify-run', runDir);
  await page.waitForSelector('#ziplm-verify-start:not([disabled])', { timeout: 30_000 });
  await page.click('#ziplm-verify-start');
  await page.waitForSelector('.ziplm-measure table[data-verified], .ziplm-measure [data-verify-error]', { timeout: timeoutMs });
  const error = await page.$$eval('.ziplm-measure [data-verify-error]', (els) => els.map((e) => e.textContent).join(''));
  if (error !== '') throw new Error(`verify in this browser failed: ${error}`);
  const verdicts = await page.$$eval('.ziplm-measure tr[data-member]', (trs) =>
    trs.map((tr) => {
      const d = (tr as HTMLElement).dataset;
      return {
        member: d.member ?? '',
        target: Number(d.target),
        predicted: d.predicted === undefined ? Number.NaN : Number(d.predicted),
        measured: Number(d.measured),
        status: d.status ?? '',
      };
    }),
  );
  const report = (await page.textContent('#ziplm-verify-report')) ?? '';
  const seconds = Number(await page.$eval('.ziplm-measure table[data-verified]', (el) => el.getAttribute('data-seconds')));
  return { verdicts, report, seconds };
}
