// `ziplm check`: load a model, run it in TensorFlow.js and in onnxruntime on the same inputs, and
// report parity and timing. It is the quickest way to see that a checkpoint loads, exports and runs
// on the engine it will be deployed on.

import { defineCommand, UsageError } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_MODEL, median, resolveModelDir, timeIt } from '../util.js';

export const checkCommand = defineCommand({
  name: 'check',
  summary: 'Load a model, run it in TensorFlow.js and onnxruntime, report parity and timing',
  description:
    'Reads a Hugging Face model directory (config.json, model.safetensors, vocabulary), runs the built-in sample ' +
    'sentences through the TensorFlow.js model and through its ONNX export in onnxruntime, and compares the logits ' +
    'and every hidden state. Exits with code 5 when the difference exceeds the tolerance.',
  options: {
    model: { type: 'string', description: 'Model directory, or the name of a built-in model', default: DEFAULT_MODEL, valueName: 'DIR|NAME' },
    repeats: { type: 'number', description: 'Timed runs per engine (the median is reported)', default: 10 },
    tolerance: { type: 'number', description: 'Largest allowed |tfjs - onnx| over logits and hidden states', default: 1e-4 },
    json: { type: 'boolean', description: 'Print one JSON object instead of text', default: false },
  },
  examples: [
    { command: 'ziplm check', description: 'Check the built-in tiny BERT' },
    { command: 'ziplm check --model ./my-bert --json', description: 'Check your own checkpoint, machine-readable' },
  ],
  async run({ options, io }) {
    const tf = await import('@tensorflow/tfjs-core');
    const models = await import('@ziplm/models');
    const { createSession, loadOrt } = await import('@ziplm/onnx/runtime');
    if (!(Number.isInteger(options.repeats) && options.repeats >= 1)) throw new UsageError(`--repeats must be an integer >= 1, got ${options.repeats}`);
    if (!(options.tolerance >= 0)) throw new UsageError(`--tolerance must be >= 0, got ${options.tolerance}`);

    const backend = await models.initBackend();
    const dir = resolveModelDir(options.model, io.cwd);
    const { checkpoint, tokenizer } = await models.loadModelDir(dir);
    const config = checkpoint.config;

    // Inputs: the built-in sample sentences (BERT) or sample prose cut into sentences (GPT2).
    const texts =
      config.modelType === 'bert'
        ? models.SAMPLE_SENTENCES.map((s) => s.text)
        : models.SAMPLE_TEXT.split(/(?<=\.)\s+/).filter((s) => s.length > 0);
    const encodings = texts.map((t) => tokenizer.encode(t, undefined, { maxLength: config.maxPositions }));
    const batch = models.padBatch(encodings, { padId: tokenizer.padId });
    const shape: [number, number] = [batch.batchSize, batch.seqLength];

    // TensorFlow.js.
    const model = models.createModel(checkpoint);
    const inputs = {
      inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'),
      attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'),
      tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, 'int32'),
    };
    const forward = () => model.forward(inputs);
    const first = forward();
    const tfjsLogits = (await first.logits.data()) as Float32Array;
    const tfjsStates = await Promise.all(first.hiddenStates.map((h) => h.data() as Promise<Float32Array>));
    tf.dispose(first);
    const tfjsTimes: number[] = [];
    for (let i = 0; i < options.repeats; i++) {
      tfjsTimes.push(
        await timeIt(async () => {
          const out = forward();
          await out.logits.data();
          tf.dispose(out);
        }),
      );
    }
    tf.dispose(inputs);
    model.dispose();

    // onnxruntime.
    let bytes: Uint8Array = new Uint8Array();
    const exportMs = await timeIt(async () => {
      bytes = models.exportModelToOnnx(checkpoint, { hiddenStates: true });
    });
    const ort = await loadOrt();
    let session!: Awaited<ReturnType<typeof createSession>>;
    const sessionMs = await timeIt(async () => {
      session = await createSession(bytes);
    });
    const feeds = models.onnxFeeds(ort, config, batch) as Parameters<typeof session.run>[0];
    const outputs = await session.run(feeds);
    const onnxTimes: number[] = [];
    for (let i = 0; i < options.repeats; i++) onnxTimes.push(await timeIt(() => session.run(feeds)));
    await session.release();

    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
      return m;
    };
    const logitsDiff = maxDiff(tfjsLogits, outputs[models.ONNX_NAMES.logits]!.data as Float32Array);
    let statesDiff = 0;
    tfjsStates.forEach((s, i) => (statesDiff = Math.max(statesDiff, maxDiff(s, outputs[models.ONNX_NAMES.hiddenState(i)]!.data as Float32Array))));
    const ok = logitsDiff <= options.tolerance && statesDiff <= options.tolerance;

    const report = {
      model: dir,
      modelType: config.modelType,
      layers: config.numLayers,
      hiddenSize: config.hiddenSize,
      layerHeads: config.layerHeads,
      layerIntermediate: config.layerIntermediate,
      parameters: models.parameterCount(config),
      backend: backend.backend,
      backendReason: backend.reason,
      batch: { size: batch.batchSize, seqLength: batch.seqLength },
      tfjsMedianMs: median(tfjsTimes),
      onnxExportMs: exportMs,
      onnxSessionMs: sessionMs,
      onnxMedianMs: median(onnxTimes),
      maxAbsDiffLogits: logitsDiff,
      maxAbsDiffHiddenStates: statesDiff,
      tolerance: options.tolerance,
      ok,
    };
    if (options.json) {
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const f = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
      io.stdout(
        [
          `model       ${dir}`,
          `            ${config.modelType}, ${config.numLayers} layers, hidden ${config.hiddenSize}, heads [${config.layerHeads.join(' ')}], FFN [${config.layerIntermediate.join(' ')}], ${(report.parameters / 1e6).toFixed(2)}M parameters`,
          `backend     ${backend.backend} (${backend.reason})`,
          `inputs      ${batch.batchSize} sample ${config.modelType === 'bert' ? 'sentences' : 'lines'}, padded to ${batch.seqLength} tokens`,
          `tfjs        ${f(report.tfjsMedianMs)} per forward (median of ${options.repeats})`,
          `onnx        export ${f(exportMs)}, session ${f(sessionMs)}, ${f(report.onnxMedianMs)} per run (median of ${options.repeats})`,
          `parity      max |tfjs - onnx|: logits ${logitsDiff.toExponential(2)}, hidden states ${statesDiff.toExponential(2)} (tolerance ${options.tolerance}): ${ok ? 'OK' : 'FAILED'}`,
          '',
        ].join('\n'),
      );
    }
    return ok ? EXIT.ok : EXIT.checkFailed;
  },
});
