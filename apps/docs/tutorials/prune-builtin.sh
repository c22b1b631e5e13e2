# Tutorial 1: prune the built-in model with `pnpm ziplm` (apps/docs/tutorials/prune-builtin.sh).
# Every command below is run, in this order and exactly as written, by apps/docs/test/e2e/prune-builtin.test.ts.
# Run them from the repository root.

# region check
pnpm ziplm check --model tiny-bert
# endregion check

# region latency
pnpm ziplm latency --model tiny-bert --out tiny-bert.latency.json --min-rounds 3 --max-rounds 5
# endregion latency

# region prune
pnpm ziplm prune --model tiny-bert --task samples --targets 1.5,2 --table tiny-bert.latency.json --calibration-samples 64 --spdy-steps 2 --run runs/tiny-bert
# endregion prune

# region report
pnpm ziplm report --run runs/tiny-bert
# endregion report

# region member
pnpm ziplm check --model runs/tiny-bert/members/ziplm-2.00x
pnpm ziplm export --model runs/tiny-bert/members/ziplm-2.00x --out tiny-bert-2x.onnx
# endregion member
