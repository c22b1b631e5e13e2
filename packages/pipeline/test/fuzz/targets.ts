// The files of a run directory as fuzz targets: `manifest.json` (opened as a resumed run opens it, under
// the directory's lock, against the run's identity) and a member's `member.json` (read as a resumed run
// reads a finished member: the record, where its `dir` points, the files it lists). Shared by the fuzz
// suite and the corpus replay.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestBytes } from '../../src/internal/files.js';
import { RunDirectory, type RunManifest } from '../../src/internal/run-dir.js';
import type { MemberRecord } from '../../src/results.js';
import { readMember } from '../../src/stages/members.js';
import { sampleMemberRecord, sampleRunIdentity } from '../fixtures/run-records.js';

/** The regression corpus of @ziplm/pipeline: `corpus/<format>/<case>`. */
export const CORPUS_DIR = join(import.meta.dirname, 'corpus');

export const PIPELINE_FUZZ_FORMATS = ['manifest', 'member'] as const;
export type PipelineFuzzFormat = (typeof PIPELINE_FUZZ_FORMATS)[number];

const identity = sampleRunIdentity;

const MEMBER = 'members/ziplm-2.00x';
/** The member's one file: its content is irrelevant, its size and hash are recorded. */
const MODEL_BYTES = new TextEncoder().encode('not really an onnx model, but its digest is recorded\n');

function seedMember(): MemberRecord {
  return { ...sampleMemberRecord(), dir: MEMBER, files: { 'model.onnx': digestBytes(MODEL_BYTES) } };
}

function seedManifest(member: MemberRecord): RunManifest {
  return {
    format: 'ziplm-run',
    version: 1,
    createdAt: '2026-12-04T16:33:26.172Z',
    updatedAt: '2026-12-04T16:36:20.141Z',
    identity,
    versions: { node: 'v20.20.2', '@ziplm/pipeline': '0.0.0' },
    targets: [2],
    members: [
      {
        name: MEMBER,
        method: 'ziplm',
        target: 2,
        layerHeads: member.layerHeads,
        layerIntermediate: member.layerIntermediate,
        keptHeads: member.keptHeads,
        keptNeurons: member.keptNeurons,
        predictedSpeedup: 2.01,
      },
    ],
    tableSha256: 'ef'.repeat(32),
  };
}

export interface PipelineFuzzWorkspace {
  readonly seeds: { readonly manifest: unknown; readonly member: unknown };
  readonly targets: Readonly<Record<PipelineFuzzFormat, (input: Uint8Array) => Promise<unknown>>>;
  dispose(): void;
}

export function pipelineFuzzWorkspace(): PipelineFuzzWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'ziplm-fuzz-pipeline-'));
  const member = seedMember();
  const caseDir = (input: Uint8Array) =>
    join(root, createHash('sha256').update(input).digest('hex').slice(0, 16) + Math.random().toString(36).slice(2, 8));
  return {
    seeds: { manifest: seedManifest(member), member },
    targets: {
      async manifest(input) {
        const dir = caseDir(input);
        mkdirSync(dir);
        try {
          writeFileSync(join(dir, 'manifest.json'), input);
          const run = await RunDirectory.open(dir, identity);
          await run.close();
          return run.manifest;
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      async member(input) {
        const dir = caseDir(input);
        const memberDir = join(dir, MEMBER);
        mkdirSync(memberDir, { recursive: true });
        try {
          writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(seedManifest(member), null, 2)}\n`);
          writeFileSync(join(memberDir, 'model.onnx'), MODEL_BYTES);
          writeFileSync(join(memberDir, 'member.json'), input);
          const run = await RunDirectory.open(dir, identity);
          try {
            return await readMember(run, memberDir);
          } finally {
            await run.close();
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}
