// Small helpers shared by the commands.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TEACHERS, teacherDir, type TeacherName } from '@ziplm/distill';
import { BUILTIN_MODELS, builtinModelDir, type BuiltinModelName } from '@ziplm/models';
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
  if ((TEACHERS as readonly string[]).includes(model)) return teacherDir(model as TeacherName);
  if ((BUILTIN_MODELS as readonly string[]).includes(model)) return builtinModelDir(model as BuiltinModelName);
  const dir = resolve(cwd, model);
  if (!existsSync(dir)) throw new UsageError(`--model: no such directory "${dir}" (and not a built-in model: ${BUILTIN_NAMES.join(', ')})`);
  return dir;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wall time of one call, in milliseconds. */
export async function timeIt(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
