// The teachers trained by this package's recipes and committed with it (see README "Teachers"):
// self-contained model directories (config.json, model.safetensors, vocabulary) that
// `loadModelDir` reads. They are the CLI's built-in default models.

import { fileURLToPath } from 'node:url';

export type TeacherName = 'sst2-bert' | 'wikitext2-gpt2';

export const TEACHERS: readonly TeacherName[] = ['sst2-bert', 'wikitext2-gpt2'];

/** Absolute directory of a committed teacher (resolved relative to this file: works from src/ and dist/). */
export function teacherDir(name: TeacherName): string {
  if (!TEACHERS.includes(name)) throw new RangeError(`unknown teacher "${String(name)}" (${TEACHERS.join(', ')})`);
  return fileURLToPath(new URL(`../teachers/${name}`, import.meta.url));
}
