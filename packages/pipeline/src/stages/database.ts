// The level database of a model: for every prunable module, the weights of its output projection at
// every level of the grid and their errors (docs site guide: apps/docs/guide/structured-obs.md, "The
// level grid and the level database"), built by @ziplm/hessian from the calibration Hessians and
// stored in the run directory (resumable, one file per module, each with a sha256 checked when it is
// reused: @ziplm/hessian/node's `checksums` option).

import { loadOrt } from '@ziplm/onnx/runtime';
import {
  attentionLevels,
  ffnLevels,
  type HessianStatistics,
  type LayerErrors,
  type LayerJob,
  type LevelDatabase,
  type MatMulEngine,
  type SweepMethod,
} from '@ziplm/hessian';
import { openLevelDatabase } from '@ziplm/hessian/node';
import {
  headsPerGroup,
  outputProjection,
  prunableModules,
  structureWidth,
  unitsPerStructure,
  type Checkpoint,
  type ModelConfig,
  type ModuleKind,
} from '@ziplm/models';
import type { RunContext } from '../context.js';
import { collectHessians, moduleKey } from './calibrate.js';

/**
 * The kept counts a module offers: the paper's grid at or below its current size (and its current size).
 * Counts are heads or neurons; for LLaMA attention the grid steps by whole key/value groups.
 */
export function moduleLevels(checkpoint: Checkpoint, module: ModuleKind, current: number): number[] {
  const { config } = checkpoint;
  const grid = module === 'attention' ? attentionLevels(config.numHeads, headsPerGroup(config)) : ffnLevels(config.intermediateSize);
  const levels = grid.filter((k) => k <= current);
  if (!levels.includes(current)) levels.unshift(current);
  return levels;
}

export interface BuildDatabaseOptions {
  engine?: MatMulEngine;
  method?: SweepMethod;
  /** Identifies what the database was built from (model, calibration); a mismatch stops a resume. */
  fingerprint: string;
  onModule?: (event: {
    layer: number;
    module: ModuleKind;
    status: 'built' | 'skipped';
    seconds: number;
    done: number;
    total: number;
  }) => void;
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
  const db = openLevelDatabase(dir, { checksums: true });
  const modules = prunableModules(checkpoint.config);
  const method = options.method ?? 'obs';
  const jobs: LayerJob[] = modules.map((m) => ({
    layer: m.layer,
    module: m.module,
    groupSize: structureWidth(checkpoint.config, m.module),
    // The solver counts structures: for LLaMA attention a structure is a key/value group of heads.
    levels: moduleLevels(checkpoint, m.module, m.size).map((kept) => kept / unitsPerStructure(checkpoint.config, m.module)),
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

/** The modules whose database file is missing (so calibration can skip the rest on resume), as {@link moduleKey}s. */
export async function missingModules(dir: string, checkpoint: Checkpoint): Promise<Set<string>> {
  const db = openLevelDatabase(dir, { checksums: true });
  const missing = new Set<string>();
  for (const m of prunableModules(checkpoint.config)) if (!(await db.has(m.layer, m.module))) missing.add(moduleKey(m.layer, m.module));
  return missing;
}

/**
 * The search's input, from the database of a model with config `config`: the errors per level, with the
 * solver's structure counts turned back into heads (LLaMA attention: groups × heads per group), the unit of
 * the latency table and of `layerHeads`.
 */
export async function layerErrors(db: LevelDatabase, config: ModelConfig): Promise<LayerErrors[]> {
  return (await db.toLayerErrors()).map((e) => {
    const units = unitsPerStructure(config, e.module);
    return units === 1 ? e : { ...e, levels: e.levels.map((level) => ({ ...level, kept: level.kept * units })) };
  });
}

/**
 * Builds (or resumes) the level database of `model` in `dir` for a run: calibrates only the modules
 * whose file is missing (the calibration sequences run through `model` itself), then sweeps them.
 */
export async function ensureDatabase(
  ctx: RunContext,
  model: Checkpoint,
  dir: string,
  method: SweepMethod,
  fingerprint: string,
): Promise<LevelDatabase> {
  const missing = await missingModules(dir, model);
  let hessians: Map<string, HessianStatistics> = new Map();
  if (missing.size > 0) {
    ctx.emit({
      kind: 'stage',
      stage: 'calibrate',
      message: `calibrating ${missing.size} modules on ${ctx.task.calibration.length} sequences (${ctx.task.name})`,
    });
    hessians = await collectHessians(model, ctx.task.calibration, ctx.tokenizer.padId, await loadOrt(), {
      engine: ctx.engine,
      only: missing,
      onProgress: (done, total) => ctx.emit({ kind: 'progress', stage: 'calibrate', done, total }),
    });
  }
  ctx.emit({
    kind: 'stage',
    stage: 'database',
    message: `${method === 'obs' ? 'structured OBS' : 'magnitude'} level database (${missing.size} modules to build)`,
  });
  return buildLevelDatabase(dir, model, hessians, {
    engine: ctx.engine,
    method,
    fingerprint,
    onModule: (e) => ctx.emit({ kind: 'progress', stage: 'database', done: e.done, total: e.total }),
  });
}
