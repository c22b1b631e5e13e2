// The run directory: everything a run computes, written so that a killed run restarted with the same
// command resumes where it stopped (method outputs are deterministic; finished members are never
// recomputed), and so that a directory is never reused for a different model or setting.
//
//   <run>/manifest.json           identity (model, data, calibration, environment, table hashes),
//                                 package versions, targets, members with their kept heads/neurons
//   <run>/latency-table.json      the table the search used
//   <run>/database[-magnitude]/   the level database (one file per module)
//   <run>/members/<name>/         each member: model.onnx, config.json, model.safetensors, vocabulary, member.json
//   <run>/results.json, report.md, *.svg
//   <run>/.lock                   while a process has the directory open (run-lock.ts)
//
// Every path read from the directory's files goes through `RunDirectory.resolve` (@ziplm/core/node's
// resolveInside): a record cannot make a run read or write outside its directory.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { resolveInside, writeJsonAtomic } from '@ziplm/core/node';
import { RunDirectoryError } from '../errors.js';
import { checkFileDigest, digestBytes, readJsonFile } from './files.js';
import { acquireRunLock, type RunLock } from './run-lock.js';
import { parseRunManifest, type ManifestMember, type RunIdentity, type RunManifest } from '../schemas/manifest.js';

// The manifest's types are documented beside its schema (schemas/manifest.ts).
export type { ManifestMember, RunIdentity, RunManifest } from '../schemas/manifest.js';

const PACKAGES = [
  '@ziplm/pipeline',
  '@ziplm/models',
  '@ziplm/onnx',
  '@ziplm/hessian',
  '@ziplm/latency',
  '@ziplm/distill',
  'onnxruntime-node',
  '@tensorflow/tfjs-core',
];

/** Versions of the packages that produced a run (the manifest's B3 record). */
export function packageVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = { node: process.version };
  for (const name of PACKAGES) {
    try {
      out[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      out[name] = 'unavailable';
    }
  }
  return out;
}

function diffIdentity(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) {
    return [`${path || '(root)'}: ${JSON.stringify(a)} in the run directory, ${JSON.stringify(b)} now`];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) =>
    diffIdentity((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k),
  );
}

/**
 * What a run writes besides manifest.json: a directory holding any of these without a manifest has
 * lost its manifest (its identity can no longer be checked), and is not a fresh run.
 */
const RUN_ARTIFACTS = ['members', 'database', 'database-magnitude', 'steps', 'latency-table.json', 'dense-scores.json', 'results.json'];

export class RunDirectory {
  private constructor(
    readonly dir: string,
    readonly manifest: RunManifest,
    private readonly lock: RunLock,
  ) {}

  /**
   * Opens `dir` for a run with `identity` under its lock (run-lock.ts; `warn` reports a stale lock
   * taken over): creates the manifest, or checks that the existing one has the same identity (a
   * RunDirectoryError names what differs, e.g. a different model). The lock is held until
   * {@link close}; on any error here it is released before the error is raised.
   */
  static async open(dir: string, identity: RunIdentity, warn: (message: string) => void = () => {}): Promise<RunDirectory> {
    const lock = await acquireRunLock(dir, warn);
    try {
      return new RunDirectory(dir, await RunDirectory.readOrCreateManifest(dir, identity), lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private static async readOrCreateManifest(dir: string, identity: RunIdentity): Promise<RunManifest> {
    const file = join(dir, 'manifest.json');
    if (existsSync(file)) {
      const json = await readJsonFile(
        file,
        (problem, cause) =>
          new RunDirectoryError(dir, `manifest.json ${problem}; remove the directory or choose another run directory`, { cause }),
      );
      const manifest = parseRunManifest(json, file);
      const diff = diffIdentity(manifest.identity, identity);
      if (diff.length > 0) {
        const what = diff.some((d) => d.startsWith('model')) ? 'a different model' : 'different settings';
        throw new RunDirectoryError(
          dir,
          `this run directory was made for ${what}; choose another run directory or remove it. Differences:\n  ${diff.join('\n  ')}`,
        );
      }
      return manifest;
    }
    const left = RUN_ARTIFACTS.filter((name) => existsSync(join(dir, name)));
    if (left.length > 0) {
      throw new RunDirectoryError(
        file,
        `is missing, but the directory holds ${left.join(', ')} of an earlier run whose model and settings can no longer be checked; restore manifest.json, or remove the directory (or choose another run directory) to start afresh`,
      );
    }
    const now = new Date().toISOString();
    const manifest: RunManifest = {
      format: 'ziplm-run',
      version: 1,
      createdAt: now,
      updatedAt: now,
      identity,
      versions: packageVersions(),
      targets: [],
      members: [],
    };
    await writeJsonAtomic(file, manifest);
    return manifest;
  }

  /** Releases the directory's lock; the run is over (called in a `finally`, on success and on error). */
  async close(): Promise<void> {
    await this.lock.release();
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /**
   * The absolute path of `relativePath`, a path read from the run directory's own files: a
   * RunDirectoryError naming `file` and `field` when it does not stay inside the directory.
   */
  resolve(relativePath: unknown, file: string, field: string): string {
    return resolveInside(this.dir, relativePath, (problem) => new RunDirectoryError(file, `"${field}" ${problem}`));
  }

  async save(): Promise<void> {
    this.manifest.updatedAt = new Date().toISOString();
    await writeJsonAtomic(this.path('manifest.json'), this.manifest);
  }

  /** Records a member (replacing one of the same name) and the targets, and saves. */
  async recordMember(member: ManifestMember): Promise<void> {
    this.manifest.members = [...this.manifest.members.filter((m) => m.name !== member.name), member].sort(
      (a, b) => a.method.localeCompare(b.method) || (a.variant ?? '').localeCompare(b.variant ?? '') || a.target - b.target,
    );
    await this.save();
  }

  /**
   * Records the size and hash of `content`, about to be written to `name` (relative to the directory),
   * in the manifest, and saves. The record is saved before the file is written, so a run killed in
   * between leaves a record without its file (the file is then recomputed), never a file without a record.
   */
  async recordFile(name: string, content: Uint8Array): Promise<void> {
    this.manifest.files = { ...this.manifest.files, [name]: digestBytes(content) };
    await this.save();
  }

  /**
   * Checks `name` against the size and hash the manifest recorded for it (see {@link recordFile}); a
   * file the manifest has no record of (a run of an older release) is refused too, as it cannot be
   * checked. `remedy` tells the user what to remove.
   */
  async checkFile(name: string, remedy: string): Promise<void> {
    const file = this.path(name);
    const expected = this.manifest.files?.[name];
    if (!expected)
      throw new RunDirectoryError(file, `has no recorded size and hash in manifest.json (written by an older ziplm); ${remedy}`);
    await checkFileDigest(file, expected, remedy);
  }
}

/** Directory name of a member, e.g. `ziplm-4.00x`. */
export function memberName(method: string, target: number, variant?: string): string {
  return `${method}${variant ? `-${variant.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}` : ''}-${target.toFixed(2)}x`;
}
