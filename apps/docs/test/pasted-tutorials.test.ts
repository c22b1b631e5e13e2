// A reader copies the TypeScript a tutorial page shows, block after block, into one file and runs it.
// That file must be a program: it type-checks on its own (every name it uses is on the page) and it
// calls what it defines (a page whose code only defines functions runs and does nothing). The
// functions themselves run in the end-to-end tests (test/e2e/), on the built-in tiny models.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { DOCS_ROOT } from '../scripts/gen.ts';

/** The TypeScript a page shows, in page order: every `<<< @/tutorials/x.ts#region` include, concatenated. */
export function pastedSource(page: string): { file: string; source: string } | null {
  const text = readFileSync(join(DOCS_ROOT, page), 'utf8');
  const includes = [...text.matchAll(/^<<< @\/(tutorials\/[^\s#{[]+\.ts)(?:#([\w-]+))?/gm)].map((m) => ({ file: m[1]!, region: m[2] }));
  if (includes.length === 0) return null;
  const files = new Set(includes.map((i) => i.file));
  if (files.size !== 1) throw new Error(`${page}: shows code from several TypeScript files (${[...files].join(', ')})`);
  const blocks = includes.map(({ file, region }) => {
    const lines = readFileSync(join(DOCS_ROOT, file), 'utf8').split('\n');
    if (region === undefined) return lines.join('\n');
    const start = lines.findIndex((l) => l.trim() === `// #region ${region}`);
    const end = lines.findIndex((l, i) => i > start && l.trim() === `// #endregion ${region}`);
    if (start < 0 || end < 0) throw new Error(`${page}: region "${region}" not found in ${file}`);
    return lines.slice(start + 1, end).join('\n');
  });
  return { file: [...files][0]!, source: `${blocks.join('\n\n')}\n` };
}

/**
 * The functions a source declares at its top level (function declarations, and consts initialised
 * with a function) that no top-level statement reaches, directly or through other functions: code
 * the file only defines. Also says whether any top-level statement calls a function at all.
 */
export function unreachedFunctions(source: string): { callsAtTopLevel: boolean; unreached: string[] } {
  const sf = ts.createSourceFile('pasted.ts', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const bodies = new Map<string, ts.Node>();
  const entryPoints: ts.Node[] = [];
  for (const statement of sf.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name) bodies.set(statement.name.text, statement);
    else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        const init = d.initializer;
        if (ts.isIdentifier(d.name) && init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) bodies.set(d.name.text, init);
        else if (init) entryPoints.push(init);
      }
    } else if (!ts.isImportDeclaration(statement) && !ts.isInterfaceDeclaration(statement) && !ts.isTypeAliasDeclaration(statement))
      entryPoints.push(statement);
  }
  /** Names of declared functions referenced anywhere inside `node`. */
  const referenced = (node: ts.Node): string[] => {
    const out: string[] = [];
    const visit = (n: ts.Node) => {
      if (ts.isIdentifier(n) && bodies.has(n.text)) out.push(n.text);
      ts.forEachChild(n, visit);
    };
    visit(node);
    return out;
  };
  let callsAtTopLevel = false;
  const findCall = (n: ts.Node): void => {
    // A call outside any function body runs when the file runs.
    if (ts.isFunctionLike(n)) return;
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && bodies.has(n.expression.text)) callsAtTopLevel = true;
    ts.forEachChild(n, findCall);
  };
  for (const entry of entryPoints) findCall(entry);
  const reached = new Set<string>();
  const queue = entryPoints.flatMap(referenced);
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    queue.push(...referenced(bodies.get(name)!));
  }
  return { callsAtTopLevel, unreached: [...bodies.keys()].filter((name) => !reached.has(name)) };
}

/** Type errors of each pasted source, checked as a file beside the tutorials with the site's compiler options. */
function typeErrors(pasted: ReadonlyMap<string, string>): Map<string, string[]> {
  const configFile = join(DOCS_ROOT, 'tsconfig.json');
  const config = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error(`${configFile}: cannot be read`);
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => pasted.get(name) ?? readFile(name);
  host.fileExists = (name) => pasted.has(name) || ts.sys.fileExists(name);
  host.getSourceFile = (name, language, onError, create) => {
    const text = pasted.get(name);
    return text === undefined ? getSourceFile(name, language, onError, create) : ts.createSourceFile(name, text, language, true);
  };
  const program = ts.createProgram([...pasted.keys()], config.options, host);
  const out = new Map<string, string[]>();
  for (const name of pasted.keys()) {
    const sf = program.getSourceFile(name)!;
    const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    out.set(
      name,
      diagnostics.map((d) => {
        const line = d.start === undefined ? '?' : sf.getLineAndCharacterOfPosition(d.start).line + 1;
        return `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      }),
    );
  }
  return out;
}

const pages = readdirSync(join(DOCS_ROOT, 'tutorials'))
  .filter((f) => f.endsWith('.md') && f !== 'index.md')
  .map((f) => `tutorials/${f}`)
  .sort();
const pastedPages = pages.flatMap((page) => {
  const pasted = pastedSource(page);
  return pasted ? [{ page, ...pasted }] : [];
});

describe('tutorial code pasted into a file', () => {
  it('exists for every library tutorial', () => {
    expect(pastedPages.map((p) => p.page)).toEqual([
      'tutorials/gpt2.md',
      'tutorials/gradual.md',
      'tutorials/latency-table.md',
      'tutorials/obs-solver.md',
      'tutorials/prune-your-bert.md',
    ]);
  });

  it.each(pastedPages)('$page calls every function it defines', ({ page, source }) => {
    const { callsAtTopLevel, unreached } = unreachedFunctions(source);
    expect(callsAtTopLevel, `${page}: no top-level statement calls a function the page defines`).toBe(true);
    expect(unreached, `${page}: defined but never called`).toEqual([]);
  });

  it('type-checks on its own, page by page', () => {
    // Beside the tutorials, so `@ziplm/*` resolves as it does for them; the files exist only in memory.
    const pasted = new Map(pastedPages.map((p) => [join(DOCS_ROOT, p.file.replace(/\.ts$/, '.pasted.ts')), p.source]));
    for (const [name, errors] of typeErrors(pasted)) expect(errors, name).toEqual([]);
  }, 120_000);

  it('finds code that only defines, and code reached only through other functions', () => {
    expect(unreachedFunctions('export async function example() {}\n')).toEqual({ callsAtTopLevel: false, unreached: ['example'] });
    const called = 'function helper() {}\nfunction example() { helper(); }\nif (Math.random() > 2) example();\n';
    expect(unreachedFunctions(called)).toEqual({ callsAtTopLevel: true, unreached: [] });
    const orphan = 'function orphan() {}\nconst run = () => 1;\nrun();\n';
    expect(unreachedFunctions(orphan)).toEqual({ callsAtTopLevel: true, unreached: ['orphan'] });
  });
});
