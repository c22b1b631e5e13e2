// @ziplm/teachers: the dense teachers trained by @ziplm/distill's recipes, shipped as self-contained model
// directories (config.json, model.safetensors, vocabulary, results.json) that `loadModelDir` from @ziplm/models
// reads. They are the ziplm CLI's built-in default models. The package has no dependencies and no code beyond
// locating them, so that only the CLI's users download their 19 MB (see README "Why a package of its own").

import { fileURLToPath } from 'node:url';

/** The name of a shipped teacher: its directory under `teachers/` and its @ziplm/distill recipe's name. */
export type TeacherName = 'sst2-bert' | 'wikitext2-gpt2' | 'wordorder-bert';

/** Every shipped teacher. */
export const TEACHERS: readonly TeacherName[] = ['sst2-bert', 'wikitext2-gpt2', 'wordorder-bert'];

/**
 * Absolute directory of a shipped teacher. It is resolved relative to this module, one level below the package
 * root, so it is the same from `src/` (workspace sources) and from `dist/` (the published build).
 * @throws RangeError for a name that is not a teacher.
 */
export function teacherDir(name: TeacherName): string {
  if (!TEACHERS.includes(name)) throw new RangeError(`unknown teacher "${String(name)}" (${TEACHERS.join(', ')})`);
  return fileURLToPath(new URL(`../teachers/${name}`, import.meta.url));
}
