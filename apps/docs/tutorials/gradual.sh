# Tutorial 4, command-line part (apps/docs/tutorials/gradual.sh). Run by apps/docs/test/e2e/gradual.test.ts
# exactly as written. The flags after --table keep this demonstration on the tiny built-in model short.

# region cli-gradual
pnpm ziplm latency --model tiny-bert --out tiny-bert.latency.json --min-rounds 3 --max-rounds 5
pnpm ziplm gradual --model tiny-bert --task samples --targets 1.5,2 --table tiny-bert.latency.json --calibration-samples 16 --epochs 2 --train-batch-size 8 --lr 1e-3 --no-spdy --run runs/tiny-bert-gradual
# endregion cli-gradual
