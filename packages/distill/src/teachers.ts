// The teachers trained by this package's recipes (scripts/teacher-*.ts) and shipped in its teachers/ folder:
// complete model directories (config.json, model.safetensors, vocabulary, results.json) for loadModelDir.

import { fileURLToPath } from 'node:url';

/** Names of the shipped teachers. */
export type TeacherName = 'sst2-bert' | 'wikitext2-gpt2';

/** Every shipped teacher. */
export const TEACHERS: readonly TeacherName[] = ['sst2-bert', 'wikitext2-gpt2'];

/**
 * Absolute directory of a shipped teacher:
 * - `sst2-bert`: BERT sentence classifier (4 layers × 4 heads, hidden 128) trained from scratch on SST-2;
 * - `wikitext2-gpt2`: GPT2 language model (4 layers × 4 heads, hidden 128) trained from scratch on WikiText-2 text.
 * Their measured accuracy / perplexity and recipe options are in the directory's results.json.
 * Resolved relative to this file, so it works from src/ (workspace) and dist/ (published) alike.
 */
export function teacherDir(name: TeacherName): string {
  if (!TEACHERS.includes(name)) throw new RangeError(`unknown teacher "${String(name)}" (${TEACHERS.join(', ')})`);
  return fileURLToPath(new URL(`../teachers/${name}`, import.meta.url));
}
