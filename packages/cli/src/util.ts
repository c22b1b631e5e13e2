// Small helpers shared by the commands.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUILTIN_MODELS, builtinModelDir, detectModelLayout } from '@ziplm/models/io';
import { TEACHERS, teacherDir, type TeacherName } from '@ziplm/teachers';
import { UsageError } from './command.js';

/**
 * The model `ziplm` uses when none is given: the SST-2 BERT teacher trained by @ziplm/distill's
 * recipe and committed with it (80.5% SST-2 dev accuracy), so no download is ever needed.
 */
export const DEFAULT_MODEL: TeacherName = 'sst2-bert';

/** Names accepted by --model besides paths: the trained teachers and the random tiny test models. */
export const BUILTIN_NAMES: readonly string[] = [...TEACHERS, ...BUILTIN_MODELS];

/** A model directory given as a path, or the name of a built-in model. */
export function resolveModelDir(model: string, cwd: string): string {
  const teacher = TEACHERS.find((name) => name === model);
  if (teacher) return teacherDir(teacher);
  const builtin = BUILTIN_MODELS.find((name) => name === model);
  if (builtin) return builtinModelDir(builtin);
  const dir = resolve(cwd, model);
  if (!existsSync(dir)) throw new UsageError(`--model: no such directory "${dir}" (and not a built-in model: ${BUILTIN_NAMES.join(', ')})`);
  return dir;
}

/**
 * The stage line saying how a model directory stores its weights, e.g. `model ./m: detected transformers.js /
 * Optimum ONNX export (onnx/model.onnx)`, since `--model` takes both a Hugging Face checkpoint and a transformers.js /
 * Optimum export; undefined when the directory holds no weights (loading it then says what is missing).
 */
export function modelLayoutLine(dir: string): string | undefined {
  const layout = detectModelLayout(dir);
  return layout === undefined ? undefined : `model ${dir}: detected ${layout.description}`;
}
