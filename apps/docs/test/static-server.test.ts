// The static server of the docs check and the browser tests: cross-origin isolation headers on demand,
// and the WebAssembly MIME type that streaming compilation needs.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CROSS_ORIGIN_ISOLATION_HEADERS, serve } from '../scripts/static-server.ts';

const dist = mkdtempSync(join(tmpdir(), 'ziplm-docs-serve-'));
mkdirSync(join(dist, 'ort'));
writeFileSync(join(dist, 'index.html'), '<h1>x</h1>');
writeFileSync(join(dist, 'ort', 'x.wasm'), new Uint8Array([0, 97, 115, 109]));

describe('static server', () => {
  it.each([true, false])(
    'crossOriginIsolation %s: sends COOP/COEP/CORP exactly when asked, on pages, files and 404s',
    async (isolation) => {
      const { server, origin } = await serve(dist, { crossOriginIsolation: isolation });
      try {
        for (const [path, status] of [
          ['/', 200],
          ['/ort/x.wasm', 200],
          ['/missing.html', 404],
        ] as const) {
          const response = await fetch(`${origin}${path}`);
          expect(response.status).toBe(status);
          for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS))
            expect(response.headers.get(name), `${path} ${name}`).toBe(isolation ? value : null);
        }
        expect(CROSS_ORIGIN_ISOLATION_HEADERS).toMatchObject({
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-embedder-policy': 'require-corp',
        });
      } finally {
        server.close();
      }
    },
  );

  it('serves WebAssembly as application/wasm', async () => {
    const { server, origin } = await serve(dist);
    try {
      const response = await fetch(`${origin}/ort/x.wasm`);
      expect(response.headers.get('content-type')).toBe('application/wasm');
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
    } finally {
      server.close();
    }
  });
});
