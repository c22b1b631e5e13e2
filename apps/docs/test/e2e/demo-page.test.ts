// The demo page (demo.md) in a real browser: headless Chromium opens the built site, served once with
// cross-origin isolation (COOP/COEP: wasm threads) and once without, types a sentence, and every model's
// label and score on the page must equal onnxruntime-node's on the same ONNX files (read from the built
// site and checked against the manifest), tokenized by @ziplm/models' own loader from the teacher's
// directory. A third run asks for WebGPU: Chromium here offers only SwiftShader's software adapter, and
// only with --enable-unsafe-webgpu, so that run checks the WebGPU path's labels, not a GPU's speed.
// The page's figures (isolation, threads, load time, medians) are printed for the record.
//
// Needs the built site (`pnpm docs:build`) and Chromium; skips with a message otherwise (see test/browser.ts).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { padBatch } from '@ziplm/models/data';
import { readConfigFile } from '@ziplm/models/io';
import { onnxFeeds } from '@ziplm/models/onnx';
import { loadTokenizer } from '@ziplm/models/tokenizers';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { releasedAfterAll } from '@ziplm/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predict, type Prediction } from '../../browser/classify.ts';
import { type DemoManifest, parseDemoManifest } from '../../browser/demo-manifest.ts';
import { checkAsset } from '../../browser/verified-fetch.ts';
import { WEBGPU_FLAG } from '../../scripts/chromium.ts';
import { browserTestsUnavailable, distDir, openSite, REPO_ROOT, type SiteSession, watchedPage } from '../browser.ts';

const DEMO = 'demo/sst2-bert';
const unavailable = browserTestsUnavailable(`${DEMO}/manifest.json`);
if (unavailable !== undefined) console.warn(`demo page browser test skipped: ${unavailable}`);

/** The teacher the demo's models come from (@ziplm/teachers' sst2-bert, as scripts/browser-assets.ts prunes it). */
const TEACHER_DIR = join(REPO_ROOT, 'packages/teachers/teachers/sst2-bert');
const SENTENCES = {
  isolated: 'the plot is thin and the jokes fall flat , a tedious two hours',
  plain: 'an utterly charming and deeply moving story , with a superb cast',
};

const nodeSession = releasedAfterAll((bytes: Uint8Array) => createSession(bytes, { threads: 1 }));

/** onnxruntime-node's prediction of every demo model for `text`, in manifest order. */
async function nodePredictions(manifest: DemoManifest, text: string): Promise<Prediction[]> {
  const ort = await loadOrt();
  const config = await readConfigFile(join(TEACHER_DIR, 'config.json'));
  const tokenizer = await loadTokenizer(TEACHER_DIR, 'bert');
  const encoding = tokenizer.encode(text, undefined, { maxLength: manifest.sequenceLength });
  const batch = padBatch([encoding], { padId: tokenizer.padId, seqLength: manifest.sequenceLength });
  const out: Prediction[] = [];
  for (const model of manifest.models) {
    const bytes = readFileSync(join(distDir(), DEMO, model.onnx.file));
    // The graphs the page loaded: the manifest's SHA-256, which the page checked too.
    await checkAsset(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), model.onnx, model.onnx.file);
    const session = await nodeSession(bytes);
    const { logits } = await session.run(onnxFeeds(ort, config, batch));
    out.push(predict(logits!.data as Float32Array, manifest.labels));
  }
  return out;
}

interface PageRun {
  readonly root: Record<string, string>;
  readonly rows: Array<{ model: string; label: string; score: number; medianMs: number }>;
  readonly loadSeconds: number;
  readonly problems: readonly string[];
}

/**
 * Opens the demo, waits for its first result (the page's own sentence), types `text` when given, and
 * reads what the page shows for the last sentence classified.
 */
async function runDemo(site: SiteSession, query: string, text?: string): Promise<PageRun> {
  const { page, context, problems } = await watchedPage(site);
  try {
    const t0 = performance.now();
    await page.goto(`${site.origin}/demo.html${query}`);
    await page.waitForSelector('.ziplm-demo[data-state="done"], .ziplm-demo[data-state="error"]', { timeout: 150_000 });
    const loadSeconds = (performance.now() - t0) / 1000;
    const error = await page.$eval('.ziplm-demo', (el) => (el.getAttribute('data-state') === 'error' ? el.textContent : null));
    if (error !== null) throw new Error(`the demo failed: ${error}`);
    if (text !== undefined) await typeSentence(page, text);
    const root = await page.$eval('.ziplm-demo', (el) => ({ ...(el as HTMLElement).dataset }) as Record<string, string>);
    const rows = await page.$$eval('.ziplm-demo tr[data-model]', (trs) =>
      trs.map((tr) => {
        const d = (tr as HTMLElement).dataset;
        return { model: d.model ?? '', label: d.label ?? '', score: Number(d.score), medianMs: Number(d.medianMs) };
      }),
    );
    return { root, rows, loadSeconds, problems: [...problems] };
  } finally {
    await context.close();
  }
}

