// One-shot ZipLM end to end on a real DistilBERT (issue 16): the distilbert-tiny-seqcls fixture made by Hugging
// Face transformers (../shared/fixtures/hf, read in place) is given as the model directory and pruned on a small
// SST-2-like task written here. Its members are DistilBERT checkpoints (DistilBERT's names and config.json
// fields, no token types) whose ONNX graphs take input_ids and attention_mask only; `checkEngineParity`
// (`ziplm check`) finds TensorFlow.js and onnxruntime in agreement on the fixture.

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { dataDir, initBackend, isDistilBert, loadModelDir, ONNX_NAMES } from '@ziplm/models';
import { createSession } from '@ziplm/onnx/runtime';
import { describe, expect, it } from 'vitest';
import { runOneShot } from '../../src/oneshot.js';
import { checkEngineParity } from '../../src/parity.js';
import type { ClassificationTaskSpec } from '../../src/tasks/index.js';

const fixtureDir = resolve(dataDir(), '..', 'fixtures', 'hf', 'distilbert-tiny-seqcls');
const skip = existsSync(join(fixtureDir, 'reference.json'))
  ? undefined
  : `skipped: Hugging Face fixture ${fixtureDir} is absent (it is read beside $ZIPLM_DATA_DIR, default ../shared/data)`;

/** An SST-2-shaped TSV (`sentence`, `label` 0/1) of short reviews, in a temp directory. */
function writeReviews(dir: string): string {
  const good = ['a warm and funny film', 'the acting was great', 'i loved this story', 'a good time for all'];
  const bad = ['the plot was bleak and slow', 'a bad and dull film', 'i did not like the end', 'the worst part was the acting'];
  const lines = ['sentence\tlabel'];
  for (let i = 0; i < 80; i++) {
    const positive = i % 2 === 0;
    const pool = positive ? good : bad;
    lines.push(`${pool[i % 4]} , ${pool[(i >> 1) % 4]} .\t${positive ? 1 : 0}`);
  }
  const file = join(dir, 'reviews.tsv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe.skipIf(skip !== undefined)(`DistilBERT end to end${skip ? ` (${skip})` : ''}`, () => {
  it('checkEngineParity finds TensorFlow.js and onnxruntime in agreement on the fixture', async () => {
    await initBackend();
    const model = await loadModelDir(fixtureDir);
    expect(isDistilBert(model.checkpoint.config)).toBe(true);
    const tensors = tf.memory().numTensors;
    const result = await checkEngineParity(model, { repeats: 1 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(result.ok).toBe(true);
    expect(result.maxAbsDiffLogits).toBeLessThan(1e-4);
    expect(result.maxAbsDiffHiddenStates).toBeLessThan(1e-4);
  });

  it('one-shot pruning of the fixture directory writes DistilBERT members that load and run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-distilbert-run-'));
    const task: ClassificationTaskSpec = {
      kind: 'classification',
      name: 'reviews',
      data: writeReviews(dir),
      format: 'tsv',
      columns: { text: 'sentence', label: 'label' },
      labels: ['0', '1'],
    };
    const runDir = join(dir, 'run');
    const results = await runOneShot({
      modelDir: fixtureDir,
      runDir,
      targets: [1.5],
      task,
      methods: ['ziplm'],
      calibrationSamples: 16,
      engine: 'js',
      spdy: false,
      tableRounds: { minRounds: 3, maxRounds: 3 },
      verify: false,
    });
    expect(results.labels).toEqual(['negative', 'positive']);
    expect(results.members).toHaveLength(1);
    const member = results.members[0]!;
    expect(member.predictedSpeedup).toBeGreaterThanOrEqual(1.5);
    expect(member.metric).toBeGreaterThanOrEqual(0);
    const memberDir = join(runDir, member.dir);

    // A DistilBERT checkpoint under DistilBERT's own names and config.json fields.
    const config = JSON.parse(await readFile(join(memberDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.model_type).toBe('distilbert');
    expect(config).toHaveProperty('n_layers', 2);
    expect(config).not.toHaveProperty('type_vocab_size');
    const { checkpoint, tokenizer } = await loadModelDir(memberDir);
    expect(isDistilBert(checkpoint.config)).toBe(true);
    expect(checkpoint.config.layerHeads).toEqual(member.layerHeads);
    expect(checkpoint.config.layerIntermediate).toEqual(member.layerIntermediate);
    expect(tokenizer.encode('a warm film').ids).toEqual((await loadModelDir(fixtureDir)).tokenizer.encode('a warm film').ids);

    // Its ONNX graph has Optimum's DistilBERT inputs and runs.
    const session = await createSession(new Uint8Array(await readFile(join(memberDir, 'model.onnx'))));
    try {
      expect(session.inputNames).toEqual([ONNX_NAMES.inputIds, ONNX_NAMES.attentionMask]);
      expect(session.outputNames[0]).toBe(ONNX_NAMES.logits);
    } finally {
      await session.release();
    }
    // The member passes engine parity too.
    const parity = await checkEngineParity({ checkpoint, tokenizer }, { repeats: 1 });
    expect(parity.ok).toBe(true);
  });
});
