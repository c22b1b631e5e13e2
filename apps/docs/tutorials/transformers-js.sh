# Tutorial 9: prune a transformers.js model and use it with transformers.js (apps/docs/tutorials/transformers-js.sh).
# Every command below is run, in this order and exactly as written, by apps/docs/test/e2e/transformers-js.test.ts,
# in a directory holding distilbert-sst2/, a model directory in the transformers.js layout (config.json,
# tokenizer.json, tokenizer_config.json, onnx/model.onnx, onnx/model_quantized.onnx). CI makes it from the
# DistilBERT fixture of ../shared/fixtures/hf; yours comes from the Hugging Face Hub.

# region check
pnpm ziplm check --model distilbert-sst2
# endregion check

# region prune
pnpm ziplm prune --model distilbert-sst2 --task sst2 --targets 1.5,2 --calibration-samples 128 --no-spdy --run runs/distilbert
# endregion prune

# region prune-int8
pnpm ziplm prune --model distilbert-sst2 --task sst2 --quantize int8 --targets 2,3 --calibration-samples 128 --no-spdy --run runs/distilbert-int8
# endregion prune-int8
