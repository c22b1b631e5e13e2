// Where the real data lives. Resolved in exactly one place (CONTRIBUTING.md, "Data").

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { readTextFile } from '../internal/text-file.js';

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

/**
 * Reads a UTF-8 data file within the input limits (`inputLimits()`): a regular file only, at most
 * the file limit, no line over the line limit. A BOM is dropped and CRLF line endings become LF.
 * @throws DataError naming the file: missing, unreadable, not a regular file, or over a limit.
 */
export function readDataText(file: string): string {
  return readTextFile(file, { lineBased: true }, (problem, cause) => {
    throw new DataError(file, problem, cause === undefined ? undefined : { cause });
  });
}

/** Like {@link readDataText} for a JSON data file (SQuAD): no line limit, since JSON is often one line. */
export function readDataJsonText(file: string): string {
  return readTextFile(file, { lineBased: false }, (problem, cause) => {
    throw new DataError(file, problem, cause === undefined ? undefined : { cause });
  });
}
