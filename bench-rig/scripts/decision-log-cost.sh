#!/usr/bin/env bash
# What recording every admission decision costs at load: interleaved pairs of identical
# bench-rig runs (interleaved-pairs.sh) of this tree's appliance with `[decisions] record =
# false`, then with the decision log on (the default).
#
#   bench-rig/scripts/decision-log-cost.sh [PAIRS] [RPS] [SECONDS]
#       # defaults: 3 pairs at 800 req/s, 60 s each (after a 5 s warm-up)
#
# Prints each run's percentiles, served rate, errors and CPU per 1k proofs (the decisions
# thread among the busiest threads when it is on), per pair the difference, and the medians.
# Reports stay under target/decision-log-cost/.
set -euo pipefail
pairs=${1:-3}
rps=${2:-800}
seconds=${3:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/decision-log-cost"
mkdir -p "$out"
(cd "$root" && cargo build --release --bin appliance >&2)
cp "$root/target/release/appliance" "$out/appliance"
A_CONFIG=$'[decisions]\nrecord = false' PAIRS_OUT="$out/pairs" \
  exec "$root/bench-rig/scripts/interleaved-pairs.sh" "$out/appliance" "$out/appliance" \
  "$pairs" "$rps" "$seconds" log-off log-on
