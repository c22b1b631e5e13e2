// Headless Chromium for the site's browser checks: Debian's `chromium` driven by playwright-core, which
// never downloads a browser. Shared by the docs check (scripts/check-site.ts) and the browser tests
// (test/e2e/*-page.test.ts).

import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** The browser binary: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** Whether that binary exists (tests skip with a message when it does not). */
export function hasChromium(): boolean {
  return existsSync(chromiumPath());
}

/** Flags of every launch: no network of its own (updates, sync, first-run pages). */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Makes headless Chromium offer WebGPU. Without it, on a machine with no GPU `navigator.gpu` exists but
 * `requestAdapter()` returns null; with it, Chromium offers SwiftShader's software adapter
 * (`isFallbackAdapter`), on which WebGPU works, slowly, on the CPU.
 */
export const WEBGPU_FLAG = '--enable-unsafe-webgpu';

/** Launches headless Chromium with `CHROMIUM_FLAGS` and `extraFlags`. */
export function launchChromium(extraFlags: readonly string[] = [], executablePath: string = chromiumPath()): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, chromiumSandbox: false, args: [...CHROMIUM_FLAGS, ...extraFlags] });
}
