// Imports a ziplm run directory into the docs site's Results section:
//
//   pnpm --filter @ziplm/docs results:import <runDir> <name> --command "<the command that made the run>"
//
// copies report.md and the SVG plots into apps/docs/results/<name>/ (the report's images are relative
// to it), results.json and latency-table.json into apps/docs/public/results/<name>/ (served as they
// are, for download), writes run.json there (the command, the run's identity and package versions
// from manifest.json), and writes the run's page, results/<name>/index.md, which shows the command
// and includes the report verbatim. It then rewrites the list of runs in the results overview
// (results/index.md, between the `runs:start` / `runs:end` markers) from every imported run, and the
// sidebar lists the runs by itself, so importing a run needs no other edit. Re-importing the same
// name replaces it.

import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkRunResults, type RunResults } from '@ziplm/pipeline';
import { DOCS_ROOT } from './gen.ts';

/** What run.json holds: where an imported run came from. */
export interface ImportedRun {
  readonly name: string;
  /** The command that produced the run directory, as given to the import. */
  readonly command: string;
  readonly importedAt: string;
  /** manifest.json of the run: when it was created and last updated. */
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly identity?: unknown;
  readonly versions?: Record<string, string>;
  readonly tableSha256?: string;
}

export class ImportError extends Error {
  override name = 'ImportError';
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Copies a run directory's report into results/<name>/ and writes its page. Returns the page path. */
export async function importRun(
  runDir: string,
  name: string,
  command: string,
  options: { docsRoot?: string; now?: Date } = {},
): Promise<string> {
  if (!NAME.test(name)) throw new ImportError(`run name "${name}" must be lower-case letters, digits and dashes (it becomes a URL)`);
  if (!command.trim()) throw new ImportError('--command is required: the results page shows the command that produced the run');
  const resultsFile = join(runDir, 'results.json');
  const reportFile = join(runDir, 'report.md');
  for (const f of [resultsFile, reportFile])
    if (!existsSync(f)) throw new ImportError(`${f}: missing (is ${runDir} a finished ziplm run directory?)`);
  let results: RunResults;
  try {
    results = JSON.parse(await readFile(resultsFile, 'utf8')) as RunResults;
    checkRunResults(results);
  } catch (error) {
    throw new ImportError(`${resultsFile}: not a valid run result (${(error as Error).message})`);
  }
  const manifestFile = join(runDir, 'manifest.json');
  const manifest = existsSync(manifestFile)
    ? (JSON.parse(await readFile(manifestFile, 'utf8')) as {
        createdAt?: string;
        updatedAt?: string;
        identity?: unknown;
        versions?: Record<string, string>;
        tableSha256?: string;
      })
    : {};

  const docsRoot = options.docsRoot ?? DOCS_ROOT;
  const outDir = join(docsRoot, 'results', name);
  const filesDir = join(docsRoot, 'public', 'results', name);
  for (const dir of [outDir, filesDir]) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
  }
  const svgs = (await readdir(runDir)).filter((f) => f.endsWith('.svg')).sort();
  for (const f of ['report.md', ...svgs]) await copyFile(join(runDir, f), join(outDir, f));
  const hasTable = existsSync(join(runDir, 'latency-table.json'));
  for (const f of ['results.json', ...(hasTable ? ['latency-table.json'] : [])]) await copyFile(join(runDir, f), join(filesDir, f));
  const run: ImportedRun = {
    name,
    command: command.trim(),
    importedAt: (options.now ?? new Date()).toISOString(),
    ...(manifest.createdAt ? { createdAt: manifest.createdAt } : {}),
    ...(manifest.updatedAt ? { updatedAt: manifest.updatedAt } : {}),
    ...(manifest.identity ? { identity: manifest.identity } : {}),
    ...(manifest.versions ? { versions: manifest.versions } : {}),
    ...(manifest.tableSha256 ? { tableSha256: manifest.tableSha256 } : {}),
  };
  await writeFile(join(filesDir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  const page = join(outDir, 'index.md');
  await writeFile(page, runPage(run, results, hasTable, await readFile(reportFile, 'utf8')));
  await updateResultsIndex(docsRoot);
  return page;
}

const RUNS_START = '<!-- runs:start (written by scripts/import-results.ts) -->';
const RUNS_END = '<!-- runs:end -->';

/** The imported runs, by name, with their provenance and results. */
export async function importedRuns(docsRoot: string = DOCS_ROOT): Promise<Array<{ run: ImportedRun; results: RunResults }>> {
  const dir = join(docsRoot, 'results');
  const names = existsSync(dir)
    ? (await readdir(dir, { withFileTypes: true }))
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort()
    : [];
  const out: Array<{ run: ImportedRun; results: RunResults }> = [];
  for (const name of names) {
    const files = join(docsRoot, 'public', 'results', name);
    const run = JSON.parse(await readFile(join(files, 'run.json'), 'utf8')) as ImportedRun;
    const results = JSON.parse(await readFile(join(files, 'results.json'), 'utf8')) as RunResults;
    out.push({ run, results });
  }
  return out;
}

/** The runs table of the results overview. */
export function runsTable(runs: ReadonlyArray<{ run: ImportedRun; results: RunResults }>): string {
  if (runs.length === 0) return 'No run has been imported yet.';
  const lines = ['| run | mode | task | model | environment | targets | methods |', '|---|---|---|---|---|---|---|'];
  for (const { run, results } of runs) {
    const m = results.model;
    const targets = [...new Set(results.members.map((x) => x.target))]
      .sort((a, b) => a - b)
      .map((t) => `${t}×`)
      .join(', ');
    const methods = [...new Set(results.members.map((x) => (x.variant ? `${x.method} (${x.variant})` : x.method)))].join(', ');
    lines.push(
      `| [${run.name}](/results/${run.name}/) | ${results.mode} | ${results.task} | ${m.modelType.toUpperCase()} ${m.numLayers}×${m.hiddenSize} | ${results.environment} | ${targets} | ${methods} |`,
    );
  }
  return lines.join('\n');
}

/** Replaces the text between the markers of results/index.md with the current runs table. */
export async function updateResultsIndex(docsRoot: string = DOCS_ROOT): Promise<void> {
  const file = join(docsRoot, 'results', 'index.md');
  if (!existsSync(file)) return;
  const text = await readFile(file, 'utf8');
  const start = text.indexOf(RUNS_START);
  const end = text.indexOf(RUNS_END);
  if (start < 0 || end < start) throw new ImportError(`${file}: the markers "${RUNS_START}" and "${RUNS_END}" are missing`);
  const table = runsTable(await importedRuns(docsRoot));
  await writeFile(file, `${text.slice(0, start + RUNS_START.length)}\n\n${table}\n\n${text.slice(end)}`);
}

/** The runs table that results/index.md holds now (for the drift test). */
export async function indexedRunsTable(docsRoot: string = DOCS_ROOT): Promise<string> {
  const text = await readFile(join(docsRoot, 'results', 'index.md'), 'utf8');
  return text.slice(text.indexOf(RUNS_START) + RUNS_START.length, text.indexOf(RUNS_END)).trim();
}

/**
 * The page of one imported run: provenance, then the report itself, included verbatim except for
 * its title line (the page has its own title, and a page should have one h1).
 */
export function runPage(run: ImportedRun, results: RunResults, hasTable: boolean, report: string): string {
  const versions = run.versions
    ? Object.entries(run.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : 'not recorded';
  const title = /^# (.+)\n/.exec(report);
  const lines = [
    '---',
    `title: ${JSON.stringify(`Results: ${run.name}`)}`,
    '---',
    '',
    `<!-- Written by apps/docs/scripts/import-results.ts. Re-import the run to change it. -->`,
    '',
    `# Run: ${run.name}`,
    '',
    'This run directory was produced by:',
    '',
    '```sh',
    run.command,
    '```',
    '',
    `- **mode:** ${results.mode}; **task:** ${results.task}; **members:** ${results.members.length}`,
    `- **model:** ${results.model.modelType.toUpperCase()}, ${results.model.numLayers} layers, hidden ${results.model.hiddenSize}, ${results.model.numHeads} heads, FFN ${results.model.intermediateSize}`,
    `- **environment:** ${results.environment}`,
    `- **run created:** ${run.createdAt ?? 'not recorded'}; **imported:** ${run.importedAt}`,
    `- **versions:** ${versions}`,
    `- **files:** [results.json](/results/${run.name}/results.json)${hasTable ? `, [latency-table.json](/results/${run.name}/latency-table.json) (the table the search used)` : ''}, [run.json](/results/${run.name}/run.json) (this provenance)`,
    '',
    'Timings depend on the machine and on what else ran on it: see [Reading a run report](/guide/reports).',
    '',
    '---',
    '',
    ...(title
      ? [`The run's report (\`report.md\`), *${title[1]}*:`, '', '<!--@include: ./report.md{2,}-->']
      : ["The run's report (`report.md`):", '', '<!--@include: ./report.md-->']),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const commandAt = args.indexOf('--command');
  const command = commandAt >= 0 ? args.splice(commandAt, 2)[1] : undefined;
  const [runDir, name] = args;
  if (!runDir || !name || command === undefined) {
    console.error('usage: pnpm --filter @ziplm/docs results:import <runDir> <name> --command "<command that produced the run>"');
    process.exit(2);
  }
  try {
    // pnpm --filter runs scripts in apps/docs; INIT_CWD is where the user typed the command.
    const page = await importRun(resolve(process.env.INIT_CWD ?? process.cwd(), runDir), name, command);
    console.log(`imported ${runDir} as ${page}`);
  } catch (error) {
    if (error instanceof ImportError) {
      console.error(`results:import: ${error.message}`);
      process.exit(3);
    }
    throw error;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
