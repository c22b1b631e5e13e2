// The main entry (`@ziplm/hessian`, src/index.ts) must run in a browser and have zero runtime
// dependencies: nothing it loads, directly or transitively, may import a `node:` module (or a bare Node
// builtin) or another package. Only `@ziplm/hessian/node` (src/node.ts) may touch the file system.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every module specifier in a TypeScript source: static imports and re-exports (type-only included), `import 'x'`, `import('x')`. */
function specifiers(source: string): string[] {
  // Comments may quote import statements; strip them first (string contents here never hold `//` or `/*`
  // that matter: a false positive would only make this test stricter).
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found: string[] = [];
  for (const pattern of [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ]) {
    for (const match of code.matchAll(pattern)) found.push(match[1]!);
  }
  return found;
}

/** Walks the relative-import graph from `entry`; returns each reached file with its specifiers. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (graph.has(file)) continue;
    const specs = specifiers(readFileSync(file, 'utf8'));
    graph.set(file, specs);
    for (const spec of specs) {
      if (!spec.startsWith('.')) continue;
      // ESM sources import './x.js' for './x.ts'.
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      expect(existsSync(target), `${relative(root, file)} imports ${spec}, which does not resolve to a .ts file`).toBe(true);
      queue.push(target);
    }
  }
  return graph;
}

describe('browser entry (src/index.ts)', () => {
  it('reaches only relative imports: no node: modules, no other packages', () => {
    const graph = importGraph(join(root, 'src', 'index.ts'));
    // Sanity: the walker follows the graph (the sweep, the database, …) and does not reach the Node entry.
    const files = [...graph.keys()].map((f) => relative(root, f)).sort();
    for (const f of ['src/sweep.ts', 'src/prepare.ts', 'src/database.ts', 'src/hessian.ts', 'src/levels.ts']) expect(files).toContain(f);
    expect(files).not.toContain('src/node.ts');
    const external: string[] = [];
    for (const [file, specs] of graph)
      for (const spec of specs) if (!spec.startsWith('.')) external.push(`${relative(root, file)}: ${spec}`);
    expect(external).toEqual([]);
  });

  it('declares no runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependencies ?? {}).toEqual({});
    expect(pkg.optionalDependencies ?? {}).toEqual({});
  });

  it('catches what it is meant to catch (the walker on the Node entry)', () => {
    const graph = importGraph(join(root, 'src', 'node.ts'));
    const external = [...graph.values()].flat().filter((s) => !s.startsWith('.'));
    expect(external).toEqual(expect.arrayContaining(['node:fs/promises', 'node:path']));
    expect(
      specifiers(
        "import type { A } from 'pkg-a';\nexport * from \"pkg-b\";\nimport 'pkg-c';\nawait import('pkg-d');\n// import x from 'not-code';",
      ),
    ).toEqual(['pkg-a', 'pkg-b', 'pkg-c', 'pkg-d']);
  });
});
