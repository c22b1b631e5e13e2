// @ziplm/models/tokenizers: BERT WordPiece, GPT2 / Llama 3 byte-level BPE and SentencePiece-style BPE
// (Llama 2, Mistral) as Hugging Face runs them, their loaders and vocabulary trainers. Loads neither
// TensorFlow.js nor onnxruntime.

// The tokenizer contract and its encodings (shapes as in Hugging Face `tokenizers`).
export { TokenizationError } from './types.js';
export type {
  DecodeOptions,
  EncodeOptions,
  Encoding,
  OverflowEncodeOptions,
  TokenizerConfigJson,
  TokenSequence,
  Tokenizer,
  TruncationStrategy,
} from './types.js';

// The tokenizers: BERT WordPiece, byte-level BPE (GPT2, Llama 3), SentencePiece-style BPE (Llama 2, Mistral).
export { WordPieceTokenizer } from './wordpiece.js';
export type { WordPieceTokenizerOptions } from './wordpiece.js';
export type { BertNormalizerOptions } from './bert-basic.js';
export { ByteLevelBpeTokenizer } from './bpe.js';
export type { ByteLevelBpeOptions } from './bpe.js';
export { SentencePieceBpeTokenizer } from './sentencepiece-bpe.js';
export type { SentencePieceAddedToken, SentencePieceBpeOptions } from './sentencepiece-bpe.js';

// Loading a Hugging Face tokenizer directory (a missing or malformed file raises VocabularyError).
export { loadTokenizer } from './load.js';
export { VocabularyError } from '../errors.js';

// Training vocabularies of your own.
export { trainByteLevelBpe, trainWordPieceVocab } from './train.js';
export type { ByteLevelBpeTrainerOptions, TrainedByteLevelBpe, WordPieceTrainerOptions } from './train.js';
