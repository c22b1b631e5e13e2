// @ziplm/core/schema: objects whose missing keys read like wrong values, and field paths of issues.
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { issueField, jsonObject } from '../src/schema.js';

const Point = jsonObject(
  { x: v.number('must be a number'), tags: v.array(jsonObject({ name: v.string('must be a string') })) },
  'must be a point',
);

function firstIssue(value: unknown): { field: string; message: string } {
  const result = v.safeParse(Point, value, { abortEarly: true });
  if (result.success) throw new Error('expected an issue');
  return { field: issueField(result.issues[0]), message: result.issues[0].message };
}

describe('@ziplm/core/schema', () => {
  it('parses a valid object and drops unknown keys', () => {
    expect(v.parse(Point, { x: 1, tags: [{ name: 'a', extra: 1 }], extra: true })).toEqual({ x: 1, tags: [{ name: 'a' }] });
  });

  it('refuses arrays, null and primitives with the given problem', () => {
    for (const value of [[], null, 3, 'x']) expect(firstIssue(value)).toEqual({ field: '(root)', message: 'must be a point' });
  });

  it('reports a missing key with the message of its own schema, at its path', () => {
    expect(firstIssue({ tags: [] })).toEqual({ field: 'x', message: 'must be a number' });
    expect(firstIssue({ x: 1, tags: [{ name: 'a' }, {}] })).toEqual({ field: 'tags[1].name', message: 'must be a string' });
  });
});
