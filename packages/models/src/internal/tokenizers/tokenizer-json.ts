// Pieces of a Hugging Face `tokenizer.json` (the format of the Rust `tokenizers` library, read by
// transformers and transformers.js) shared by the WordPiece and byte-level BPE writers. Field names and
// nesting are the file's; see the fixtures' tokenizer.json files written by `tokenizers` 0.23.

/** `tokenizer.json`'s format version (the only one `tokenizers` has written so far). */
export const TOKENIZER_JSON_VERSION = '1.0';

/** An entry of `added_tokens`. */
export interface AddedTokenJson {
  readonly id: number;
  readonly content: string;
  readonly single_word: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly normalized: boolean;
  readonly special: boolean;
}

/**
 * The `added_tokens` entries of ziplm's special tokens, in id order. ziplm finds them verbatim in the raw
 * text before normalization (`normalized: false`, no stripping, anywhere in a word) and drops them when
 * decoding with `skipSpecialTokens` (`special: true`): the same behaviour in `tokenizers`' terms.
 */
export function specialAddedTokens(tokens: readonly string[], idOf: (token: string) => number | undefined): AddedTokenJson[] {
  const entries: AddedTokenJson[] = [];
  for (const content of tokens) {
    const id = idOf(content);
    if (id !== undefined) entries.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  return entries.sort((a, b) => a.id - b.id);
}

/** One element of a TemplateProcessing template: a special token or one of the input sequences, with its type id. */
export type TemplatePiece =
  | { readonly SpecialToken: { readonly id: string; readonly type_id: number } }
  | { readonly Sequence: { readonly id: 'A' | 'B'; readonly type_id: number } };

export const sequencePiece = (id: 'A' | 'B', typeId: number): TemplatePiece => ({ Sequence: { id, type_id: typeId } });
export const specialPiece = (token: string, typeId: number): TemplatePiece => ({ SpecialToken: { id: token, type_id: typeId } });

/** The TemplateProcessing post-processor: templates for one sequence and for a pair, and the ids of the special tokens they name. */
export function templateProcessing(
  single: readonly TemplatePiece[],
  pair: readonly TemplatePiece[],
  specials: ReadonlyArray<{ readonly token: string; readonly id: number }>,
): Record<string, unknown> {
  return {
    type: 'TemplateProcessing',
    single,
    pair,
    special_tokens: Object.fromEntries(specials.map(({ token, id }) => [token, { id: token, ids: [id], tokens: [token] }])),
  };
}

/**
 * A vocabulary as a token → id object (`tokenizers`' `model.vocab`, GPT2's vocab.json), filled in id order;
 * readers take the ids from the values, so the key order (JavaScript lists integer-like keys first) does
 * not matter. Ids without a token are left out. The object has no prototype, so that a token such as
 * `__proto__` becomes an ordinary key instead of replacing the object's prototype (and vanishing from
 * the JSON).
 */
export function vocabObject(tokens: ReadonlyArray<string | undefined>): Record<string, number> {
  const vocab: Record<string, number> = Object.create(null);
  tokens.forEach((token, id) => {
    if (token !== undefined) vocab[token] = id;
  });
  return vocab;
}

/** `JSON.stringify` of a tokenizer.json object, indented as `tokenizers` writes it with `pretty=True`. */
export function tokenizerJsonText(json: Record<string, unknown>): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}
