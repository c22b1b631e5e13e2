// The workspace's structure, checked: explicit public APIs (no `export *` in an entry point), no name
// exported by two packages with different meanings, no import cycle, and the layering rules of
// CONTRIBUTING.md (the pipeline composes stages and knows no weight names; only the two run modes
// import run.ts; the CLI has no double casts).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = join(ROOT, 'packages');

interface Entry {
  readonly pkg: string;
  readonly specifier: string;
  readonly file: string;
}

interface PackageJson {
  name: string;
  private?: boolean;
  exports?: Record<string, string | Record<string, string>>;
}

function packageDirs(): string[] {
  return readdirSync(PACKAGES)
    .map((d) => join(PACKAGES, d))
    .filter((d) => statSync(d).isDirectory() && statSync(join(d, 'package.json'), { throwIfNoEntry: false }));
}

/** Every public entry point of every published package, from its `exports` map (`@ziplm/source` condition). */
function entryPoints(): Entry[] {
  const out: Entry[] = [];
  for (const dir of packageDirs()) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    if (pkg.private) continue;
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      if (typeof target !== 'object' || !target['@ziplm/source']) continue;
      out.push({
        pkg: pkg.name,
        specifier: subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`,
        file: join(dir, target['@ziplm/source']),
      });
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;

/** Relative imports of a source file, resolved to source paths (`./x.js` → `./x.ts`). Type-only imports count too. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
    out.push(target);
  }
  return out;
}

function findCycle(files: string[]): string[] | undefined {
  const graph = new Map(files.map((f) => [f, relativeImports(f).filter((t) => files.includes(t))]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | undefined => {
    if (state.get(f) === 'done') return undefined;
    if (state.get(f) === 'open') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'open');
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      const cycle = visit(t);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(f, 'done');
    return undefined;
  };
  for (const f of files) {
    const cycle = visit(f);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('workspace structure', () => {
  const entries = entryPoints();

  it('finds the entry points of every published package', () => {
    const packages = new Set(entries.map((e) => e.pkg));
    for (const name of [
      '@ziplm/core',
      '@ziplm/models',
      '@ziplm/onnx',
      '@ziplm/hessian',
      '@ziplm/latency',
      '@ziplm/distill',
      '@ziplm/pipeline',
      '@ziplm/cli',
    ]) {
      expect(packages.has(name), name).toBe(true);
    }
  });

  it('has no `export *` in any entry point: every public name is exported by name', () => {
    const offenders = entries
      .filter((e) => /^\s*export\s+\*\s+from/m.test(readFileSync(e.file, 'utf8')))
      .map((e) => relative(ROOT, e.file));
    expect(offenders).toEqual([]);
  });

  it('exports no name from two packages with different meanings', () => {
    const program = ts.createProgram(
      entries.map((e) => e.file),
      {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        customConditions: ['@ziplm/source'],
        allowImportingTsExtensions: true,
        noEmit: true,
        skipLibCheck: true,
        strict: true,
        target: ts.ScriptTarget.ES2022,
      },
    );
    const checker = program.getTypeChecker();
    // name → declaration key → packages exporting it
    const byName = new Map<string, Map<string, Set<string>>>();
    for (const entry of entries) {
      const source = program.getSourceFile(entry.file);
      const moduleSymbol = source && checker.getSymbolAtLocation(source);
      if (!moduleSymbol) throw new Error(`cannot read the exports of ${entry.file}`);
      for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
        const original = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        const decl = original.declarations?.[0];
        const key = decl ? `${relative(ROOT, decl.getSourceFile().fileName)}:${decl.pos}` : original.name;
        const keys = byName.get(symbol.name) ?? new Map<string, Set<string>>();
        byName.set(symbol.name, keys);
        const pkgs = keys.get(key) ?? new Set<string>();
        pkgs.add(entry.pkg);
        keys.set(key, pkgs);
      }
    }
    const clashes: string[] = [];
    for (const [name, keys] of byName) {
      const owners = [...keys.values()].map((p) => [...p].sort().join('+'));
      // A name may be re-exported by several entries of one package, or by another package as the same declaration.
      const packages = new Set([...keys.values()].flatMap((p) => [...p]));
      if (keys.size > 1 && packages.size > 1) clashes.push(`${name}: ${[...keys.keys()].join(' vs ')} (${owners.join(' / ')})`);
    }
    expect(clashes).toEqual([]);
  }, 120_000);

  it('has no import cycle inside any package', () => {
    const cycles: string[] = [];
    for (const dir of packageDirs()) {
      const src = join(dir, 'src');
      if (!statSync(src, { throwIfNoEntry: false })) continue;
      const cycle = findCycle(sourceFiles(src));
      if (cycle) cycles.push(cycle.map((f) => relative(ROOT, f)).join(' → '));
    }
    expect(cycles).toEqual([]);
  });

  it('keeps BERT/GPT2 weight names out of the pipeline (they belong to @ziplm/models)', () => {
    const literal =
      /['"`][^'"`]*(?:\.encoder\.layer\.|transformer\.h\.|attention\.output\.dense|\.c_proj|\.c_attn|\.c_fc|intermediate\.dense)[^'"`]*['"`]/;
    const offenders = sourceFiles(join(PACKAGES, 'pipeline', 'src'))
      .filter((f) => literal.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('lets only the two run modes import run.ts', () => {
    const src = join(PACKAGES, 'pipeline', 'src');
    const run = join(src, 'run.ts');
    const importers = sourceFiles(src)
      .filter((f) => relativeImports(f).includes(run))
      .map((f) => relative(src, f))
      .filter((f) => f !== 'index.ts')
      .sort();
    expect(importers).toEqual(['gradual.ts', 'oneshot.ts']);
  });

  it('has no double casts in the CLI', () => {
    const offenders = sourceFiles(join(PACKAGES, 'cli', 'src'))
      .filter((f) => readFileSync(f, 'utf8').includes('as unknown as'))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });
});