/** Types `text` into the demo (as a reader would: the page reacts to input events) and waits for its result. */
async function typeSentence(page: Page, text: string): Promise<void> {
  await page.fill('#ziplm-demo-text', text);
  await page.waitForFunction(
    (t) => {
      const root = document.querySelector<HTMLElement>('.ziplm-demo');
      return root?.dataset.state === 'done' && root.dataset.text === t;
    },
    text,
    { timeout: 120_000 },
  );
}

function report(name: string, run: PageRun): void {
  const dense = run.rows[0]!.medianMs;
  const figures = run.rows.map(
    (r) => `${r.model} ${r.label} ${r.score.toFixed(3)} ${r.medianMs.toFixed(2)} ms (${(dense / r.medianMs).toFixed(2)}x)`,
  );
  const { isolated, threads, backend, webgpu } = run.root;
  console.log(
    `demo page, ${name}: crossOriginIsolated=${isolated} threads=${threads} backend=${backend} webgpu=${webgpu}; ready in ${run.loadSeconds.toFixed(1)} s\n  ${figures.join('\n  ')}`,
  );
}

function expectSameAsNode(run: PageRun, node: readonly Prediction[], manifest: DemoManifest, scoreTolerance: number): void {
  expect(run.problems).toEqual([]);
  expect(run.rows.map((r) => r.model)).toEqual(manifest.models.map((m) => m.name));
  expect(run.rows.map((r) => r.label)).toEqual(node.map((p) => p.label));
  run.rows.forEach((r, i) => {
    expect(Math.abs(r.score - node[i]!.score), r.model).toBeLessThan(scoreTolerance);
    expect(r.medianMs, r.model).toBeGreaterThan(0);
  });
}

describe.skipIf(unavailable !== undefined)('demo page in headless Chromium', () => {
  let manifest: DemoManifest;
  beforeAll(() => {
    manifest = parseDemoManifest(JSON.parse(readFileSync(join(distDir(), DEMO, 'manifest.json'), 'utf8')));
  });

  describe('cross-origin isolated (COOP/COEP): wasm threads', () => {
    let site: SiteSession;
    beforeAll(async () => {
      site = await openSite({ crossOriginIsolation: true });
    });
    afterAll(() => site?.close());

    it('classifies a typed sentence like onnxruntime-node, on 2 wasm threads', { timeout: 300_000 }, async () => {
      const run = await runDemo(site, '?threads=2', SENTENCES.isolated);
      report('isolated, ?threads=2', run);
      expect(run.root).toMatchObject({ isolated: 'true', threads: '2', backend: 'wasm' });
      expectSameAsNode(run, await nodePredictions(manifest, SENTENCES.isolated), manifest, 1e-4);
    });
  });

  describe('not isolated: one thread', () => {
    let site: SiteSession;
    beforeAll(async () => {
      site = await openSite({ crossOriginIsolation: false });
    });
    afterAll(() => site?.close());

    it('classifies a typed sentence like onnxruntime-node, and says WebGPU was skipped', { timeout: 300_000 }, async () => {
      // ?threads=2 is ignored without isolation: there is no SharedArrayBuffer for worker threads.
      const run = await runDemo(site, '?threads=2', SENTENCES.plain);
      report('not isolated', run);
      expect(run.root).toMatchObject({ isolated: 'false', threads: '1', backend: 'wasm', webgpu: 'unavailable' });
      expectSameAsNode(run, await nodePredictions(manifest, SENTENCES.plain), manifest, 1e-4);
    });
  });

  describe('WebGPU (SwiftShader software adapter)', () => {
    let site: SiteSession;
    beforeAll(async () => {
      site = await openSite({ crossOriginIsolation: true }, [WEBGPU_FLAG]);
    });
    afterAll(() => site?.close());

    // SwiftShader runs a dense pass in seconds: the page's own sentence only, no typing.
    it('runs the models on the WebGPU execution provider with the same labels', { timeout: 300_000 }, async () => {
      const run = await runDemo(site, '?backend=webgpu');
      report('WebGPU (SwiftShader)', run);
      expect(run.root).toMatchObject({ webgpu: 'available', backend: 'webgpu' });
      expectSameAsNode(run, await nodePredictions(manifest, run.root.text!), manifest, 1e-3);
    });
  });
});
