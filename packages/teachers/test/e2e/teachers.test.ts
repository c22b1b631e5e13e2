// The committed teachers: self-contained model directories that load with loadModelDir and still give the
// figures their recipes reported (a change in the model code that alters their outputs fails here).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateClassification, type TrainingExample } from '@ziplm/distill';
import {
  buildWordOrderCorpus,
  createModel,
  dataPath,
  hasData,
  headDim,
  initBackend,
  loadModelDir,
  readGlue,
  shrinkWeights,
  WORD_ORDER_DATA_FILES,
  type Checkpoint,
} from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { teacherDir } from '../../src/index.js';

const sst2Dir = teacherDir('sst2-bert');
const gpt2Dir = teacherDir('wikitext2-gpt2');

describe('committed teachers', () => {
  it('teacherDir resolves the shipped directories and rejects unknown names', () => {
    expect(existsSync(`${sst2Dir}/config.json`)).toBe(true);
    expect(() => teacherDir('nope' as 'sst2-bert')).toThrow(/unknown teacher/);
  });

  it('sst2-bert loads on its own and has a prunable shape', async () => {
    const { checkpoint, tokenizer } = await loadModelDir(sst2Dir);
    const c = checkpoint.config;
    expect(c.modelType).toBe('bert');
    expect(c.numLayers).toBeGreaterThanOrEqual(4);
    expect(c.numHeads).toBeGreaterThanOrEqual(4);
    expect(headDim(c)).toBeGreaterThanOrEqual(32);
    expect(c.intermediateSize).toBe(4 * c.hiddenSize);
    // The project's own vocabulary (bert-base-uncased has 30,522 tokens).
    expect(tokenizer.vocabSize).toBe(c.vocabSize);
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(8000);
  });

  it('sst2-bert is small: under 10 MB in total', () => {
    const files = readdirSync(sst2Dir);
    expect(files.sort()).toEqual(['config.json', 'model.safetensors', 'results.json', 'tokenizer_config.json', 'vocab.txt']);
    const total = files.reduce((sum, f) => sum + statSync(join(sst2Dir, f)).size, 0);
    expect(total).toBeLessThan(10 * 2 ** 20);
  });

  it('no file of a committed teacher is a copy of a file of $ZIPLM_DATA_DIR/vocab', (ctx) => {
    if (!hasData('vocab')) ctx.skip(`no vocabularies at ${dataPath('vocab')} (set ZIPLM_DATA_DIR): nothing to compare against`);
    const vocabDir = dataPath('vocab');
    const shared = readdirSync(vocabDir)
      .map((f) => join(vocabDir, f))
      .filter((f) => statSync(f).isFile())
      .map((f) => ({ file: f, bytes: readFileSync(f) }));
    expect(shared.length).toBeGreaterThan(0);
    for (const dir of [sst2Dir, gpt2Dir]) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        const bytes = readFileSync(join(dir, name));
        const copies = shared.filter((s) => s.bytes.length === bytes.length && s.bytes.equals(bytes)).map((s) => s.file);
        expect(copies, `${join(dir, name)} is byte-identical to ${copies.join(', ')}`).toEqual([]);
      }
    }
  });

  it.skipIf(!hasData('glue/sst2/dev.tsv'))('sst2-bert reproduces its reported dev accuracy', async () => {
    await initBackend('wasm');
    const { checkpoint, tokenizer } = await loadModelDir(sst2Dir);
    const reported = JSON.parse(readFileSync(`${sst2Dir}/results.json`, 'utf8')).metrics.devAccuracy as number;
    const dev: TrainingExample[] = readGlue(dataPath('glue', 'sst2', 'dev.tsv'), 'sst2').map((e) => {
      const enc = tokenizer.encode(e.textA, undefined, { maxLength: 64 });
      return { inputIds: enc.ids, typeIds: enc.typeIds, label: e.label };
    });
    const model = createModel(checkpoint);
    const { accuracy, count } = await evaluateClassification(model, dev, { batchSize: 64 });
    model.dispose();
    expect(count).toBe(872);
    // The same backend gives the same number; allow one flipped borderline example for another backend.
    expect(Math.abs(accuracy - reported)).toBeLessThanOrEqual(1 / 872 + 1e-12);
    expect(accuracy).toBeGreaterThan(0.75);
  });

  it.skipIf(!existsSync(`${gpt2Dir}/model.safetensors`))('wikitext2-gpt2 loads on its own and has a prunable shape', async () => {
    const { checkpoint, tokenizer } = await loadModelDir(gpt2Dir);
    const c = checkpoint.config;
    expect(c.modelType).toBe('gpt2');
    expect(c.numLayers).toBeGreaterThanOrEqual(4);
    expect(c.numHeads).toBeGreaterThanOrEqual(4);
    expect(c.intermediateSize).toBe(4 * c.hiddenSize);
    expect(tokenizer.vocabSize).toBe(c.vocabSize);
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(8000);
  });
});

