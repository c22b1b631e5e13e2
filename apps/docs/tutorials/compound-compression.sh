# Tutorial 8: compound compression, structured pruning + sparsity + INT8 (apps/docs/tutorials/compound-compression.sh).
# Every command below is run, in this order and exactly as written, by apps/docs/test/e2e/compound-compression.test.ts.
# Run them from the repository root.

# region tables
pnpm ziplm latency --model sst2-bert --out sst2-bert.latency.json --min-rounds 3 --max-rounds 5
pnpm ziplm latency --model sst2-bert --precision int8-dynamic --out sst2-bert.int8.latency.json --min-rounds 3 --max-rounds 5
# endregion tables

# region fp32
pnpm ziplm prune --model sst2-bert --task samples --targets 2,3 --table sst2-bert.latency.json --calibration-samples 64 --no-spdy --run runs/sst2-fp32
# endregion fp32

# region int8
pnpm ziplm prune --model sst2-bert --task samples --quantize int8 --targets 2,3,4 --table sst2-bert.int8.latency.json --calibration-samples 64 --no-spdy --run runs/sst2-int8
# endregion int8

# region sparse
pnpm ziplm prune --model sst2-bert --task samples --quantize int8 --sparsity 0.5 --targets 2,3,4 --table sst2-bert.int8.latency.json --calibration-samples 64 --no-spdy --run runs/sst2-int8-sparse
# endregion sparse

# region report
pnpm ziplm report --run runs/sst2-int8-sparse
# endregion report

# region member
pnpm ziplm check --model runs/sst2-int8-sparse/members/ziplm-3.00x
# endregion member
