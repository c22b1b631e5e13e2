// Fetching the demo's files and checking them against the manifest before use: a stale cache, a
// truncated download or a proxy that rewrote a file would otherwise show a wrong label or timing with
// nothing to tell why. SHA-256 comes from Web Crypto (`crypto.subtle`), which browsers offer in secure
// contexts only: https, or http on localhost / 127.0.0.1. Browser-safe, and runs in Node ≥ 20 too.

import type { DemoAsset } from './demo-manifest.ts';

/** A fetched file that is not the one the manifest names. */
export class AssetIntegrityError extends Error {
  override name = 'AssetIntegrityError';
}

/** Lower-case hex SHA-256 of some bytes. */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
  if (globalThis.crypto?.subtle === undefined)
    throw new AssetIntegrityError('Web Crypto is unavailable (not a secure context: open the page over https or on localhost)');
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/**
 * Checks bytes against their manifest entry.
 * @throws AssetIntegrityError when the size or the SHA-256 differs.
 */
export async function checkAsset(bytes: ArrayBuffer, asset: DemoAsset, url: string): Promise<void> {
  if (bytes.byteLength !== asset.bytes)
    throw new AssetIntegrityError(
      `${url}: ${bytes.byteLength} bytes, the manifest says ${asset.bytes} (stale cache or truncated download?)`,
    );
  const sha256 = await sha256Hex(bytes);
  if (sha256 !== asset.sha256) throw new AssetIntegrityError(`${url}: SHA-256 ${sha256}, the manifest says ${asset.sha256}`);
}

/** Fetches `asset` from the folder `baseUrl` (ending in `/`) and returns its bytes once they match the manifest. */
export async function fetchVerified(baseUrl: string, asset: DemoAsset, fetchImpl: typeof fetch = fetch): Promise<ArrayBuffer> {
  const url = `${baseUrl}${asset.file}`;
  const response = await fetchImpl(url);
  if (!response.ok) throw new AssetIntegrityError(`${url}: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  await checkAsset(bytes, asset, url);
  return bytes;
}
