// Tokenizers of @ziplm/models: BERT WordPiece and GPT2 byte-level BPE, their loaders and trainers.
export * from './types.js';
export {
  isBertControl,
  isBertPunctuation,
  isBertWhitespace,
  isChineseChar,
  makeBertBasicTokenizer,
  resolveBertNormalizer,
  type BasicWord,
  type BertNormalizerOptions,
  type ResolvedBertNormalizer,
} from './bert-basic.js';
export { addedTokenCount, postProcess, type SpecialTemplate } from './postprocess.js';
export { BERT_SPECIAL_TOKENS, WordPieceTokenizer, cleanUpTokenization, type WordPieceTokenizerOptions } from './wordpiece.js';
export {
  BYTE_ORDER,
  BYTE_TO_UNICODE,
  ByteLevelBpeTokenizer,
  GPT2_EOS_TOKEN,
  GPT2_SPLIT_SOURCE,
  gpt2SplitPattern,
  type ByteLevelBpeOptions,
} from './bpe.js';
export {
  loadByteLevelBpe,
  loadByteLevelBpeTokenizerJson,
  loadTokenizer,
  loadWordPieceTokenizerJson,
  loadWordPieceVocabTxt,
  parseMerges,
  parseVocabTxt,
  readBertTokenizerConfig,
} from './load.js';
export {
  trainByteLevelBpe,
  trainWordPieceVocab,
  type ByteLevelBpeTrainerOptions,
  type TrainedByteLevelBpe,
  type WordPieceTrainerOptions,
} from './train.js';
