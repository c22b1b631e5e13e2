// A Vite plugin for the site's browser pages: workspace modules they import may also import `node:`
// built-ins for functions the pages never call. @ziplm/models/tokenizers is the case: WordPieceTokenizer's
// `save(dir)` writes files with node:fs/promises, and the entry also exports the file loaders, while the
// tokenizing itself is plain TypeScript. Vite's own stand-in for a built-in has no named exports, so such
// an import fails the browser build; this plugin gives the client build a stand-in with every name the
// real module has, each a function that throws if called. Server-side rendering keeps the real modules.

import { builtinModules } from 'node:module';
import type { Plugin } from 'vitepress';

const PREFIX = '\0ziplm-node-builtin-in-browser:';

/** Whether `id` names a Node built-in (`node:fs`, `fs/promises`, …). */
function isBuiltin(id: string): boolean {
  return id.startsWith('node:') || builtinModules.includes(id);
}

/**
 * @param importerRoots folders whose modules may import built-ins this way (the workspace's packages/);
 *   a built-in imported from anywhere else keeps Vite's default handling (an error at build time).
 */
export function nodeBuiltinsInBrowser(importerRoots: readonly string[]): Plugin {
  return {
    name: 'ziplm-node-builtins-in-browser',
    enforce: 'pre',
    resolveId(id, importer, options) {
      if (options?.ssr || importer === undefined || !isBuiltin(id)) return null;
      if (!importerRoots.some((root) => importer.startsWith(root))) return null;
      return `${PREFIX}${id.startsWith('node:') ? id : `node:${id}`}`;
    },
    async load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const name = id.slice(PREFIX.length);
      const real = (await import(name)) as Record<string, unknown>;
      const exports = Object.keys(real).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
      const lines = [
        'function unavailable(what) {',
        `  return function () { throw new Error(what + ' is not available in the browser (${name})'); };`,
        '}',
        ...exports.map((k) => `export const ${k} = unavailable(${JSON.stringify(k)});`),
        `export default {};`,
      ];
      return lines.join('\n');
    },
  };
}
