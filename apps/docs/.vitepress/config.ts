// The ziplm documentation site. Everything it shows is built from the repository: the tutorials
// include code from tested files (`<<< @/tutorials/x.ts#region`), the reference pages are generated
// from the CLI's command definitions and the packages' READMEs (`pnpm --filter @ziplm/docs gen`),
// and the results pages are imported run directories (`pnpm --filter @ziplm/docs results:import`).
//
// No external network at build or view time: local search, math rendered to inline SVG at build
// time (markdown-it-mathjax3), no web fonts, no analytics, no social links.

import { readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';
import { ORT_WEB_BUILDS, onnxruntimeWebDir } from '../scripts/ort-web-files.ts';
import { PACKAGE_PAGES } from '../scripts/pages.ts';
import { nodeBuiltinsInBrowser } from './node-builtins-in-browser.ts';

const docsRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const workspacePackages = join(docsRoot, '../../packages');

/**
 * Browser pages (demo.md) import onnxruntime-web by subpath; these aliases pick the builds that load their
 * wasm from the site's /ort/ (see scripts/ort-web-files.ts), from the copy scripts/browser-assets.ts serves.
 */
function onnxruntimeWebAliases(): Record<string, string> {
  const { dir } = onnxruntimeWebDir();
  return Object.fromEntries(Object.entries(ORT_WEB_BUILDS).map(([subpath, file]) => [subpath, join(dir, file)]));
}

/** Imported runs (results/<name>/index.md), newest name last, for the sidebar. */
function resultRuns(): DefaultTheme.SidebarItem[] {
  const dir = join(docsRoot, 'results');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'index.md')))
    .map((e) => ({ text: e.name, link: `/results/${e.name}/` }))
    .sort((a, b) => a.text.localeCompare(b.text));
}

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Guide',
    items: [
      { text: 'What structured pruning buys', link: '/guide/' },
      { text: 'Structured OBS', link: '/guide/structured-obs' },
      { text: 'Latency tables', link: '/guide/latency' },
      { text: 'The search: DP and SPDY', link: '/guide/search' },
      { text: 'Distillation and gradual pruning', link: '/guide/distillation' },
      { text: 'Compound compression: sparsity and INT8', link: '/guide/compound-compression' },
      { text: 'The paper’s results', link: '/guide/paper' },
      { text: 'Reading a run report', link: '/guide/reports' },
    ],
  },
  {
    text: 'Using ziplm',
    items: [
      { text: 'Data', link: '/guide/data' },
      { text: 'Data formats', link: '/guide/data-formats' },
      { text: 'Models and formats', link: '/guide/models' },
      { text: 'Troubleshooting and FAQ', link: '/guide/troubleshooting' },
    ],
  },
];

const tutorials: DefaultTheme.SidebarItem[] = [
  {
    text: 'Tutorials',
    items: [
      { text: 'Overview', link: '/tutorials/' },
      { text: '1. Prune the built-in model', link: '/tutorials/prune-builtin' },
      { text: '2. Prune your own BERT on GLUE', link: '/tutorials/prune-your-bert' },
      { text: '3. Latency tables and verification', link: '/tutorials/latency-table' },
      { text: '4. Gradual pruning with distillation', link: '/tutorials/gradual' },
      { text: '5. GPT2: throughput and generation', link: '/tutorials/gpt2' },
      { text: '6. The OBS solver on its own', link: '/tutorials/obs-solver' },
      { text: '7. Bring your own data', link: '/tutorials/your-data' },
      { text: '8. Compound compression', link: '/tutorials/compound-compression' },
      { text: '9. Prune a transformers.js model', link: '/tutorials/transformers-js' },
    ],
  },
];

const reference: DefaultTheme.SidebarItem[] = [
  {
    text: 'Reference',
    items: [
      { text: 'Overview', link: '/reference/' },
      { text: 'CLI', link: '/reference/cli' },
    ],
  },
  {
    text: 'Packages',
    items: PACKAGE_PAGES.map((p) => ({ text: p.packageName, link: `/reference/packages/${p.slug}` })),
  },
];

export default defineConfig({
  title: 'ziplm',
  description: 'Inference-aware structured pruning of BERT and GPT2 (ZipLM), in TypeScript',
  lang: 'en-US',
  // The package's own README, imported reports (included into their run pages) and the tutorials'
  // test fixtures are not pages.
  srcExclude: ['README.md', 'results/*/report.md', 'test/**', 'node_modules/**', '.cache/**'],
  // Fail the build on a dead link (VitePress' default), and say so here so nobody turns it off lightly.
  ignoreDeadLinks: false,
  cleanUrls: false,
  lastUpdated: false,
  // Browser pages (demo.md) run workspace code in the page: resolve @ziplm packages to their TypeScript
  // sources (as tests and typechecks do), give the modules they import from packages/ browser stand-ins for
  // Node built-ins they never call there, and import onnxruntime-web's builds that load their wasm from /ort/.
  // Those pages load their engine in `onMounted`, so none of it runs while the pages are rendered at build time.
  vite: {
    resolve: { conditions: ['@ziplm/source'], alias: onnxruntimeWebAliases() },
    ssr: { resolve: { conditions: ['@ziplm/source'] } },
    plugins: [nodeBuiltinsInBrowser([workspacePackages])],
    // Vite's dependency pre-bundling would rewrite onnxruntime-web's `import(wasmPaths + loader)`.
    optimizeDeps: { exclude: ['onnxruntime-web'] },
  },
  markdown: {
    // $…$ and $$…$$, rendered to inline SVG at build time: nothing is fetched when a page is viewed.
    math: true,
    lineNumbers: false,
  },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/', activeMatch: '/guide/' },
      { text: 'Tutorials', link: '/tutorials/', activeMatch: '/tutorials/' },
      { text: 'Reference', link: '/reference/', activeMatch: '/reference/' },
      { text: 'Results', link: '/results/', activeMatch: '/results/' },
      { text: 'Demo', link: '/demo', activeMatch: '/demo' },
      { text: 'Measure this device', link: '/measure', activeMatch: '/measure' },
      { text: 'FAQ', link: '/guide/troubleshooting' },
    ],
    sidebar: {
      '/guide/': guide,
      '/tutorials/': tutorials,
      '/reference/': reference,
      '/results/': [
        {
          text: 'Results',
          items: [
            { text: 'Overview', link: '/results/' },
            { text: 'Compound compression (Figure 5)', link: '/results/compound-compression' },
            ...resultRuns(),
          ],
        },
      ],
    },
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    footer: {
      message: 'ZipLM: Kurtic, Frantar, Alistarh. Inference-Aware Structured Pruning of Language Models. NeurIPS 2023 (arXiv:2302.04089).',
    },
  },
});
