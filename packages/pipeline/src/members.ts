// Exporting and scoring models: each member is written as an ONNX graph for its environment plus a
// Hugging Face-style checkpoint that loads back, into a temporary directory renamed into place (a
// killed run leaves either a complete member or none).

import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exportOptionsFor, type InferenceEnvironment } from '@ziplm/latency';
import { exportModelToOnnx, expectedShapes, saveCheckpoint, type Checkpoint, type ModelConfig, type Tokenizer } from '@ziplm/models';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { writeFileAtomic, writeJsonAtomic } from './files.js';
import { RunDirectoryError } from './errors.js';
import { attemptsProblem, verificationProblem, type MemberResult } from './results.js';
import type { PreparedTask, Scores, ScoreProgress } from './tasks.js';
import { memberName, type RunDirectory } from './run-dir.js';

/** Parameters of the transformer layers only (embeddings, pooler and heads excluded), as in the paper's Table 6. */
export function layerParameterCount(config: ModelConfig): number {
  let n = 0;
  for (const [name, shape] of expectedShapes(config)) {
    if (name.includes('.encoder.layer.') || name.startsWith('transformer.h.')) n += shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

/** Scores a checkpoint on a task through onnxruntime (full-sequence graph); `onProgress` as in {@link PreparedTask.score}. */
export async function scoreCheckpoint(checkpoint: Checkpoint, task: PreparedTask, dense?: Scores, onProgress?: ScoreProgress): Promise<Scores> {
  const ort = await loadOrt();
  const session = await createSession(exportModelToOnnx(checkpoint));
  try {
    return await task.score(session, ort, dense, onProgress);
  } finally {
    await session.release();
  }
}

export const MEMBER_FILE = 'member.json';
export const ONNX_FILE = 'model.onnx';

/** The member record written beside the exported files. */
export interface MemberRecord extends MemberResult {
  readonly keptHeads: readonly (readonly number[])[];
  readonly keptNeurons: readonly (readonly number[])[];
  /** Predicted class per evaluation item (classification tasks), for paired comparisons. */
  readonly predictions?: readonly number[];
}

/** Writes a member's files and record; the directory appears complete or not at all. */
export async function writeMember(
  dir: string,
  checkpoint: Checkpoint,
  tokenizer: Tokenizer,
  env: InferenceEnvironment,
  record: MemberRecord,
): Promise<void> {
  const tmp = `${dir}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await saveCheckpoint(tmp, checkpoint, { tokenizer });
  await writeFileAtomic(join(tmp, ONNX_FILE), exportModelToOnnx(checkpoint, exportOptionsFor(env)));
  await writeJsonAtomic(join(tmp, MEMBER_FILE), record);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

/**
 * The first problem of a member record read back from disk (the fields a resumed run relies on), as
 * `field problem`; undefined when it is well-formed.
 */
export function memberRecordProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object';
  const r = value as Record<string, unknown>;
  if (typeof r.method !== 'string') return `"method" must be a string (got ${JSON.stringify(r.method)})`;
  for (const key of ['target', 'predictedSpeedup'] as const) {
    if (typeof r[key] !== 'number' || !Number.isFinite(r[key]) || (r[key] as number) <= 0) return `"${key}" must be a finite number > 0 (got ${JSON.stringify(r[key])})`;
  }
  for (const key of ['measuredSpeedup', 'deviation', 'metric', 'searchError'] as const) {
    if (r[key] !== undefined && r[key] !== null && typeof r[key] !== 'number') return `"${key}" must be a number when present (got ${JSON.stringify(r[key])})`;
  }
  if (r.status !== undefined && r.status !== 'pass' && r.status !== 'fail') return `"status" must be "pass" or "fail" when present (got ${JSON.stringify(r.status)})`;
  for (const key of ['layerHeads', 'layerIntermediate'] as const) {
    const v = r[key];
    if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 0)) return `"${key}" must be an array of counts`;
  }
  for (const key of ['keptHeads', 'keptNeurons'] as const) {
    const v = r[key];
    if (!Array.isArray(v) || v.some((layer) => !Array.isArray(layer) || layer.some((x) => !Number.isInteger(x) || x < 0))) return `"${key}" must be an array of index arrays`;
  }
  if (typeof r.dir !== 'string') return `"dir" must be a string (got ${JSON.stringify(r.dir)})`;
  const verification = verificationProblem(r.verification);
  if (verification) return `"verification${verification.field}" ${verification.problem}`;
  if (r.searchTarget !== undefined && (typeof r.searchTarget !== 'number' || !Number.isFinite(r.searchTarget) || r.searchTarget <= 0)) {
    return `"searchTarget" must be a finite number > 0 when present (got ${JSON.stringify(r.searchTarget)})`;
  }
  const attempts = attemptsProblem(r.attempts);
  if (attempts) return `"attempts${attempts.field}" ${attempts.problem}`;
  return undefined;
}

/**
 * Reads a finished member's record, or undefined when the member is not finished. A damaged record
 * is a RunDirectoryError naming the file (removing the member directory recomputes just that member).
 */
export async function readMember(dir: string): Promise<MemberRecord | undefined> {
  const file = join(dir, MEMBER_FILE);
  if (!existsSync(file)) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new RunDirectoryError(file, `is not valid JSON (${(error as Error).message}); remove ${dir} to recompute this member`);
  }
  const problem = memberRecordProblem(record);
  if (problem) throw new RunDirectoryError(file, `${problem}; remove ${dir} to recompute this member`);
  return record as MemberRecord;
}

/** Updates a complete member's record (e.g. with its measured speedup). */
export async function updateMember(dir: string, record: MemberRecord): Promise<void> {
  await writeJsonAtomic(join(dir, MEMBER_FILE), record);
}

/** Absolute directory of a member in a run. */
export function memberDir(run: RunDirectory, method: string, target: number, variant?: string): string {
  return run.path('members', memberName(method, target, variant));
}