describe('the BERT testbed (wordorder-bert)', () => {
  const dir = teacherDir('wordorder-bert');

  it("loads on its own, is under 10 MB, and has the SST-2 teacher's prunable shape", async () => {
    const { checkpoint, tokenizer } = await loadModelDir(dir);
    const c = checkpoint.config;
    expect(c.modelType).toBe('bert');
    expect([c.numLayers, c.numHeads, c.hiddenSize, c.intermediateSize]).toEqual([4, 4, 128, 512]);
    expect(tokenizer.vocabSize).toBe(c.vocabSize);
    const total = readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(total).toBeLessThan(10 * 2 ** 20);
  });

  // Re-measures the criterion the unit test reads from results.json, with the structures removed here
  // (shrinkWeights), not by the recipe's code: the committed figures are what the model does.
  it.skipIf(!hasData(...WORD_ORDER_DATA_FILES))(
    're-measures its ablation: no attention and no FFN cost what results.json says',
    async () => {
      await initBackend('wasm');
      const { checkpoint, tokenizer } = await loadModelDir(dir);
      const reported = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
        ablation: { dense: number; noAttention: number; noFfn: number };
        options: { maxLength: number };
      };
      const [sst2Train, wikitext, squad] = WORD_ORDER_DATA_FILES.map((f) => dataPath(...f.split('/'))) as [string, string, string];
      const heldout: TrainingExample[] = buildWordOrderCorpus({ sst2Train, wikitext, squad }).heldout.map((e) => {
        const enc = tokenizer.encode(e.text, undefined, { maxLength: reported.options.maxLength });
        return { inputIds: enc.ids, typeIds: enc.typeIds, label: e.label };
      });
      const accuracy = async (c: Checkpoint) => {
        const model = createModel(c);
        try {
          return 100 * (await evaluateClassification(model, heldout, { batchSize: 64 })).accuracy;
        } finally {
          model.dispose();
        }
      };
      const { numLayers, numHeads, intermediateSize } = checkpoint.config;
      const all = (n: number) => Array.from({ length: n }, (_, i) => i);
      const layers = (f: () => number[]) => Array.from({ length: numLayers }, f);
      const dense = await accuracy(checkpoint);
      const noAttention = await accuracy(
        shrinkWeights(checkpoint, { heads: layers(() => []), neurons: layers(() => all(intermediateSize)) }),
      );
      const noFfn = await accuracy(shrinkWeights(checkpoint, { heads: layers(() => all(numHeads)), neurons: layers(() => []) }));
      // Same backend, same numbers; one flipped borderline example allowed for another backend.
      const oneExample = 100 / heldout.length + 1e-9;
      expect(Math.abs(dense - reported.ablation.dense)).toBeLessThanOrEqual(oneExample + 0.005);
      expect(Math.abs(noAttention - reported.ablation.noAttention)).toBeLessThanOrEqual(oneExample + 0.005);
      expect(Math.abs(noFfn - reported.ablation.noFfn)).toBeLessThanOrEqual(oneExample + 0.005);
    },
  );
});
