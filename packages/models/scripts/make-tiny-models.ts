// Generates the built-in tiny models in assets/ (deterministic: same data, same bytes).
//
//   pnpm exec tsx --conditions=@ziplm/source scripts/make-tiny-models.ts [outDir]
//
// - tiny-bert: BertForSequenceClassification (labels negative/positive), 4 layers, hidden 48,
//   6 heads, FFN 192 (4x hidden), 128 positions, with a 1024-token WordPiece vocabulary.
// - tiny-gpt2: GPT2LMHeadModel, 4 layers, hidden 48, 6 heads, FFN 192, 128 positions, with a
//   1024-token byte-level BPE vocabulary (256 byte symbols + 767 merges + <|endoftext|>).
// Both vocabularies are trained by the project's own trainers (src/tokenizers/train.ts) on the
// sentences of the SST-2 training split read in place from the data directory (never copied);
// the weights are random (seeded), Hugging Face's initialisation (N(0, 0.02²), LayerNorm 1/0).
// Each model is < 1 MB.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bertConfig, gpt2Config } from '../src/config.js';
import { dataPath, readGlue } from '../src/data/index.js';
import { builtinModelDir } from '../src/io/builtin.js';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import { randomCheckpoint } from '../src/random.js';
import { GPT2_EOS_TOKEN } from '../src/tokenizers/bpe.js';
import { ByteLevelBpeTokenizer, WordPieceTokenizer, trainByteLevelBpe, trainWordPieceVocab } from '../src/tokenizers/index.js';

/** Shape shared by both tiny models. */
export const TINY_SHAPE = { hiddenSize: 48, numLayers: 4, numHeads: 6, intermediateSize: 192, maxPositions: 128 } as const;
/** Vocabulary size of both tiny models. */
export const TINY_VOCAB_SIZE = 1024;
const SEED = 20230214; // arXiv 2302.04089

/** Where the vocabularies' training text comes from, relative to the data directory. */
export const TINY_VOCAB_CORPUS = ['glue', 'sst2', 'train.tsv'] as const;

/** The sentences of SST-2's training split (read in place; a DataError names a missing file). */
export function readSst2Sentences(): string[] {
  return readGlue(dataPath(...TINY_VOCAB_CORPUS), 'sst2').map((e) => e.textA);
}

/** Writes tiny-bert and tiny-gpt2 under `outDir` (default: the package's assets/). Returns their directories. */
export async function makeTinyModels(outDir?: string, sentences?: string[]): Promise<{ bert: string; gpt2: string }> {
  const texts = sentences ?? readSst2Sentences();
  const bertDir = outDir ? join(outDir, 'tiny-bert') : builtinModelDir('tiny-bert');
  const gpt2Dir = outDir ? join(outDir, 'tiny-gpt2') : builtinModelDir('tiny-gpt2');

  const wordpiece = new WordPieceTokenizer({ vocab: trainWordPieceVocab(texts, { vocabSize: TINY_VOCAB_SIZE }) });
  const bert = bertConfig({
    ...TINY_SHAPE,
    vocabSize: wordpiece.vocabSize,
    padTokenId: wordpiece.padId,
    typeVocabSize: 2,
    head: { type: 'classification', labels: ['negative', 'positive'] },
  });
  await saveCheckpoint(bertDir, randomCheckpoint(bert, { seed: SEED }), { tokenizer: wordpiece });

  const bpe = trainByteLevelBpe(texts, { vocabSize: TINY_VOCAB_SIZE });
  const bpeTokenizer = new ByteLevelBpeTokenizer(bpe);
  const eos = bpe.vocab.indexOf(GPT2_EOS_TOKEN);
  const gpt2 = gpt2Config({ ...TINY_SHAPE, vocabSize: bpeTokenizer.vocabSize, bosTokenId: eos, eosTokenId: eos });
  await saveCheckpoint(gpt2Dir, randomCheckpoint(gpt2, { seed: SEED + 1 }), { tokenizer: bpeTokenizer });
  return { bert: bertDir, gpt2: gpt2Dir };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  const dirs = await makeTinyModels(process.argv[2]);
  console.log(`wrote ${dirs.bert} and ${dirs.gpt2} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
