// Building blocks for the valibot schemas of the JSON files ziplm reads (latency tables in @ziplm/latency,
// run directories in @ziplm/pipeline): objects whose missing keys read like wrong values, the field path
// of an issue, and the compile-time check that a schema and the documented type it parses into agree.
// This entry needs valibot (an optional peer); the main entry of @ziplm/core stays dependency-free.

import * as v from 'valibot';

/** A plain JSON object: not an array, not null. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A missing key is reported by valibot as an issue of the enclosing object; report it with the message
 * the key's own schema gives for no value instead (e.g. `is missing`, or `must be a finite number > 0
 * (got undefined)`), so that a missing field reads the same as a wrong one.
 */
function missingKeyMessage(entries: v.ObjectEntries, issue: v.ObjectIssue): string {
  const key = issue.path?.[0]?.key;
  const schema = typeof key === 'string' ? entries[key] : undefined;
  return (schema && v.safeParse(schema, undefined, { abortEarly: true }).issues?.[0].message) ?? 'is missing';
}

/** An object with these entries (unknown keys are dropped), each missing key reported by its own schema. */
export function entriesObject<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.object(entries, (issue) => missingKeyMessage(entries, issue));
}

/** An object with these entries; anything else, arrays and null included, fails with `problem`. */
export function jsonObject<const TEntries extends v.ObjectEntries>(
  entries: TEntries,
  problem: v.ErrorMessage<v.CustomIssue> = 'must be an object',
) {
  return v.pipe(v.custom<Record<string, unknown>>(isJsonObject, problem), entriesObject(entries));
}

/** The dotted path of an issue, e.g. `members[3].verification.denseMs`; `(root)` for the document itself. */
export function issueField(issue: v.BaseIssue<unknown>): string {
  let field = '';
  for (const item of issue.path ?? []) field += typeof item.key === 'number' ? `[${item.key}]` : `${field ? '.' : ''}${String(item.key)}`;
  return field || '(root)';
}

// Compile-time drift checks (`Assert<SameShape<v.InferOutput<typeof Schema>, DocumentedType>>`): a schema and
// the documented interface it parses into must have the same keys, optionality and value types, so neither
// can change without the other.
/** Compiles only when `T` is `true`. */
export type Assert<T extends true> = T;
type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** T without readonly modifiers, recursively. */
type DeepMutable<T> = T extends readonly (infer U)[]
  ? DeepMutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: DeepMutable<T[K]> }
    : T;
/** The same with every key required: exposes an optional key that one side lacks. */
type DeepRequired<T> = T extends readonly (infer U)[]
  ? DeepRequired<U>[]
  : T extends object
    ? { -readonly [K in keyof T]-?: DeepRequired<T[K]> }
    : T;
/** True when A and B have the same keys, optionality and value types (readonly aside). */
export type SameShape<A, B> =
  MutuallyAssignable<DeepMutable<A>, DeepMutable<B>> extends true ? MutuallyAssignable<DeepRequired<A>, DeepRequired<B>> : false;
