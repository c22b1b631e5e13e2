// Small helpers shared by the commands.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUILTIN_MODELS, builtinModelDir, type BuiltinModelName } from '@ziplm/models';
import { UsageError } from './command.js';

/** A model directory given as a path, or the name of a built-in model. */
export function resolveModelDir(model: string, cwd: string): string {
  if ((BUILTIN_MODELS as readonly string[]).includes(model)) return builtinModelDir(model as BuiltinModelName);
  const dir = resolve(cwd, model);
  if (!existsSync(dir)) throw new UsageError(`--model: no such directory "${dir}" (and not a built-in model: ${BUILTIN_MODELS.join(', ')})`);
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
