// Members: each pruned model of a family is written as an ONNX graph for its environment plus a
// Hugging Face-style checkpoint that loads back, the same model in the transformers.js layout (so the
// member directory is a model directory the user's transformers.js code loads), and a member.json record,
// into a temporary directory renamed into place (a killed run leaves either a complete member or none).
// One-shot and gradual runs both create their members through `saveMember`.

import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { exportOptionsFor, type InferenceEnvironment, type SearchResult } from '@ziplm/latency';
import {
  exportModelToOnnx,
  isDecoder,
  layerParameterCount,
  parameterCount,
  saveCheckpoint,
  saveTransformersJsModel,
  type Checkpoint,
  type KeptStructures,
  type OnnxExportOptions,
  type Tokenizer,
  type TransformersJsModelOptions,
} from '@ziplm/models';
import type { RunContext } from '../context.js';
import { RunDirectoryError } from '../errors.js';
import { resolveInside, writeDirectoryAtomic, writeFileAtomic, writeJsonAtomic } from '@ziplm/core/node';
import { checkFileDigest, digestFile, type FileDigest, readJsonFile } from '../internal/files.js';
import { memberName, type RunDirectory } from '../internal/run-dir.js';
import type { CompressionMethod, MemberAttempt, MemberRecord, MemberResult } from '../results.js';
import type { ManifestMember } from '../schemas/manifest.js';
import { checkJson, describeIssue } from '../schemas/json.js';
import { MemberRecordSchema, parseMemberRecord } from '../schemas/member.js';
import type { Scores } from '../tasks/index.js';
import { compressMember, type QuantizationAwareTraining } from './compound.js';

export const MEMBER_FILE = 'member.json';
export const ONNX_FILE = 'model.onnx';

/**
 * The graphs of a member's transformers.js layout (onnx/model.onnx FP32, onnx/model_quantized.onnx INT8:
 * what transformers.js runs, see `saveTransformersJsModel`) given its shipped graph `shippedFile`. An
 * encoder's are over the whole sequence, as its shipped graph is, so the shipped graph is hard-linked
 * rather than written again: a second copy would double the member's largest file, and the two must stay
 * identical anyway. A decoder's are Optimum's decoder-with-past graph (`generate()` feeds the cache back),
 * which no environment ships (the latency table times a full-sequence graph or ziplm's decode graph with
 * its own names and a fixed cache length), so they are exported afresh: the FP32 one always, the INT8 one
 * (round-to-nearest, as the shipped one) for an INT8 environment. A compound member's INT8 graph (`int8`)
 * can only be rebuilt from its INT8 weights and calibration ranges, so compound compression exports a
 * compound decoder's with-past INT8 graph itself (`int8Layout`, `CompoundMember.transformersJsOnnx`).
 */
function transformersJsGraphs(
  checkpoint: Checkpoint,
  exportOptions: OnnxExportOptions,
  shippedFile: string,
  int8: Uint8Array | undefined,
  int8Layout: Uint8Array | undefined,
): TransformersJsModelOptions {
  const quantize = int8 === undefined ? exportOptions.quantize : undefined;
  if (isDecoder(checkpoint.config)) return int8Layout ? { quantizedOnnx: int8Layout } : quantize ? { quantize } : {};
  const shippedIsInt8 = int8 !== undefined || quantize !== undefined;
  return shippedIsInt8 ? { quantizedOnnx: { sameBytesAs: shippedFile } } : { onnx: { sameBytesAs: shippedFile } };
}

/**
 * The files under `dir` as `/`-separated paths relative to it (the keys of a record's `files`), sorted,
 * without member.json.
 */
