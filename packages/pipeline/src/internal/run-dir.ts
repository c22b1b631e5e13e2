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

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeJsonAtomic } from '@ziplm/core/node';
import { RunDirectoryError } from '../errors.js';
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

export class RunDirectory {
  private constructor(
    readonly dir: string,
    readonly manifest: RunManifest,
  ) {}

  /**
   * Opens `dir` for a run with `identity`: creates the manifest, or checks that the existing one
   * has the same identity (a RunDirectoryError names what differs, e.g. a different model).
   */
  static async open(dir: string, identity: RunIdentity): Promise<RunDirectory> {
    const file = join(dir, 'manifest.json');
    if (existsSync(file)) {
      let json: unknown;
      try {
        json = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        const problem = `manifest.json is not valid JSON (${(error as Error).message}); remove the directory or choose another --run`;
        throw new RunDirectoryError(dir, problem, { cause: error });
      }
      const manifest = parseRunManifest(json, file);
      const diff = diffIdentity(manifest.identity, identity);
      if (diff.length > 0) {
        const what = diff.some((d) => d.startsWith('model')) ? 'a different model' : 'different settings';
        throw new RunDirectoryError(
          dir,
          `this run directory was made for ${what}; choose another --run directory or remove it. Differences:\n  ${diff.join('\n  ')}`,
        );
      }
      return new RunDirectory(dir, manifest);
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
    const run = new RunDirectory(dir, manifest);
    await run.save();
    return run;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
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
}

/** Directory name of a member, e.g. `ziplm-4.00x`. */
export function memberName(method: string, target: number, variant?: string): string {
  return `${method}${variant ? `-${variant.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}` : ''}-${target.toFixed(2)}x`;
}
