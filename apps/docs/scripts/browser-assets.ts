// Generates what the site's browser pages load, before `vitepress build` / `vitepress dev` (the `build` and
// `dev` scripts of package.json run it). Everything it writes is gitignored (apps/docs/.gitignore):
//
//   public/ort/               onnxruntime-web's wasm loaders and binaries, copied from node_modules, so the
//                             site serves them itself (no CDN; the docs check blocks requests outside the site)
//   public/demo/sst2-bert/    the demo page's models (demo.md): the dense built-in SST-2 model and members
//                             pruned from it by `ziplm prune`, as ONNX, the vocabulary as a JSON array, and
//                             manifest.json (targets, speedups measured in Node, sizes, SHA-256)
//   .cache/browser-demo/      the prune run, keyed by its command and the teacher's files: a rebuild reuses
//                             it (delete the folder to prune again)
//   public/levels/<model>/    the "Measure this device" page's latency plans (measure.md,
//                             browser/measure-plans.ts): the level graphs and manifest.json of
//                             `ziplm latency --export-levels` for sst2-bert and tiny-bert, re-exported only
//                             when their key in .cache/browser-levels/ changes (delete it to force)
//
// The members are real ziplm members: a one-shot run (latency table measured here in onnxruntime-node,
// structured OBS, DP + SPDY search, export, re-timing) with small settings so that a docs build stays
// around half a minute longer on 2 cores. The page says so.
//
// Usage: pnpm exec tsx --conditions=@ziplm/source scripts/browser-assets.ts   (from apps/docs)

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EXIT, main as ziplm } from '@ziplm/cli';
import { parseLatencyTable } from '@ziplm/latency';
import { BUILTIN_MODELS, type BuiltinModelName, builtinModelDir } from '@ziplm/models';
import { loadTokenizer, WordPieceTokenizer } from '@ziplm/models/tokenizers';
import { ORT_VERSION } from '@ziplm/onnx/runtime';
import { checkRunResults, type RunResults } from '@ziplm/pipeline';
import { ORT_WEB_FILES, onnxruntimeWebDir } from './ort-web-files.ts';
import {
  DEMO_MANIFEST_FORMAT,
  type DemoAsset,
  type DemoManifest,
  type DemoModel,
  type DemoTokenizerOptions,
  parseDemoManifest,
} from '../browser/demo-manifest.ts';
import { MEASURE_PLANS, type MeasurePlan } from '../browser/measure-plans.ts';

const DOCS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = resolve(DOCS_ROOT, '../..');

/** The built-in model the demo prunes: @ziplm/teachers' SST-2 BERT (the CLI's default model). */
export const DEMO_MODEL = 'sst2-bert';
export const TEACHER_DIR = join(REPO_ROOT, 'packages/teachers/teachers', DEMO_MODEL);

/**
 * The prune run behind the demo. Small settings keep the docs build quick: 512 calibration sequences
 * (the paper uses 2048) and 4 SPDY steps (default 10); everything else is ziplm's default, scored on the
 * model's own dataset (SST-2 dev when $ZIPLM_DATA_DIR has it, else the built-in samples).
 */
export const DEMO_PRUNE_ARGS = ['--targets', '2,4', '--calibration-samples', '512', '--spdy-steps', '4'] as const;

