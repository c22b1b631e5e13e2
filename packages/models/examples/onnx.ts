import { padBatch } from '@ziplm/models/data';
import { builtinModelDir, loadModelDir } from '@ziplm/models/io';
import { exportModelToOnnx, onnxFeeds } from '@ziplm/models/onnx';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';

const { checkpoint, tokenizer } = await loadModelDir(builtinModelDir('tiny-bert'));
const session = await createSession(exportModelToOnnx(checkpoint));
const batch = padBatch([tokenizer.encode('a fine film')], { padId: tokenizer.padId });
const { logits } = await session.run(onnxFeeds(await loadOrt(), checkpoint.config, batch));
console.log(logits?.dims, logits?.data); // [1, 2] and the two class logits
