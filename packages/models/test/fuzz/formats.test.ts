// Fuzzing every file format @ziplm/models reads (issue 12): ZIPLM_FUZZ_RUNS (default 1,000) seeded cases
// per format, mutated from small valid seeds; each must end in a typed ziplm error or a valid result
// within its time limit, with a bounded heap. Failing cases belong in corpus/ (see corpus.test.ts).

import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { fuzzFormat, mutatedBytes, mutatedJson, mutatedJsonBytes, mutatedText, utf8 } from '@ziplm/test-utils';
import type { FuzzFormatOptions } from '@ziplm/test-utils';
import { CORPUS_DIR, MODELS_FUZZ_FORMATS, modelsFuzzWorkspace, type ModelsFuzzFormat, type ModelsFuzzWorkspace } from './targets.js';
import { MODELS_KNOWN_FAILURES } from './known-failures.js';

let workspace: ModelsFuzzWorkspace;
beforeAll(async () => {
  workspace = await modelsFuzzWorkspace();
});
afterAll(() => workspace?.dispose());

/** A safetensors file from a header object and a data section, with the length prefix the header really has. */
function safetensorsFile(header: unknown, data: Uint8Array): Uint8Array {
  const json = utf8(JSON.stringify(header) ?? '');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Header-level mutations of a safetensors file: edited JSON (dtypes, shapes, offsets), the data section cut or grown. */
function safetensorsInputs(seed: Uint8Array): fc.Arbitrary<Uint8Array> {
  const headerLength = Number(new DataView(seed.buffer, seed.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(seed.subarray(8, 8 + headerLength)));
  const data = seed.subarray(8 + headerLength);
  return fc.oneof(
    { weight: 2, arbitrary: mutatedBytes(seed, { lengthFields: [{ offset: 0, bytes: 8 }] }) },
    { weight: 3, arbitrary: mutatedJson(header).map((h) => safetensorsFile(h, data)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.nat({ max: data.length + 64 }), fc.boolean())
        .map(([n, grow]) => safetensorsFile(header, grow ? new Uint8Array(data.length + n) : data.subarray(0, n))),
    },
  );
}

const extensions: Record<ModelsFuzzFormat, FuzzFormatOptions['extension']> = {
  safetensors: 'bin',
  config: 'json',
  'vocab-txt': 'txt',
  'tokenizer-config': 'json',
  'vocab-json': 'json',
  'merges-txt': 'txt',
  'tokenizer-json': 'json',
  tsv: 'txt',
  squad: 'json',
  wikitext: 'txt',
};

function inputsOf(format: ModelsFuzzFormat): fc.Arbitrary<Uint8Array> {
  const { seeds } = workspace;
  switch (format) {
    case 'safetensors':
      return safetensorsInputs(seeds.safetensors);
    case 'config':
      return fc.oneof(mutatedJsonBytes(seeds.bertConfig), mutatedJsonBytes(seeds.gpt2Config));
    case 'vocab-txt':
      return mutatedText(seeds.vocabTxt);
    case 'tokenizer-config':
      return mutatedJsonBytes(seeds.tokenizerConfig);
    case 'vocab-json':
      return mutatedJsonBytes(seeds.vocabJson);
    case 'merges-txt':
      return mutatedText(seeds.mergesTxt);
    case 'tokenizer-json':
      return fc.oneof(mutatedJsonBytes(seeds.wordPieceTokenizerJson), mutatedJsonBytes(seeds.bpeTokenizerJson));
    case 'tsv':
      return fc.oneof(...seeds.tsv.map((seed) => mutatedText(seed)));
    case 'squad':
      return mutatedJsonBytes(seeds.squad);
    case 'wikitext':
      return mutatedText(seeds.wikitext);
  }
}

describe('every file format @ziplm/models reads ends in a typed error or a valid result', () => {
  for (const format of MODELS_FUZZ_FORMATS) {
    it(format, async () => {
      await fuzzFormat({
        name: `models/${format}`,
        corpusDir: join(CORPUS_DIR, format),
        extension: extensions[format],
        inputs: inputsOf(format),
        target: workspace.targets[format],
        knownFailures: MODELS_KNOWN_FAILURES.filter((k) => k.corpusCase.startsWith(`${format}/`)),
      });
    }, 180_000);
  }
});