/** onnxruntime-web's folder, checked to be ORT_VERSION: the demo's test compares the page's labels with onnxruntime-node's. */
function checkedOnnxruntimeWebDir(): string {
  const { dir, version } = onnxruntimeWebDir();
  if (version !== ORT_VERSION) throw new Error(`onnxruntime-web ${version} in ${dir}: the site needs ${ORT_VERSION} (ORT_VERSION)`);
  return dir;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Copies `from` to `to` unless `to` already has the same size and SHA-256. */
function copyIfChanged(from: string, to: string): void {
  if (existsSync(to) && statSync(to).size === statSync(from).size && sha256(readFileSync(to)) === sha256(readFileSync(from))) return;
  copyFileSync(from, to);
}

/** public/ort/: the onnxruntime-web files, copied from node_modules. Returns their total size in bytes. */
export function copyOrtWeb(publicDir: string): number {
  const source = join(checkedOnnxruntimeWebDir(), 'dist');
  const target = join(publicDir, 'ort');
  mkdirSync(target, { recursive: true });
  let bytes = 0;
  for (const file of ORT_WEB_FILES) {
    copyIfChanged(join(source, file), join(target, file));
    bytes += statSync(join(target, file)).size;
  }
  return bytes;
}

/** Runs `ziplm argv…` in-process; exit codes other than `allowed` are errors with the CLI's output. */
async function runZiplm(argv: readonly string[], allowed: readonly number[], log: (line: string) => void): Promise<void> {
  let stderr = '';
  const code = await ziplm([...argv], {
    stdout: () => {},
    stderr: (t) => {
      stderr += t;
    },
    interactive: false,
    env: process.env,
    cwd: process.cwd(),
  });
  if (!allowed.includes(code)) throw new Error(`ziplm ${argv.join(' ')} exited with ${code}:\n${stderr}`);
  log(`  ziplm ${argv[0]}: exit ${code}`);
}

/** A key for the prune run: its command and the bytes of the teacher it prunes. */
function runKey(): string {
  const hash = createHash('sha256').update(JSON.stringify(DEMO_PRUNE_ARGS));
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json'])
    hash.update(readFileSync(join(TEACHER_DIR, f)));
  return hash.digest('hex').slice(0, 16);
}

function asset(dir: string, file: string, bytes: Uint8Array): DemoAsset {
  writeFileSync(join(dir, file), bytes);
  return { file, bytes: bytes.byteLength, sha256: sha256(bytes) };
}

/** The settings the page rebuilds `tokenizer` with (from its vocabulary, in browser/classify.ts). */
export function demoTokenizerOptions(tokenizer: WordPieceTokenizer, source: string): DemoTokenizerOptions {
  const special = (id: number | undefined, what: string): string => {
    const token = id === undefined ? undefined : tokenizer.idToToken(id);
    if (token === undefined) throw new Error(`${source}: the vocabulary has no ${what} token`);
    return token;
  };
  return {
    ...tokenizer.normalizer,
    unkToken: tokenizer.unkToken,
    clsToken: special(tokenizer.clsId, '[CLS]'),
    sepToken: special(tokenizer.sepId, '[SEP]'),
    padToken: special(tokenizer.padId, '[PAD]'),
    maskToken: special(tokenizer.maskId, '[MASK]'),
    continuingSubwordPrefix: tokenizer.continuingSubwordPrefix,
    maxInputCharsPerWord: tokenizer.maxInputCharsPerWord,
  };
}

/**
 * public/demo/sst2-bert/: prunes the teacher (or reuses the cached run) and writes the dense and member
 * graphs, the vocabulary and the manifest. Returns the manifest.
 */
export async function buildDemoAssets(
  publicDir: string,
  cacheDir: string,
  log: (line: string) => void = console.log,
): Promise<DemoManifest> {
  const work = join(cacheDir, runKey());
  const runDir = join(work, 'run');
  const denseOnnx = join(work, 'dense.onnx');
  const pruneArgv = ['prune', '--model', TEACHER_DIR, ...DEMO_PRUNE_ARGS, '--run', runDir];
  if (!existsSync(join(runDir, 'results.json')) || !existsSync(denseOnnx)) {
    log(`  pruning ${DEMO_MODEL} for the demo (cached in ${work})`);
    mkdirSync(work, { recursive: true });
    // Exit code 5: a member's re-timed speedup missed its target on this (busy) machine; the member is
    // still a correct pruned model, and the manifest shows its measured speedup.
    await runZiplm(pruneArgv, [EXIT.ok, EXIT.checkFailed], log);
    await runZiplm(['export', '--model', TEACHER_DIR, '--out', denseOnnx], [EXIT.ok], log);
  } else {
    log(`  reusing the demo's prune run ${work}`);
  }

  const resultsJson: unknown = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  checkRunResults(resultsJson);
  const results = resultsJson as RunResults;
  const tablePath = join(runDir, 'latency-table.json');
  const table = parseLatencyTable(JSON.parse(readFileSync(tablePath, 'utf8')), tablePath);
  const tokenizer = await loadTokenizer(TEACHER_DIR, 'bert');
  if (!(tokenizer instanceof WordPieceTokenizer)) throw new Error(`${TEACHER_DIR}: expected a WordPiece tokenizer`);
  if (results.labels === undefined) throw new Error(`${runDir}/results.json: a classification run must name its labels`);

  const outDir = join(publicDir, 'demo', DEMO_MODEL);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const { model } = results;
  const models: DemoModel[] = [
    {
      name: 'dense',
      target: null,
      predictedSpeedup: null,
      measuredSpeedup: null,
      metric: results.dense.metric ?? null,
      layerHeads: Array.from({ length: model.numLayers }, () => model.numHeads),
      layerIntermediate: Array.from({ length: model.numLayers }, () => model.intermediateSize),
      onnx: asset(outDir, 'dense.onnx', readFileSync(denseOnnx)),
    },
  ];
  for (const m of results.members) {
    const name = basename(m.dir);
    models.push({
      name,
      target: m.target,
      predictedSpeedup: m.predictedSpeedup,
      measuredSpeedup: m.measuredSpeedup ?? null,
      metric: m.metric ?? null,
      layerHeads: [...m.layerHeads],
      layerIntermediate: [...m.layerIntermediate],
      onnx: asset(outDir, `${name}.onnx`, readFileSync(join(runDir, m.dir, 'model.onnx'))),
    });
  }
  const manifest: DemoManifest = {
    format: DEMO_MANIFEST_FORMAT,
    version: 1,
    model: DEMO_MODEL,
    task: results.task,
    labels: results.labels,
    sequenceLength: table.environment.sequenceLength,
    metricLabel: results.metric.label,
    metricItems: results.metric.items ?? null,
    pruneCommand: `ziplm prune --model ${DEMO_MODEL} ${DEMO_PRUNE_ARGS.join(' ')}`,
    nodeEnvironment: results.environment,
    vocabulary: asset(outDir, 'vocab.json', new TextEncoder().encode(JSON.stringify(tokenizer.vocabulary()))),
    tokenizer: demoTokenizerOptions(tokenizer, TEACHER_DIR),
    models,
  };
  parseDemoManifest(manifest); // what the page will check, checked here first
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function builtinModel(name: string): BuiltinModelName {
  const found = BUILTIN_MODELS.find((m) => m === name);
  if (found === undefined) throw new Error(`browser/measure-plans.ts names ${name}, which is not a built-in model of @ziplm/models`);
  return found;
}

/** A key for a plan export: the plan's definition, the model's config and the onnxruntime version. */
function planKey(plan: MeasurePlan, modelDir: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ plan, ORT_VERSION }))
    .update(readFileSync(join(modelDir, 'config.json')))
    .digest('hex')
    .slice(0, 16);
}

