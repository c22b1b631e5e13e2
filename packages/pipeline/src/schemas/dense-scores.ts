// `dense-scores.json` of a run directory: the dense model's task metric (and per-item predictions on
// classification tasks), saved so that a resumed run does not score the dense model again.

import * as v from 'valibot';
import { RunDirectoryError } from '../errors.js';
import { type Assert, type SameShape, checkJson, describeIssue, integer, jsonNumber, jsonObject } from './json.js';

/** File name of the dense model's scores inside the run directory. */
export const DENSE_SCORES_FILE = 'dense-scores.json';

/** The dense model's scores as stored (`Scores` with its predictions as a plain array). */
export interface DenseScoresRecord {
  /** May be NaN (stored as null) when the metric was not finite. */
  readonly metric: number;
  /** Predicted class per evaluation item (classification tasks), for paired comparisons. */
  readonly predictions?: readonly number[];
}

export const DenseScoresSchema = jsonObject(
  {
    metric: jsonNumber(),
    predictions: v.optional(v.array(integer(0), 'must be an array of class indices')),
  },
  'must be a JSON object',
);

type _DenseScoresMatches = Assert<SameShape<v.InferOutput<typeof DenseScoresSchema>, DenseScoresRecord>>;

/**
 * Checks dense scores read from `file`. A damaged file is a RunDirectoryError naming the file and the
 * field; removing it makes the next run score the dense model again.
 */
export function parseDenseScores(value: unknown, file: string): DenseScoresRecord {
  const result = checkJson(DenseScoresSchema, value);
  if (!result.ok) {
    throw new RunDirectoryError(file, `${describeIssue(result.field, result.problem)}; remove it to score the dense model again`);
  }
  return result.output;
}
