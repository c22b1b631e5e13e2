# Tutorial 3, command-line part (apps/docs/tutorials/latency-table.sh). Run by
# apps/docs/test/e2e/latency-table.test.ts exactly as written, after tutorials/latency-table.ts has
# written the pruned model tiny-bert-half/.

# region cli-latency
pnpm ziplm latency --model tiny-bert --out tiny-bert.latency.json --min-rounds 3 --max-rounds 5
# endregion cli-latency

# region cli-verify
pnpm ziplm verify --dense tiny-bert --model tiny-bert-half --table tiny-bert.latency.json --target 1.2
# endregion cli-verify