async function memberFiles(dir: string, under = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(dir, under), { withFileTypes: true })) {
    const path = under === '' ? entry.name : `${under}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await memberFiles(dir, path)));
    else if (path !== MEMBER_FILE) files.push(path);
  }
  return files.sort();
}

/**
 * Writes a member's files and record; the directory appears complete or not at all (@ziplm/core/node's
 * `writeDirectoryAtomic`). The graph is `onnx` when given (a compound member's INT8 graph), else the
 * checkpoint exported for `env`. The directory is also a transformers.js model directory
 * (`saveTransformersJsModel`: config.json, tokenizer.json, onnx/model.onnx, ...). The record gets the size
 * and sha256 of every other file of the directory, subdirectories included (`files`, keyed by relative
 * path such as "onnx/model.onnx"), read back from the temporary directory, so that what is recorded is
 * what was written. Returns the record as written.
 */
export async function writeMember(
  dir: string,
  checkpoint: Checkpoint,
  tokenizer: Tokenizer,
  env: InferenceEnvironment,
  record: MemberRecord,
  measured?: NewMember['measured'],
  onnx?: Uint8Array,
  /** A compound decoder's INT8 decoder-with-past graph for onnx/model_quantized.onnx (see `transformersJsGraphs`). */
  int8Layout?: Uint8Array,
): Promise<MemberRecord> {
  let written = record;
  await writeDirectoryAtomic(dir, async (tmp) => {
    await saveCheckpoint(tmp, checkpoint, { tokenizer });
    const exportOptions = exportOptionsFor(env);
    const shippedFile = join(tmp, ONNX_FILE);
    await writeFileAtomic(shippedFile, onnx ?? exportModelToOnnx(checkpoint, exportOptions));
    // After saveCheckpoint: it replaces config.json and tokenizer_config.json by supersets that ziplm reads the same.
    await saveTransformersJsModel(
      tmp,
      checkpoint,
      tokenizer,
      transformersJsGraphs(checkpoint, exportOptions, shippedFile, onnx, int8Layout),
    );
    const files: Record<string, FileDigest> = {};
    for (const name of await memberFiles(tmp)) files[name] = await digestFile(join(tmp, name));
    // `files` precedes the measured fields, as in a record measured after it was written.
    // The shipped graph's size for the report, read from the same listing as the digests.
    written = canonicalRecord(
      { ...record, ...(files[ONNX_FILE] ? { onnxBytes: files[ONNX_FILE].bytes } : {}), files, ...measured },
      join(dir, MEMBER_FILE),
    );
    await writeJsonAtomic(join(tmp, MEMBER_FILE), written);
  });
  return written;
}

/**
 * The first problem of a member record read back from disk (checked against the member.json schema),
 * as `"field" problem`; undefined when it is well-formed.
 */
export function memberRecordProblem(value: unknown): string | undefined {
  const result = checkJson(MemberRecordSchema, value);
  return result.ok ? undefined : describeIssue(result.field, result.problem);
}

/**
 * Checks that the files of member directory `dir` are the ones its record lists (sizes, then sha256):
 * a RunDirectoryError naming the file otherwise, or when the record lists no files (written before
 * records had them) and so cannot be checked. File names are paths read from the record, so they must
 * stay inside `dir`. `file` is the record's path, for messages.
 */
export async function checkMemberFiles(dir: string, record: MemberRecord, file: string, remedy: string): Promise<void> {
  if (!record.files || Object.keys(record.files).length === 0)
    throw new RunDirectoryError(file, `has no "files" (sizes and hashes of the member's files, written by an older ziplm); ${remedy}`);
  for (const [name, digest] of Object.entries(record.files)) {
    const path = resolveInside(dir, name, (problem) => new RunDirectoryError(file, `"files" key ${problem}; ${remedy}`));
    await checkFileDigest(path, digest, remedy);
  }
}

/**
 * Reads the record of member directory `dir` (its member.json), or undefined when there is none. A
 * damaged record is a RunDirectoryError naming the file. Checks the record alone: a run reads its
 * members with {@link readMember}, which also checks where the record points and the files.
 */
export async function readMemberRecord(dir: string): Promise<MemberRecord | undefined> {
  const file = join(dir, MEMBER_FILE);
  if (!existsSync(file)) return undefined;
  const json = await readJsonFile(
    file,
    (problem, cause) => new RunDirectoryError(file, `${problem}; remove ${dir} to recompute this member`, { cause }),
  );
  return parseMemberRecord(json, file);
}

/**
 * Reads a finished member of `run` from its directory `dir`, or undefined when the member is not
 * finished. Refused with a RunDirectoryError naming the file (removing the member directory recomputes
 * just that member): a damaged record, a record whose `dir` is not this member's own directory (it
 * would make the run read and write another member's or a directory outside the run), and member
 * files that changed since they were written (see {@link checkMemberFiles}).
 */
export async function readMember(run: RunDirectory, dir: string): Promise<MemberRecord | undefined> {
  const record = await readMemberRecord(dir);
  if (!record) return undefined;
  const file = join(dir, MEMBER_FILE);
  const remedy = `remove ${dir} to recompute this member`;
  const named = run.resolve(record.dir, file, 'dir');
  if (named !== resolve(dir))
    throw new RunDirectoryError(
      file,
      `"dir" must name this member's own directory ${JSON.stringify(relative(run.dir, dir).replaceAll('\\', '/'))}, got ${JSON.stringify(record.dir)}; ${remedy}`,
    );
  await checkMemberFiles(dir, record, file, remedy);
  return record;
}

/**
 * Reads the record of member directory `dir` and checks the member's files against the sizes and
 * hashes it lists: what `ziplm verify` does before timing a member's shipped model.onnx. Undefined when
 * `dir` has no member.json; a RunDirectoryError naming the file when the record is damaged, lists no
 * files, or a file changed since it was written.
 */
export async function readCheckedMember(dir: string): Promise<MemberRecord | undefined> {
  const record = await readMemberRecord(dir);
  if (record) await checkMemberFiles(dir, record, join(dir, MEMBER_FILE), `re-export the member (remove ${dir} and run again)`);
  return record;
}

/** The absolute directory of a member record of `run` (its `dir`, checked to stay inside the run directory). */
export function recordDir(run: RunDirectory, record: MemberRecord): string {
  return run.resolve(record.dir, run.path(record.dir, MEMBER_FILE), 'dir');
}

/**
 * `record` with its keys in the member.json schema's order: a record updated with spread syntax has its
 * new keys last, and a record read back and written again must be byte-identical.
 */
function canonicalRecord(record: MemberRecord, file: string): MemberRecord {
  return parseMemberRecord(JSON.parse(JSON.stringify(record)), file);
}

/** Updates a complete member's record (e.g. with its measured speedup). */
export async function updateMember(dir: string, record: MemberRecord): Promise<void> {
  const file = join(dir, MEMBER_FILE);
  await writeJsonAtomic(file, canonicalRecord(record, file));
}

/** Absolute directory of a member in a run. */
export function memberDir(run: RunDirectory, method: string, target: number, variant?: string): string {
  return run.path('members', memberName(method, target, variant));
}

/** What a new member is made of. */
export interface NewMember {
  readonly method: CompressionMethod;
  /** The variant of a gradual family (absent for the main setting). */
  readonly variant?: string;
  readonly target: number;
  /** The speedup the search was asked for, when a re-search changed it from `target`. */
  readonly searchTarget?: number;
  /** Earlier measured versions that a re-search replaced. */
  readonly attempts?: readonly MemberAttempt[];
  /** The search's choice of levels and how it was made. */
  readonly choice: SearchResult;
  readonly search: NonNullable<MemberResult['search']>;
  /** The pruned (in gradual runs: fine-tuned) model and the structures it kept. */
  readonly checkpoint: Checkpoint;
  readonly kept: KeptStructures;
  readonly scores?: Scores;
  /** What re-timing found, when the member was timed before it was written (a re-search candidate). */
  readonly measured?: Pick<MemberRecord, 'measuredSpeedup' | 'deviation' | 'status' | 'statusReason' | 'verification'>;
  /** Quantization-aware fine-tuning for a compound run (see `compressMember`); absent where the run has no training. */
  readonly qat?: QuantizationAwareTraining;
}

/**
 * Writes a new member into the run directory (its files and member.json, see {@link writeMember}) and
 * records it in the manifest; returns its record.
 */
export async function saveMember(ctx: RunContext, member: NewMember): Promise<MemberRecord> {
  const { run, task, tokenizer, env } = ctx;
  const { method, variant, target, searchTarget, attempts, choice, kept } = member;
  const name = memberName(method, target, variant);
  // A compound run ships the member compressed further (INT8, sparsity); its FP32 scores go into `compound.metrics`.
  const compound = ctx.compound ? await compressMember(ctx, member.checkpoint, member.scores, name, member.qat) : undefined;
  const checkpoint = compound?.checkpoint ?? member.checkpoint;
  const scores = compound ? compound.scores : member.scores;
  const record: MemberRecord = {
    method,
    ...(variant ? { variant } : {}),
    target,
    predictedSpeedup: choice.predictedSpeedup,
    ...(searchTarget !== undefined && searchTarget !== target ? { searchTarget } : {}),
    ...(attempts && attempts.length > 0 ? { attempts } : {}),
    searchError: choice.totalError,
    search: member.search,
    layerHeads: choice.layerHeads,
    layerIntermediate: choice.layerIntermediate,
    layerParameters: layerParameterCount(checkpoint.config),
    totalParameters: parameterCount(checkpoint.config),
    dir: `members/${name}`,
    keptHeads: kept.heads,
    keptNeurons: kept.neurons,
    ...(scores ? { metric: scores.metric } : {}),
    ...(compound ? { compound: compound.result } : {}),
    ...(scores?.predictions && task.evaluationLabels ? { predictions: [...scores.predictions] } : {}),
  };
  const written = await writeMember(
    memberDir(run, method, target, variant),
    checkpoint,
    tokenizer,
    env,
    record,
    member.measured,
    compound?.onnx,
    compound?.transformersJsOnnx,
  );
  await run.recordMember(manifestEntry(written));
  return written;
}

/** A member's entry in the run's manifest. */
function manifestEntry(record: MemberRecord): ManifestMember {
  return {
    name: record.dir,
    method: record.method,
    ...(record.variant ? { variant: record.variant } : {}),
    target: record.target,
    layerHeads: record.layerHeads,
    layerIntermediate: record.layerIntermediate,
    keptHeads: record.keptHeads,
    keptNeurons: record.keptNeurons,
    predictedSpeedup: record.predictedSpeedup,
  };
}

/**
 * A finished member read back when a run resumes (undefined when it is not finished). A run killed after
 * publishing the member's directory but before saving the manifest left the member out of the manifest:
 * it is recorded now, so a resumed run ends with the manifest of an uninterrupted one.
 */
export async function resumeMember(run: RunDirectory, dir: string): Promise<MemberRecord | undefined> {
  const record = await readMember(run, dir);
  if (record && !run.manifest.members.some((m) => m.name === record.dir)) await run.recordMember(manifestEntry(record));
  return record;
}
