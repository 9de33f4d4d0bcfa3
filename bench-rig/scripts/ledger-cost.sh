#!/usr/bin/env bash
# What the durable ledger adds to latency: interleaved pairs of identical bench-rig runs
# against this tree's appliance built without the ledger (`--features without-ledger`:
# receipts signed on the shard and answered at once, nothing stored) and against this tree's
# appliance (bench-rig/scripts/interleaved-pairs.sh runs them).
#
#   bench-rig/scripts/ledger-cost.sh [PAIRS] [RPS] [SECONDS] [BASELINE_APPLIANCE]
#       # defaults: 3 pairs at 800 req/s, 20 s each (after a 5 s warm-up); the baseline is
#       # built from this tree unless another binary is named
#
# Prints each run's after-the-verdict and end-to-end percentiles and, per pair, the ledger's
# difference; reports stay under target/interleaved-pairs/.
set -euo pipefail
pairs=${1:-3}
rps=${2:-800}
seconds=${3:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/ledger-cost"
mkdir -p "$out"
if [ -n "${4:-}" ]; then
  baseline=$4
else
  # Same target directory: cargo keeps both feature sets' artifacts, so only the crates the
  # feature touches are built twice.
  (cd "$root" && cargo build --release --bin appliance --features without-ledger >&2)
  baseline="$out/appliance-without-ledger"
  cp "$root/target/release/appliance" "$baseline"
fi
(cd "$root" && cargo build --release --bin appliance >&2)
current="$out/appliance"
cp "$root/target/release/appliance" "$current"
exec "$root/bench-rig/scripts/interleaved-pairs.sh" "$baseline" "$current" "$pairs" "$rps" \
  "$seconds" no-ledger ledger
