// Members: each pruned model of a family is written as an ONNX graph for its environment plus a
// Hugging Face-style checkpoint that loads back, and a member.json record, into a temporary directory
// renamed into place (a killed run leaves either a complete member or none). One-shot and gradual
// runs both create their members through `saveMember`.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportOptionsFor, type InferenceEnvironment, type SearchResult } from '@ziplm/latency';
import {
  exportModelToOnnx,
  layerParameterCount,
  saveCheckpoint,
  type Checkpoint,
  type KeptStructures,
  type Tokenizer,
} from '@ziplm/models';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import type { RunContext } from '../context.js';
import { RunDirectoryError } from '../errors.js';
import { writeDirectoryAtomic, writeFileAtomic, writeJsonAtomic } from '@ziplm/core/node';
import { memberName, type RunDirectory } from '../internal/run-dir.js';
import type { CompressionMethod, MemberAttempt, MemberRecord, MemberResult } from '../results.js';
import { checkJson, describeIssue } from '../schemas/json.js';
import { MemberRecordSchema, parseMemberRecord } from '../schemas/member.js';
import type { PreparedTask, ScoreProgress, Scores } from '../tasks.js';

/** Scores a checkpoint on a task through onnxruntime (full-sequence graph); `onProgress` as in {@link PreparedTask.score}. */
export async function scoreCheckpoint(
  checkpoint: Checkpoint,
  task: PreparedTask,
  dense?: Scores,
  onProgress?: ScoreProgress,
): Promise<Scores> {
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

/** Writes a member's files and record; the directory appears complete or not at all (@ziplm/core/node's `writeDirectoryAtomic`). */
export async function writeMember(
  dir: string,
  checkpoint: Checkpoint,
  tokenizer: Tokenizer,
  env: InferenceEnvironment,
  record: MemberRecord,
): Promise<void> {
  await writeDirectoryAtomic(dir, async (tmp) => {
    await saveCheckpoint(tmp, checkpoint, { tokenizer });
    await writeFileAtomic(join(tmp, ONNX_FILE), exportModelToOnnx(checkpoint, exportOptionsFor(env)));
    await writeJsonAtomic(join(tmp, MEMBER_FILE), record);
  });
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
  return parseMemberRecord(record, file);
}

/** Updates a complete member's record (e.g. with its measured speedup). */
export async function updateMember(dir: string, record: MemberRecord): Promise<void> {
  await writeJsonAtomic(join(dir, MEMBER_FILE), record);
}

/** Absolute directory of a member in a run. */
export function memberDir(run: RunDirectory, method: string, target: number, variant?: string): string {
  return run.path('members', memberName(method, target, variant));
}

/** A member's scores on the run's task (undefined when the run does not evaluate); progress goes to `stage`. */
export async function scoreMember(ctx: RunContext, checkpoint: Checkpoint, stage: string): Promise<Scores | undefined> {
  if (!ctx.denseScores) return undefined;
  return scoreCheckpoint(checkpoint, ctx.task, ctx.denseScores, (done, total) => ctx.emit({ kind: 'progress', stage, done, total }));
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
}

/**
 * Writes a new member into the run directory (its files and member.json, see {@link writeMember}) and
 * records it in the manifest; returns its record.
 */
export async function saveMember(ctx: RunContext, member: NewMember): Promise<MemberRecord> {
  const { run, task, tokenizer, env } = ctx;
  const { method, variant, target, searchTarget, attempts, choice, checkpoint, kept, scores } = member;
  const name = memberName(method, target, variant);
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
    dir: `members/${name}`,
    keptHeads: kept.heads,
    keptNeurons: kept.neurons,
    ...(scores ? { metric: scores.metric } : {}),
    ...(scores?.predictions && task.evaluationLabels ? { predictions: [...scores.predictions] } : {}),
  };
  await writeMember(memberDir(run, method, target, variant), checkpoint, tokenizer, env, record);
  await run.recordMember({
    name: record.dir,
    method,
    ...(variant ? { variant } : {}),
    target,
    layerHeads: record.layerHeads,
    layerIntermediate: record.layerIntermediate,
    keptHeads: kept.heads,
    keptNeurons: kept.neurons,
    predictedSpeedup: record.predictedSpeedup,
  });
  return record;
}
