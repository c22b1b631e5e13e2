// `results.json`: what a run found (RunResults), written at the end of every run and read back by
// `ziplm report`. Its members are checked by the member schema; what a schema cannot say (every
// member's per-layer sizes agree with the model) is checked after parsing.

import * as v from 'valibot';
import { ReportError } from '../report/errors.js';
import type { Comparison, MetricInfo, RunResults } from '../results.js';
import { type Assert, type SameShape, checkJson, got, integer, jsonNumber, jsonObject, positive } from './json.js';
import { COMPRESSION_METHODS, CompressionMethodSchema, MemberResultSchema } from './member.js';

const MetricInfoSchema = jsonObject({
  name: v.string('must be a string'),
  label: v.string('must be a string'),
  higherIsBetter: v.boolean('must be a boolean'),
  items: v.optional(integer(0)),
  chance: v.optional(jsonNumber(' when present')),
});

const ComparisonSchema = jsonObject({
  target: positive(),
  method: CompressionMethodSchema,
  variant: v.optional(v.string('must be a string when present')),
  baseline: v.picklist(['dense', ...COMPRESSION_METHODS], got(`must be "dense" or one of ${COMPRESSION_METHODS.join(', ')}`)),
  wins: integer(0),
  losses: integer(0),
  pValue: jsonNumber(),
});

/** `results.json`; entries in the order the pipeline writes them. */
export const RunResultsSchema = jsonObject({
  format: v.literal('ziplm-run-results', got('must be "ziplm-run-results"')),
  version: v.literal(1, got('must be 1')),
  mode: v.picklist(['oneshot', 'gradual'], got('must be "oneshot" or "gradual"')),
  task: v.string('must be a string'),
  labels: v.optional(v.array(v.string('must be strings'), 'must be an array of strings when present')),
  metric: MetricInfoSchema,
  model: jsonObject({
    modelType: v.picklist(['bert', 'gpt2', 'llama'], got('must be "bert", "gpt2" or "llama"')),
    family: v.optional(v.string()),
    numLayers: integer(1),
    hiddenSize: integer(1),
    numHeads: integer(1),
    intermediateSize: integer(1),
    layerParameters: integer(0),
  }),
  environment: v.string('must be a string'),
  dense: jsonObject({
    timeMs: positive(),
    int8TimeMs: v.optional(positive(' when present')),
    metric: v.optional(jsonNumber(' when present')),
  }),
  members: v.array(MemberResultSchema, 'must be an array'),
  notes: v.array(v.string('must be a string'), 'must be an array of strings'),
  comparisons: v.optional(v.array(ComparisonSchema, 'must be an array')),
});

type _MetricInfoMatches = Assert<SameShape<v.InferOutput<typeof MetricInfoSchema>, MetricInfo>>;
type _ComparisonMatches = Assert<SameShape<v.InferOutput<typeof ComparisonSchema>, Comparison>>;
type _RunResultsMatches = Assert<SameShape<v.InferOutput<typeof RunResultsSchema>, RunResults>>;

/** One entry per layer, each within the dense size. */
function checkLayerSizes(sizes: readonly number[], field: string, layers: number, dense: number, file?: string): void {
  if (sizes.length !== layers) throw new ReportError(field, `has ${sizes.length} entries, the model has ${layers} layers`, file);
  sizes.forEach((size, i) => {
    if (size > dense) throw new ReportError(`${field}[${i}]`, `must be an integer in [0, ${dense}] (got ${JSON.stringify(size)})`, file);
  });
}

/**
 * Checks run results (read from `file`, when given) and returns them typed: the schema, then every
 * member's per-layer sizes against the model. Speedups and times must be finite and positive;
 * metrics may be absent or not finite (shown as such).
 * @throws {ReportError} naming the file and the first offending field (e.g. `members[3].layerHeads`).
 */
export function parseRunResults(value: unknown, file?: string): RunResults {
  const result = checkJson(RunResultsSchema, value);
  if (!result.ok) throw new ReportError(result.field, result.problem, file);
  const results = result.output;
  const { numLayers, numHeads, intermediateSize } = results.model;
  results.members.forEach((member, i) => {
    checkLayerSizes(member.layerHeads, `members[${i}].layerHeads`, numLayers, numHeads, file);
    checkLayerSizes(member.layerIntermediate, `members[${i}].layerIntermediate`, numLayers, intermediateSize, file);
  });
  return results;
}
