import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelDir } from '@ziplm/models';
import { TEACHERS, teacherDir } from '@ziplm/teachers';

for (const name of TEACHERS) {
  const dir = teacherDir(name); // config.json, model.safetensors, vocabulary, results.json
  const { checkpoint, tokenizer } = await loadModelDir(dir);
  const { numLayers, numHeads, hiddenSize, intermediateSize } = checkpoint.config;
  const { metrics } = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { metrics: Record<string, number> };
  console.log(
    `${name}: ${checkpoint.config.modelType}, ${numLayers} layers × ${numHeads} heads, hidden ${hiddenSize}, FFN ${intermediateSize}`,
  );
  console.log(`  ${tokenizer.vocabSize}-token vocabulary; 'a gripping film' → ${tokenizer.encode('a gripping film').ids.length} tokens`);
  console.log(`  reported: ${JSON.stringify(metrics)}`);
}
