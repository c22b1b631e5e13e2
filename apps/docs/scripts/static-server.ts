// A small static server for the built site (`.vitepress/dist`) on 127.0.0.1, as a static host serves a
// VitePress build (cleanUrls off). Used by the docs check (scripts/check-site.ts) and the browser tests
// (test/e2e/): Node's http module only, no dependency.
//
// `crossOriginIsolation: true` adds the two headers that make a page cross-origin isolated
// (`crossOriginIsolated === true` in it): Cross-Origin-Opener-Policy: same-origin and
// Cross-Origin-Embedder-Policy: require-corp. Browsers then give the page SharedArrayBuffer, which
// onnxruntime-web's WebAssembly threads need, and a finer `performance.now()`. Everything the site loads
// is same-origin, so require-corp blocks nothing; Cross-Origin-Resource-Policy: same-origin says so
// explicitly for every file.

import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
  // WebAssembly.instantiateStreaming (onnxruntime-web) accepts only this type.
  '.wasm': 'application/wasm',
};

/** The headers that make a page cross-origin isolated. */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

/** The file a URL path maps to, as a static host would serve a VitePress build (cleanUrls off). */
export function fileForPath(dist: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return null;
  }
  const candidates = path.endsWith('/') ? [`${path}index.html`] : [path, `${path}.html`, `${path}/index.html`];
  for (const c of candidates) {
    const file = normalize(join(dist, c));
    if (file !== dist && !file.startsWith(dist + sep)) return null; // no escaping the site
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  return null;
}

export interface ServeOptions {
  /** Send the COOP/COEP headers (see the file's header). Default false. */
  readonly crossOriginIsolation?: boolean;
}

/** Serves `dist` on 127.0.0.1 (a free port). Close the returned server when done. */
export async function serve(dist: string, options: ServeOptions = {}): Promise<{ server: Server; origin: string }> {
  const isolation = options.crossOriginIsolation === true ? CROSS_ORIGIN_ISOLATION_HEADERS : {};
  const server = createServer(async (req, res) => {
    const file = fileForPath(dist, new URL(req.url ?? '/', 'http://x').pathname);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain', ...isolation }).end('not found');
      return;
    }
    const headers: OutgoingHttpHeaders = { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', ...isolation };
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : await readFile(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
