// The Hugging Face fixtures made with the real libraries (../shared/fixtures/hf, its README says how). They
// are read in place, never copied. Their directory follows from the one configurable path to ../shared:
// `fixtures/hf` beside the data directory (`dataDir()`, `$ZIPLM_DATA_DIR` or ../shared/data).
// Tests that need a fixture skip, saying which path was missing, when it is absent.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dataDir } from '../src/data/index.js';

/** The directory holding the fixtures (it may not exist). */
export function hfFixturesDir(): string {
  return resolve(dataDir(), '..', 'fixtures', 'hf');
}

/** The directory of one fixture, e.g. `hfFixture('gpt2-tiny-lm')`, and why a test using it skips (undefined when present). */
export function hfFixture(name: string): { readonly dir: string; readonly skip: string | undefined } {
  const dir = join(hfFixturesDir(), name);
  const skip = existsSync(join(dir, 'reference.json'))
    ? undefined
    : `skipped: Hugging Face fixture ${dir} is absent (it is read beside $ZIPLM_DATA_DIR, default ../shared/data)`;
  return { dir, skip };
}

/** A float tensor of reference.json: `{ dtype, shape, data: base64 of little-endian float32 }`. */
export interface ReferenceTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A tensor as reference.json stores it. */
export interface EncodedTensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly data: string;
}

/** Decodes a reference.json tensor into float32 values. */
export function decodeTensor(t: EncodedTensor): ReferenceTensor {
  if (t.dtype !== 'float32') throw new Error(`reference.json: expected a float32 tensor, got ${t.dtype}`);
  const bytes = Buffer.from(t.data, 'base64');
  // Copy into an aligned buffer: a Buffer's byteOffset need not be a multiple of 4.
  const data = new Float32Array(bytes.length / 4);
  new Uint8Array(data.buffer).set(bytes);
  return { shape: t.shape, data };
}

/** What the decoder fixtures' reference.json holds that the tests use. */
export interface DecoderReference {
  readonly inputIds: number[][];
  readonly attentionMask: number[][];
  /** `torch.logits` [batch, seq, vocab] (padded positions included). */
  readonly logits: ReferenceTensor;
  /** `torch.last_layer_output_before_final_norm` [batch, seq, hidden]. */
  readonly lastLayerOutput: ReferenceTensor;
}

/** Reads a decoder fixture's reference.json. */
export function readDecoderReference(dir: string): DecoderReference {
  const json = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
    input_ids: number[][];
    attention_mask: number[][];
    torch: { logits: EncodedTensor; last_layer_output_before_final_norm: EncodedTensor };
  };
  return {
    inputIds: json.input_ids,
    attentionMask: json.attention_mask,
    logits: decodeTensor(json.torch.logits),
    lastLayerOutput: decodeTensor(json.torch.last_layer_output_before_final_norm),
  };
}
