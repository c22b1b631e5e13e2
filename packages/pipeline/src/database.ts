// The level database of a model: for every prunable module, the weights of its output projection
// at every level of the grid and their errors (method doc §4), built by @ziplm/hessian from the
// calibration Hessians and stored in the run directory (resumable, one file per module).

import {
  attentionLevels,
  conv1dToLinear,
  ffnLevels,
  type HessianStatistics,
  type LayerErrors,
  type LayerJob,
  type MatMulEngine,
} from '@ziplm/hessian';
import { openLevelDatabase } from '@ziplm/hessian/node';
import { bertLayerNames, gpt2LayerNames, headDim, type Checkpoint } from '@ziplm/models';
import { moduleKey, prunableModules, type ModuleKind } from './calibrate.js';

export type LevelDatabase = Awaited<ReturnType<typeof openLevelDatabase>>;

/** How the levels of a module are produced. */
export type SweepMethod = 'obs' | 'magnitude';

/** The output projection of a module as the solver sees it: rows × cols, columns = the pruned inputs. */
export function outputProjection(checkpoint: Checkpoint, layer: number, module: ModuleKind): { weight: Float32Array; rows: number; cols: number; bias: Float32Array; name: string } {
  const { config, weights } = checkpoint;
  const d = config.hiddenSize;
  const cols = module === 'attention' ? config.layerHeads[layer]! * headDim(config) : config.layerIntermediate[layer]!;
  if (config.modelType === 'bert') {
    const n = bertLayerNames(layer);
    const name = module === 'attention' ? n.attnOut : n.ffnOut;
    // nn.Linear [out = d, in = cols]: already the solver's layout.
    return { weight: weights.get(`${name}.weight`)!.data, rows: d, cols, bias: weights.get(`${name}.bias`)!.data, name };
  }
  const n = gpt2LayerNames(layer);
  const name = module === 'attention' ? n.attnOut : n.ffnOut;
  // Conv1D [in = cols, out = d]: transpose.
  return { weight: Float32Array.from(conv1dToLinear(weights.get(`${name}.weight`)!.data, cols, d)), rows: d, cols, bias: weights.get(`${name}.bias`)!.data, name };
}

/** The kept counts a module offers: the paper's grid (method doc §4) at or below its current size. */
export function moduleLevels(checkpoint: Checkpoint, module: ModuleKind, current: number): number[] {
  const { config } = checkpoint;
  const grid = module === 'attention' ? attentionLevels(config.numHeads) : ffnLevels(config.intermediateSize);
  const levels = grid.filter((k) => k <= current);
  if (!levels.includes(current)) levels.unshift(current);
  return levels;
}

export interface BuildDatabaseOptions {
  engine?: MatMulEngine;
  method?: SweepMethod;
  /** Identifies what the database was built from (model, calibration); a mismatch stops a resume. */
  fingerprint: string;
  onModule?: (event: { layer: number; module: ModuleKind; status: 'built' | 'skipped'; seconds: number; done: number; total: number }) => void;
}

/**
 * Builds (or resumes) the level database of `checkpoint` in `dir`. `hessians` may omit modules
 * whose file is already complete (they are skipped without loading).
 */
export async function buildLevelDatabase(
  dir: string,
  checkpoint: Checkpoint,
  hessians: ReadonlyMap<string, HessianStatistics>,
  options: BuildDatabaseOptions,
): Promise<LevelDatabase> {
  const db = await openLevelDatabase(dir);
  const modules = prunableModules(checkpoint);
  const hd = headDim(checkpoint.config);
  const method = options.method ?? 'obs';
  const jobs: LayerJob[] = modules.map((m) => ({
    layer: m.layer,
    module: m.module,
    groupSize: m.module === 'attention' ? hd : 1,
    levels: moduleLevels(checkpoint, m.module, m.size),
    fingerprint: `${options.fingerprint}:${method}`,
    ...(method === 'magnitude' ? { method } : {}),
    async load() {
      const stats = hessians.get(moduleKey(m.layer, m.module));
      if (!stats) throw new Error(`internal: no calibration statistics for layer ${m.layer} ${m.module}`);
      const p = outputProjection(checkpoint, m.layer, m.module);
      return { weight: p.weight, rows: p.rows, cols: p.cols, hessian: stats.hessian, mean: stats.mean, bias: p.bias };
    },
  }));
  let done = 0;
  await db.build(jobs, {
    engine: options.engine,
    onModule: (e) => options.onModule?.({ ...e, done: ++done, total: jobs.length }),
  });
  return db;
}

/** The modules whose database file is missing (so calibration can skip the rest on resume). */
export async function missingModules(dir: string, checkpoint: Checkpoint): Promise<Set<string>> {
  const db = await openLevelDatabase(dir);
  const missing = new Set<string>();
  for (const m of prunableModules(checkpoint)) if (!(await db.has(m.layer, m.module))) missing.add(moduleKey(m.layer, m.module));
  return missing;
}

/** The search's input, from the database. */
export async function layerErrors(db: LevelDatabase): Promise<LayerErrors[]> {
  return db.toLayerErrors();
}
