// `manifest.json` of a run directory (RunManifest): the run's identity, which decides whether the
// directory may be resumed, the package versions that produced it, and its members. The types are
// documented here beside their schema; `run-dir.ts` re-exports them.

import * as v from 'valibot';
import { RunDirectoryError } from '../errors.js';
import type { FileDigest } from '../internal/files.js';
import { type Assert, type SameShape, checkJson, describeIssue, got, integer, jsonObject, jsonRecord, positive } from './json.js';

/** What must match for a run directory to be resumed. */
export interface RunIdentity {
  readonly mode: 'oneshot' | 'gradual';
  readonly model: { readonly sha256: string; readonly modelType: string };
  readonly task: string;
  readonly data: ReadonlyArray<{ readonly file: string; readonly sha256: string }>;
  readonly calibration: { readonly samples: number; readonly seed: number };
  readonly environment: Record<string, unknown>;
  /** Anything else that changes results (e.g. fine-tuning settings in gradual mode). */
  readonly settings: Record<string, unknown>;
}

export interface ManifestMember {
  readonly name: string;
  readonly method: string;
  readonly variant?: string;
  readonly target: number;
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
  /** Kept head / neuron indices per layer, relative to the model the member was pruned from. */
  readonly keptHeads: readonly (readonly number[])[];
  readonly keptNeurons: readonly (readonly number[])[];
  readonly predictedSpeedup: number;
}

export interface RunManifest {
  readonly format: 'ziplm-run';
  readonly version: 1;
  readonly createdAt: string;
  updatedAt: string;
  readonly identity: RunIdentity;
  /** sha256 of the latency table used. */
  tableSha256?: string;
  readonly versions: Record<string, string>;
  targets: number[];
  members: ManifestMember[];
  /**
   * Size and sha256 of the run's own artifacts that have no record of their own (dense-scores.json),
   * by file name relative to the run directory; checked when a resumed run reuses them.
   */
  files?: Record<string, FileDigest>;
}

const string = () => v.string(got('must be a string'));
const indexArrays = () => v.array(v.array(integer(0), 'must be an array of indices'), 'must be an array of index arrays');

/** A file's recorded size and sha256 (64 hex digits). */
export const FileDigestSchema = () =>
  jsonObject({
    bytes: integer(0),
    sha256: v.pipe(string(), v.regex(/^[0-9a-f]{64}$/, got('must be 64 lowercase hex digits'))),
  });

const RunIdentitySchema = jsonObject({
  mode: v.picklist(['oneshot', 'gradual'], got('must be "oneshot" or "gradual"')),
  model: jsonObject({ sha256: string(), modelType: string() }),
  task: string(),
  data: v.array(jsonObject({ file: string(), sha256: string() }), 'must be an array'),
  calibration: jsonObject({ samples: integer(1), seed: v.number(got('must be a number')) }),
  environment: jsonRecord(v.unknown()),
  settings: jsonRecord(v.unknown()),
});

const ManifestMemberSchema = jsonObject({
  name: string(),
  method: string(),
  variant: v.optional(string()),
  target: positive(),
  layerHeads: v.array(integer(0), 'must be an array of counts'),
  layerIntermediate: v.array(integer(0), 'must be an array of counts'),
  keptHeads: indexArrays(),
  keptNeurons: indexArrays(),
  predictedSpeedup: positive(),
});

/**
 * `manifest.json`; entries in the order a run writes them (`tableSha256` is added once the latency
 * table is known), so a resumed run writes its manifest back in the same order.
 */
export const RunManifestSchema = jsonObject(
  {
    format: v.literal('ziplm-run', (issue) => `${got('must be "ziplm-run"')(issue)}: not a ziplm run manifest`),
    version: v.literal(1, (issue) => `${got('must be 1')(issue)}: not a manifest version this @ziplm/pipeline reads`),
    createdAt: string(),
    updatedAt: string(),
    identity: RunIdentitySchema,
    versions: jsonRecord(string()),
    targets: v.array(positive(), 'must be an array'),
    members: v.array(ManifestMemberSchema, 'must be an array'),
    tableSha256: v.optional(string()),
    files: v.optional(jsonRecord(FileDigestSchema())),
  },
  'must be a JSON object',
);

type _RunIdentityMatches = Assert<SameShape<v.InferOutput<typeof RunIdentitySchema>, RunIdentity>>;
type _ManifestMemberMatches = Assert<SameShape<v.InferOutput<typeof ManifestMemberSchema>, ManifestMember>>;
type _RunManifestMatches = Assert<SameShape<v.InferOutput<typeof RunManifestSchema>, RunManifest>>;

/** Checks a run manifest read from `file`; a damaged one is a RunDirectoryError naming the file and the field. */
export function parseRunManifest(value: unknown, file: string): RunManifest {
  const result = checkJson(RunManifestSchema, value);
  if (!result.ok) {
    throw new RunDirectoryError(file, `${describeIssue(result.field, result.problem)}; remove the run directory or choose another one`);
  }
  return result.output;
}
