// A member as stored: `member.json` in its directory (MemberRecord: the result plus the kept indices
// and per-item predictions), and each entry of `results.json`'s `members` (MemberResult). One set of
// entries serves both, so the two files cannot be checked differently.
//
// Entries are listed in the order the pipeline writes them (`saveMember`, then verification), and a
// parsed object keeps its schema's key order: a record read back and written again is byte-identical.

import { dirname } from 'node:path';
import * as v from 'valibot';
import { RunDirectoryError } from '../errors.js';
import { FileDigestSchema } from './manifest.js';
import type {
  CompoundResult,
  CompressionMethod,
  MemberAttempt,
  MemberRecord,
  MemberResult,
  MemberVerification,
  SpeedupStatus,
} from '../results.js';
import {
  type Assert,
  type SameShape,
  checkJson,
  describeIssue,
  got,
  integer,
  jsonNumber,
  jsonObject,
  jsonRecord,
  nullAsNaN,
  optionalOrNull,
  positive,
} from './json.js';

/** Every SpeedupStatus. */
export const SPEEDUP_STATUSES = ['pass', 'fail', 'inconclusive'] as const satisfies readonly SpeedupStatus[];

/** Every CompressionMethod, in the order error messages list them. */
export const COMPRESSION_METHODS = ['ziplm', 'magnitude', 'uniform'] as const satisfies readonly CompressionMethod[];

export const CompressionMethodSchema = v.picklist(COMPRESSION_METHODS, got(`must be one of ${COMPRESSION_METHODS.join(', ')}`));

/** Kept heads or FFN neurons per layer. */
const layerCounts = () => v.array(integer(0), 'must be an array of counts');

export const MemberVerificationSchema = jsonObject(
  {
    uncertainty: v.pipe(v.number(got('must be a number >= 0')), v.minValue(0, got('must be a number >= 0'))),
    interval: v.optional(v.tuple([positive(), positive()], got('must be [low, high] when present'))),
    predictionError: v.optional(jsonNumber(' when present')),
    denseDrift: v.optional(jsonNumber(' when present')),
    denseMs: positive(),
    memberMs: positive(),
    rounds: integer(1),
  },
  got('must be an object'),
);

export const MemberAttemptSchema = jsonObject({
  searchTarget: positive(),
  predictedSpeedup: positive(),
  measuredSpeedup: positive(),
  layerHeads: layerCounts(),
  layerIntermediate: layerCounts(),
  discarded: v.optional(v.literal(true, got('must be true when present'))),
});

/** What the search and the export decided. */
const searchedEntries = {
  method: CompressionMethodSchema,
  variant: optionalOrNull(v.string('must be a string when present')),
  target: positive(),
  predictedSpeedup: positive(),
  searchTarget: v.optional(positive(' when present')),
  attempts: optionalOrNull(v.array(MemberAttemptSchema, got('must be an array'))),
  searchError: jsonNumber(),
  search: v.optional(
    jsonObject({
      procedure: v.picklist(['dp', 'spdy'], got('must be "dp" or "spdy"')),
      plainLoss: v.optional(jsonNumber(' when present')),
      loss: v.optional(jsonNumber(' when present')),
      evaluations: v.optional(integer(0)),
    }),
  ),
  layerHeads: layerCounts(),
  layerIntermediate: layerCounts(),
  layerParameters: integer(0),
  totalParameters: v.optional(integer(0)),
  dir: v.string(got('must be a string')),
};

const optionalMetric = () => v.optional(jsonNumber(' when present'));

export const CompoundResultSchema = jsonObject(
  {
    precision: v.picklist(['int8-dynamic', 'int8-static'], got('must be "int8-dynamic" or "int8-static"')),
    shipped: v.picklist(['gptq', 'rtn', 'qat'], got('must be "gptq", "rtn" or "qat"')),
    sparsity: v.pipe(v.number(got('must be a number in [0, 1]')), v.minValue(0, got('must be >= 0')), v.maxValue(1, got('must be <= 1'))),
    metrics: jsonObject({
      fp32: optionalMetric(),
      sparse: optionalMetric(),
      rtn: optionalMetric(),
      gptq: optionalMetric(),
      qat: optionalMetric(),
    }),
    errors: jsonObject({ sparse: optionalMetric(), rtn: jsonNumber(), gptq: jsonNumber() }),
    weightBytes: jsonObject({ fp32: integer(0), int8: integer(0), sparseInt8: integer(0) }),
    onnxGzipBytes: integer(0),
  },
  got('must be an object'),
);

const metricEntry = { metric: optionalMetric(), compound: v.optional(CompoundResultSchema) };

/** Size of the exported model.onnx (written with the files' digests, after the metric). */
const onnxBytesEntry = { onnxBytes: v.optional(integer(0)) };

/** What re-timing the exported member found. */
const verifiedEntries = {
  measuredSpeedup: v.optional(nullAsNaN(positive(' when present'))),
  deviation: v.optional(jsonNumber(' when present')),
  status: optionalOrNull(v.picklist(SPEEDUP_STATUSES, got('must be "pass", "fail" or "inconclusive" when present'))),
  statusReason: v.optional(v.string(got('must be a string when present'))),
  verification: optionalOrNull(MemberVerificationSchema),
};

/** An entry of `results.json`'s `members`. */
export const MemberResultSchema = jsonObject({ ...searchedEntries, ...metricEntry, ...onnxBytesEntry, ...verifiedEntries });

/** `member.json`. */
export const MemberRecordSchema = jsonObject(
  {
    ...searchedEntries,
    keptHeads: v.array(v.array(integer(0), 'must be an array of indices'), 'must be an array of index arrays'),
    keptNeurons: v.array(v.array(integer(0), 'must be an array of indices'), 'must be an array of index arrays'),
    ...metricEntry,
    predictions: v.optional(v.array(integer(0), 'must be an array of class indices')),
    ...onnxBytesEntry,
    files: v.optional(jsonRecord(FileDigestSchema())),
    ...verifiedEntries,
  },
  'must be a JSON object',
);

type _MemberVerificationMatches = Assert<SameShape<v.InferOutput<typeof MemberVerificationSchema>, MemberVerification>>;
type _CompoundResultMatches = Assert<SameShape<v.InferOutput<typeof CompoundResultSchema>, CompoundResult>>;
type _MemberAttemptMatches = Assert<SameShape<v.InferOutput<typeof MemberAttemptSchema>, MemberAttempt>>;
type _MemberResultMatches = Assert<SameShape<v.InferOutput<typeof MemberResultSchema>, MemberResult>>;
type _MemberRecordMatches = Assert<SameShape<v.InferOutput<typeof MemberRecordSchema>, MemberRecord>>;

/**
 * Checks a member record read from `file` (a member directory's member.json). A damaged record is a
 * RunDirectoryError naming the file and the field; removing the member directory recomputes just
 * that member.
 */
export function parseMemberRecord(value: unknown, file: string): MemberRecord {
  const result = checkJson(MemberRecordSchema, value);
  if (!result.ok) {
    throw new RunDirectoryError(file, `${describeIssue(result.field, result.problem)}; remove ${dirname(file)} to recompute this member`);
  }
  return result.output;
}
