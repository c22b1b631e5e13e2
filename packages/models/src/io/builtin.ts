// The built-in tiny models shipped in the package's assets/ folder (generated deterministically by
// scripts/make-tiny-models.ts). Tests, the README's main job and the CLI default use them so that
// nothing needs a download.

import { fileURLToPath } from 'node:url';

/** Names of the built-in models. */
export type BuiltinModelName = 'tiny-bert' | 'tiny-gpt2';

/** Every built-in model name. */
export const BUILTIN_MODELS: readonly BuiltinModelName[] = ['tiny-bert', 'tiny-gpt2'];

/**
 * Absolute directory of a built-in model (config.json, model.safetensors and the vocabulary):
 * - `tiny-bert`: a random BERT sentence classifier (2 labels) with a WordPiece vocabulary;
 * - `tiny-gpt2`: a random GPT2 language model with a byte-level BPE vocabulary.
 * Resolved relative to this file, so it works from src/ (workspace) and dist/ (published) alike.
 */
export function builtinModelDir(name: BuiltinModelName): string {
  if (!BUILTIN_MODELS.includes(name)) throw new RangeError(`unknown built-in model "${String(name)}" (${BUILTIN_MODELS.join(', ')})`);
  return fileURLToPath(new URL(`../../assets/${name}`, import.meta.url));
}

/** The directories of all built-in models, by name. */
export function builtinModelDirs(): Record<BuiltinModelName, string> {
  return { 'tiny-bert': builtinModelDir('tiny-bert'), 'tiny-gpt2': builtinModelDir('tiny-gpt2') };
}
