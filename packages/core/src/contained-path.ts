// Paths read from files (a member record's `dir`, a file named in a manifest) are data, and data can
// say `../../somewhere/else` or `/etc`: joined to a directory without a check, such a path reads or
// overwrites files outside it. Every such path goes through `resolveInside`, the one place that
// decides what "inside a directory" means, so no caller has its own (subtly different) check.

import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Resolves `relativePath` against `root` and returns the absolute path, or throws when it does not
 * name something strictly inside `root`: an empty or non-string path, an absolute path, a NUL byte,
 * or one that resolves to `root` itself or outside it (through `..`). `onEscape` builds the error
 * from a one-line problem (e.g. a caller's typed error naming the file and field the path came from);
 * without it a RangeError is thrown.
 *
 * The check is lexical (no file system access): a symbolic link inside `root` that points outside is
 * followed. Directories that ziplm writes contain no links, and a user who adds one means it.
 */
export function resolveInside(root: string, relativePath: unknown, onEscape?: (problem: string) => Error): string {
  const refuse = (problem: string): never => {
    throw onEscape ? onEscape(problem) : new RangeError(`resolveInside: ${problem}`);
  };
  if (typeof relativePath !== 'string' || relativePath.length === 0)
    return refuse(`must be a non-empty relative path, got ${JSON.stringify(relativePath)}`);
  if (relativePath.includes('\0')) return refuse(`must not contain a NUL byte, got ${JSON.stringify(relativePath)}`);
  // Both separators count on every platform: a record written on Windows is read on Linux and back.
  if (isAbsolute(relativePath) || /^[\\/]/.test(relativePath) || /^[a-zA-Z]:/.test(relativePath))
    return refuse(`must be a path relative to ${root}, got the absolute path ${JSON.stringify(relativePath)}`);
  const base = resolve(root);
  const target = resolve(base, relativePath.replaceAll('\\', '/'));
  const fromBase = relative(base, target);
  if (fromBase === '' || fromBase === '..' || fromBase.startsWith(`..${sep}`) || isAbsolute(fromBase))
    return refuse(`must name a path inside ${root}, got ${JSON.stringify(relativePath)}`);
  return target;
}
