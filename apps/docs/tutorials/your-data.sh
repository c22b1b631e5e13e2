# Tutorial 7: bring your own data (apps/docs/tutorials/your-data.sh).
# Every command below is run, in this order and exactly as written, by apps/docs/test/e2e/your-data.test.ts,
# in a directory holding tickets.csv and notes/ (apps/docs/public/data/your-data/).

# region train-classifier
pnpm ziplm train bert-classifier --data tickets.csv --text-column body --label-column queue --layers 1 --hidden 64 --heads 2 --max-length 32 --max-steps 60 --eval-every 20 --out tickets-bert
# endregion train-classifier

# region prune-classifier
pnpm ziplm latency --model tickets-bert --out tickets-bert.latency.json --min-rounds 3 --max-rounds 5
pnpm ziplm prune --model tickets-bert --data tickets.csv --text-column body --label-column queue --targets 1.5,2 --table tickets-bert.latency.json --calibration-samples 128 --spdy-steps 2 --run runs/tickets
# endregion prune-classifier

# region eval-classifier
pnpm ziplm eval --model runs/tickets/members/ziplm-2.00x --data tickets.csv --text-column body --label-column queue
# endregion eval-classifier

# region train-lm
pnpm ziplm train gpt2-lm --data notes --documents blank-line --layers 1 --hidden 64 --heads 2 --max-length 32 --max-steps 60 --eval-every 20 --out notes-gpt2
# endregion train-lm

# region prune-lm
pnpm ziplm latency --model notes-gpt2 --out notes-gpt2.latency.json --min-rounds 3 --max-rounds 5
pnpm ziplm prune --model notes-gpt2 --data notes --documents blank-line --targets 1.5 --table notes-gpt2.latency.json --calibration-samples 128 --spdy-steps 2 --run runs/notes
# endregion prune-lm

# region eval-lm
pnpm ziplm eval --model runs/notes/members/ziplm-1.50x --data notes --documents blank-line
# endregion eval-lm
