#!/usr/bin/env bash
# What the durable ledger adds to latency: the appliance built without the ledger
# (`--features without-ledger`: receipts signed on the shard and answered at once, nothing
# stored) against this tree's appliance, in interleaved pairs (feature-cost.sh).
#
#   bench-rig/scripts/ledger-cost.sh [PAIRS] [RPS] [SECONDS] [BASELINE_APPLIANCE]
exec "$(dirname "$0")/feature-cost.sh" without-ledger no-ledger ledger "$@"
