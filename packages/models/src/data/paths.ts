// Where the real data lives. Resolved in exactly one place (CONTRIBUTING.md, "Data").

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DataError } from '../errors.js';

/** Environment variable that overrides the data directory. */
export const DATA_DIR_ENV = 'ZIPLM_DATA_DIR';

/** Nearest directory at or above `start` holding pnpm-workspace.yaml (the repository root), or null. */
export function findRepoRoot(start: string = process.cwd()): string | null {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * The data directory: `$ZIPLM_DATA_DIR` when set, else `../shared/data` beside the repository root
 * (found by walking up from the working directory to pnpm-workspace.yaml; the working directory
 * itself when there is none). The directory may not exist: check with `hasData`.
 */
export function dataDir(): string {
  const env = process.env[DATA_DIR_ENV];
  if (env !== undefined && env !== '') return resolve(env);
  const root = findRepoRoot() ?? process.cwd();
  return resolve(root, '..', 'shared', 'data');
}

/** Path of a file inside the data directory, e.g. `dataPath('glue', 'sst2', 'dev.tsv')`. */
export function dataPath(...parts: string[]): string {
  return join(dataDir(), ...parts);
}

/** Whether every given file (relative to the data directory) exists. Tests skip when it is false. */
export function hasData(...relativePaths: string[]): boolean {
  return relativePaths.every((p) => existsSync(join(dataDir(), p)));
}

/** Reads a UTF-8 text file; a missing or unreadable file is a DataError naming it. A BOM is dropped. */
export function readDataText(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(file, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`, { cause: err });
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
