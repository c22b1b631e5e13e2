// Building blocks of the run directory's file schemas (valibot), worded as the pipeline's errors have
// always been worded: `must be a finite number > 0 (got 0)`, with the field as a path such as
// `members[3].verification.denseMs`. Each parse function takes the first issue (`firstIssue`) and
// throws its own typed error (RunDirectoryError or ReportError) naming the file.

import { type Assert, isJsonObject, issueField, jsonObject, type SameShape } from '@ziplm/core/schema';
import * as v from 'valibot';

type Issue = v.BaseIssue<unknown>;

/** `problem (got <value>)`; a missing field reads `(got undefined)`. */
export const got =
  (problem: string) =>
  (issue: Issue): string =>
    `${problem} (got ${JSON.stringify(issue.input)})`;

export { jsonObject };

/** An object of any keys, each value checked by `value`; anything else fails with `problem`. */
export function jsonRecord<const TValue extends v.GenericSchema>(
  value: TValue,
  problem: v.ErrorMessage<v.CustomIssue> = 'must be an object',
) {
  return v.pipe(v.custom<Record<string, unknown>>(isJsonObject, problem), v.record(v.string(), value));
}

/** A finite number > 0 (speedups, times); `when` qualifies the message, e.g. ' when present'. */
export const positive = (when = '') => {
  const message = got(`must be a finite number > 0${when}`);
  return v.pipe(v.number(message), v.finite(message), v.gtValue(0, message));
};

/** An integer >= min (counts, layer sizes). */
export const integer = (min: number) => {
  const message = got(`must be an integer >= ${min}`);
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message));
};

/**
 * A number field as JSON stores it: JSON.stringify writes NaN and ±Infinity as null, so null reads
 * back as NaN (what was written is what is read); other values must pass `schema`.
 */
export const nullAsNaN = <const TSchema extends v.GenericSchema<unknown, number>>(schema: TSchema) =>
  v.pipe(
    v.nullable(schema),
    v.transform((value) => value ?? Number.NaN),
  );

/** Any number, NaN and ±Infinity included (metrics and errors are shown as they are); null reads as NaN. */
export const jsonNumber = (when = '') => nullAsNaN(v.custom<number>((value) => typeof value === 'number', got(`must be a number${when}`)));

/** An optional field that may also be JSON null: both read as absent. */
export const optionalOrNull = <const TSchema extends v.GenericSchema>(schema: TSchema) =>
  v.optional(
    v.pipe(
      v.nullable(schema),
      v.transform((value) => value ?? undefined),
    ),
  );

/** A field's problem as a sentence: `"members[3].target" must be …`, or just the problem for the whole document. */
export function describeIssue(field: string, problem: string): string {
  return field === '(root)' ? problem : `"${field}" ${problem}`;
}

/**
 * Parses `value`; on failure, the first issue as a field path (e.g. `members[3].target`, `(root)`)
 * and a problem, for the caller's typed error.
 */
export function checkJson<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  value: unknown,
): { ok: true; output: v.InferOutput<TSchema> } | { ok: false; field: string; problem: string } {
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (result.success) return { ok: true, output: result.output };
  const issue = result.issues[0];
  return { ok: false, field: issueField(issue), problem: issue.message };
}

// Compile-time drift checks (`Assert<SameShape<v.InferOutput<typeof Schema>, DocumentedType>>`): @ziplm/core/schema.
export type { Assert, SameShape };
