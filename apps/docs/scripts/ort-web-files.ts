// Where the site takes onnxruntime-web from, shared by the site's config (.vitepress/config.ts: which
// build pages import) and scripts/browser-assets.ts (which wasm files the site serves). No @ziplm imports:
// VitePress loads its config without the workspace's `@ziplm/source` condition.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DOCS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** onnxruntime-web files the pages need: the CPU (wasm) build and the WebGPU build (loaded only when used). */
export const ORT_WEB_FILES = [
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
] as const;

/**
 * The builds pages import, by subpath: the ones that load their wasm from `env.wasm.wasmPaths` (the
 * site's /ort/) instead of the default "bundle" builds, which embed the loader and make the bundler
 * copy the 14–27 MB binaries into the site's assets a second time.
 */
export const ORT_WEB_BUILDS = {
  'onnxruntime-web/wasm': 'dist/ort.wasm.min.mjs',
  'onnxruntime-web/webgpu': 'dist/ort.webgpu.min.mjs',
} as const;

/**
 * onnxruntime-web's package folder and version, resolved from @ziplm/docs, which lists it. Resolved from
 * the package.json that declares it, never by a bare lookup: under `pnpm exec`, NODE_PATH exposes pnpm's
 * hidden hoisted folder, which may hold another onnxruntime-web that some dependency pulled in
 * (transformers.js brings a 1.31 pre-release).
 */
export function onnxruntimeWebDir(): { dir: string; version: string } {
  // The package exports no package.json, but it does export its wasm binary (dist/<file>).
  const wasm = createRequire(join(DOCS_ROOT, 'package.json')).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
  const dir = dirname(dirname(wasm));
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  return { dir, version };
}