/**
 * public/levels/<model>/: each plan of browser/measure-plans.ts, written by `ziplm latency --export-levels`
 * unless the same export is already there. Returns the bytes of the graphs served.
 */
export async function buildLevelPlans(publicDir: string, cacheDir: string, log: (line: string) => void = console.log): Promise<number> {
  mkdirSync(cacheDir, { recursive: true });
  let bytes = 0;
  for (const plan of MEASURE_PLANS) {
    const modelDir = plan.model === DEMO_MODEL ? TEACHER_DIR : builtinModelDir(builtinModel(plan.model));
    const outDir = join(publicDir, 'levels', plan.model);
    const keyFile = join(cacheDir, `${plan.model}.key`);
    const key = planKey(plan, modelDir);
    const manifestFile = join(outDir, 'manifest.json');
    if (existsSync(manifestFile) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) {
      log(`  reusing public/levels/${plan.model}/ (key ${key})`);
    } else {
      await runZiplm(['latency', '--model', modelDir, ...plan.workloadArgs, '--export-levels', outDir], [EXIT.ok], log);
      writeFileSync(keyFile, key);
    }
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { graphs: Array<{ file?: { size: number } }> };
    bytes += manifest.graphs.reduce((sum, g) => sum + (g.file?.size ?? 0), 0);
  }
  return bytes;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const publicDir = join(DOCS_ROOT, 'public');
  console.log('browser assets:');
  const ortBytes = copyOrtWeb(publicDir);
  console.log(`  public/ort/: onnxruntime-web ${ORT_VERSION} wasm files, ${(ortBytes / 1e6).toFixed(1)} MB`);
  const manifest = await buildDemoAssets(publicDir, join(DOCS_ROOT, '.cache', 'browser-demo'));
  const demoBytes = manifest.models.reduce((sum, m) => sum + m.onnx.bytes, manifest.vocabulary.bytes);
  console.log(`  public/demo/${DEMO_MODEL}/: ${manifest.models.map((m) => m.name).join(', ')}, ${(demoBytes / 1e6).toFixed(1)} MB`);
  const levelBytes = await buildLevelPlans(publicDir, join(DOCS_ROOT, '.cache', 'browser-levels'));
  console.log(`  public/levels/: ${MEASURE_PLANS.map((p) => p.model).join(', ')} latency plans, ${(levelBytes / 1e6).toFixed(1)} MB`);
  console.log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
