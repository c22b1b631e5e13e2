// A member record updated with spread syntax (a re-search adds `attempts` and `searchTarget` to a record
// that had none) gets its new keys last; updateMember writes it in the schema's order, so that member.json
// read back and written again is byte-identical, whatever path produced it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MemberRecord } from '../src/results.js';
import { parseMemberRecord } from '../src/schemas/member.js';
import { MEMBER_FILE, updateMember } from '../src/stages/members.js';
import { sampleMemberRecord } from './fixtures/run-records.js';

describe('updateMember', () => {
  it("writes a record's keys in the schema's order, however the record was assembled", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-member-order-'));
    const plain = sampleMemberRecord();
    const updated: MemberRecord = {
      ...plain,
      searchTarget: 2.1,
      attempts: [{ searchTarget: 2, predictedSpeedup: 2, measuredSpeedup: 1.9, layerHeads: [1, 1], layerIntermediate: [8, 8] }],
    };
    // Spread syntax put the two keys last.
    expect(Object.keys(updated).slice(-2)).toEqual(['searchTarget', 'attempts']);
    await updateMember(dir, updated);
    const text = readFileSync(join(dir, MEMBER_FILE), 'utf8');
    const readBack = parseMemberRecord(JSON.parse(text), join(dir, MEMBER_FILE));
    expect(readBack).toEqual(updated);
    expect(`${JSON.stringify(readBack, null, 2)}\n`).toBe(text);
    expect(Object.keys(JSON.parse(text)).indexOf('attempts')).toBeLessThan(Object.keys(JSON.parse(text)).indexOf('layerHeads'));
  });
});
