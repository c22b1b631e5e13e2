// A member's record carries the size of its shipped model.onnx (`onnxBytes`), read from the same
// directory listing as its file digests, so the report can show it.

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inferenceEnvironment } from '@ziplm/latency';
import { WordPieceTokenizer } from '@ziplm/models/tokenizers';
import { describe, expect, it } from 'vitest';
import type { MemberRecord } from '../src/results.js';
import { ONNX_FILE, writeMember } from '../src/stages/members.js';
import { tinyBert } from './pipeline-helpers.js';

describe('writeMember', () => {
  it('records the size of model.onnx', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ziplm-member-'));
    try {
      const checkpoint = tinyBert();
      const { numLayers, numHeads, intermediateSize } = checkpoint.config;
      const record: MemberRecord = {
        method: 'ziplm',
        target: 2,
        predictedSpeedup: 2,
        searchError: 0,
        layerHeads: Array(numLayers).fill(numHeads),
        layerIntermediate: Array(numLayers).fill(intermediateSize),
        layerParameters: 0,
        dir: 'members/ziplm-2.00x',
        keptHeads: [],
        keptNeurons: [],
      };
      const tokenizer = new WordPieceTokenizer({ vocab: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a'] });
      const memberDir = join(dir, 'member');
      const written = await writeMember(memberDir, checkpoint, tokenizer, inferenceEnvironment(), record);
      expect(written.onnxBytes).toBe((await stat(join(memberDir, ONNX_FILE))).size);
      expect(written.onnxBytes).toBe(written.files![ONNX_FILE]!.bytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
