// `@ziplm/latency/browser` must load in a browser: nothing in its import graph may import a `node:`
// module, a Node built-in by its bare name, onnxruntime-node (or @ziplm/onnx/runtime, which loads it)
// or TensorFlow.js. Walks the graph from the entry through relative imports and workspace packages
// (their `@ziplm/source` files); type-only imports and exports are skipped (they vanish when compiled).
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const PACKAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = join(PACKAGES, 'latency/src/browser/index.ts');
const FORBIDDEN_PACKAGES = ['onnxruntime-node', '@ziplm/onnx/runtime', '@tensorflow/tfjs-core', '@tensorflow/tfjs-node'];

/** The value imports of a module: static imports and re-exports that are not type-only, and dynamic `import()`s. */
function valueImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      specifiers.push(arg && ts.isStringLiteral(arg) ? arg.text : '<computed import()>');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

/** The source file of a workspace import (`@ziplm/core/schema` → packages/core/src/schema.ts), or undefined for a third-party package. */
function workspaceFile(specifier: string): string | undefined {
  const match = /^@ziplm\/([^/]+)(\/.+)?$/.exec(specifier);
  if (!match) return undefined;
  const dir = join(PACKAGES, match[1]!);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: Record<string, { '@ziplm/source'?: string }> };
  const target = pkg.exports[`.${match[2] ?? ''}`]?.['@ziplm/source'];
  if (!target) throw new Error(`${specifier} has no @ziplm/source export`);
  return join(dir, target);
}

/** Every module reachable from `entry` and the offending imports found, as `importer: specifier`. */
function walk(entry: string): { modules: string[]; offenders: string[] } {
  const seen = new Set<string>();
  const offenders: string[] = [];
  const builtins = new Set(builtinModules);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of valueImports(file)) {
      const where = `${relative(PACKAGES, file)}: ${specifier}`;
      if (specifier.startsWith('node:') || builtins.has(specifier.split('/')[0]!) || specifier === '<computed import()>')
        offenders.push(where);
      else if (FORBIDDEN_PACKAGES.some((p) => specifier === p || specifier.startsWith(`${p}/`))) offenders.push(where);
      else if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else {
        const next = workspaceFile(specifier);
        if (next) queue.push(next);
      }
    }
  }
  return { modules: [...seen].map((f) => relative(PACKAGES, f)).sort(), offenders };
}

describe('@ziplm/latency/browser', () => {
  it('imports no node: module, Node built-in, onnxruntime-node or TensorFlow.js anywhere in its import graph', () => {
    const { modules, offenders } = walk(ENTRY);
    expect(offenders).toEqual([]);
    // The walk did reach the measuring code and the packages it builds on.
    expect(modules).toContain('latency/src/measure/measure-plan.ts');
    // …and the verification shared with Node's verifySpeedups.
    expect(modules).toContain('latency/src/measure/paired-speedup.ts');
    expect(modules).toContain('latency/src/browser/verify.ts');
    expect(modules).toContain('onnx/src/graph.ts');
    // @ziplm/models (tokenizers, file readers, tfjs) stays out of the page's bundle entirely.
    expect(modules.filter((m) => m.startsWith('models/'))).toEqual([]);
  });

  it('the walk catches what it must catch', () => {
    // The Node measuring entry loads onnxruntime-node and node:os (fingerprint), node:v8 (collections), node:fs.
    const { offenders } = walk(join(PACKAGES, 'latency/src/measure/index.ts'));
    expect(offenders.some((o) => o.includes('node:'))).toBe(true);
    expect(offenders.some((o) => o.includes('@ziplm/onnx/runtime'))).toBe(true);
  });

  it('is in the package exports map', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGES, 'latency/package.json'), 'utf8')) as {
      exports: Record<string, Record<string, string>>;
    };
    expect(pkg.exports['./browser']).toEqual({
      '@ziplm/source': './src/browser/index.ts',
      types: './dist/browser/index.d.ts',
      default: './dist/browser/index.js',
    });
  });
});
