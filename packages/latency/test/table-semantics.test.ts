// Latency tables that pass the schema but cannot be searched (issue 12, item 6): an all-zero table
// (every level time 0, or a dense time of 0) used to produce dense-size members and fail late with an
// unrelated message. It is refused at load, naming the entry.

import { describe, expect, it } from 'vitest';
import { LatencyTableError, parseLatencyTable } from '../src/index.js';
import { handTable } from './helpers.js';

const table = handTable({
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 8,
  attention: { 4: 4, 2: 2.3 },
  ffn: { 8: 6, 4: 3.1 },
  dense: 22,
  nonPrunable: 2,
});

/** The table as JSON with `edit` applied. */
function edited(
  edit: (json: {
    dense: { median: number };
    nonPrunable: { median: number };
    prunable: number;
    attention: { kept: number; time: number }[];
    ffn: { kept: number; time: number }[];
  }) => void,
): unknown {
  const json = JSON.parse(JSON.stringify(table));
  edit(json);
  return json;
}

function refusal(json: unknown): LatencyTableError {
  try {
    parseLatencyTable(json, 'table.json');
  } catch (error) {
    expect(error).toBeInstanceOf(LatencyTableError);
    return error as LatencyTableError;
  }
  throw new Error('accepted');
}

describe('semantic checks after the schema', () => {
  it('an all-zero table is refused naming dense.median', () => {
    const error = refusal(
      edited((json) => {
        json.dense.median = 0;
        json.nonPrunable.median = 0;
        json.prunable = 0;
        for (const level of [...json.attention, ...json.ffn]) level.time = 0;
      }),
    );
    expect(error.field).toBe('dense.median');
    expect(error.message).toMatch(/^table\.json: /);
  });

  it('a table whose every attention and ffn level costs 0 is refused naming the dense attention entry', () => {
    const json = edited((j) => {
      for (const level of [...j.attention, ...j.ffn]) level.time = 0;
    });
    const error = refusal(json);
    const dense = (json as { attention: { kept: number }[] }).attention.findIndex((l) => l.kept === 4);
    expect(error.field).toBe(`attention[${dense}].time`);
    expect(error.message).toContain('cost nothing');
  });

  it('one module at 0 (clamped within noise on a tiny model) still loads', () => {
    expect(() =>
      parseLatencyTable(
        edited((j) => {
          for (const level of j.attention) level.time = 0;
        }),
      ),
    ).not.toThrow();
  });

  it('a table with positive dense times still loads', () => {
    expect(parseLatencyTable(JSON.parse(JSON.stringify(table))).attention[0]).toMatchObject({ kept: 4, time: 4 });
  });
});
