// The browser check's own logic that does not need a browser: which file a URL path is served from,
// which pages exist, which must show code. (The browser part runs in `pnpm docs:check`.)

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsCode, pagePaths } from '../scripts/check-site.ts';
import { fileForPath, serve } from '../scripts/static-server.ts';

const dist = mkdtempSync(join(tmpdir(), 'ziplm-docs-dist-'));
mkdirSync(join(dist, 'guide'));
mkdirSync(join(dist, 'assets'));
for (const f of ['index.html', '404.html', 'guide/index.html', 'guide/obs.html', 'assets/app.js']) writeFileSync(join(dist, f), f);

describe('docs:check helpers', () => {
  it('maps URL paths to files the way a static host serves a VitePress build', () => {
    expect(fileForPath(dist, '/')).toBe(join(dist, 'index.html'));
    expect(fileForPath(dist, '/guide/')).toBe(join(dist, 'guide/index.html'));
    expect(fileForPath(dist, '/guide/obs.html')).toBe(join(dist, 'guide/obs.html'));
    expect(fileForPath(dist, '/guide/obs')).toBe(join(dist, 'guide/obs.html'));
    expect(fileForPath(dist, '/guide/missing.html')).toBeNull();
    expect(fileForPath(dist, '/../etc/passwd')).toBeNull();
    expect(fileForPath(dist, '/%E0%A4%A')).toBeNull();
  });

  it('lists every page but the 404 page, and knows which must show code', () => {
    expect(pagePaths(dist)).toEqual(['/guide/index.html', '/guide/obs.html', '/index.html']);
    expect(needsCode('/tutorials/gpt2.html')).toBe(true);
    expect(needsCode('/tutorials/index.html')).toBe(false);
    expect(needsCode('/reference/cli.html')).toBe(true);
    expect(needsCode('/guide/obs.html')).toBe(false);
  });

  it('serves the files with their types and answers 404 otherwise', async () => {
    const { server, origin } = await serve(dist);
    try {
      const page = await fetch(`${origin}/guide/obs.html`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toBe('guide/obs.html');
      expect((await fetch(`${origin}/assets/app.js`)).headers.get('content-type')).toContain('text/javascript');
      expect((await fetch(`${origin}/nope.html`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
