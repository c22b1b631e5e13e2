// One schema per file format of a run directory (valibot), each with a parse function that throws
// the pipeline's typed errors naming the file and the field.
export { DENSE_SCORES_FILE, DenseScoresSchema, parseDenseScores, type DenseScoresRecord } from './dense-scores.js';
export { RunManifestSchema, parseRunManifest, type ManifestMember, type RunIdentity, type RunManifest } from './manifest.js';
export {
  COMPRESSION_METHODS,
  CompressionMethodSchema,
  MemberAttemptSchema,
  MemberRecordSchema,
  MemberResultSchema,
  MemberVerificationSchema,
  parseMemberRecord,
} from './member.js';
export { RunResultsSchema, parseRunResults } from './results.js';
