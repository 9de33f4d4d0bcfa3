#!/usr/bin/env bash
# What one part of the appliance costs at load: interleaved pairs of identical bench-rig runs
# against this tree's appliance built with a measurement feature that leaves the part out, and
# against this tree's appliance (bench-rig/scripts/interleaved-pairs.sh runs them). The
# wrappers name the feature: ledger-cost.sh (without-ledger), log-cost.sh (without-log).
#
#   bench-rig/scripts/feature-cost.sh FEATURE WITHOUT_NAME WITH_NAME [PAIRS] [RPS] [SECONDS] [BASELINE_APPLIANCE]
#       # defaults: 3 pairs at 800 req/s, 20 s each (after a 5 s warm-up); the baseline is
#       # built from this tree unless another binary is named
#
# Prints each run's after-the-verdict and end-to-end percentiles and, per pair, the
# difference; reports stay under target/interleaved-pairs/.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
feature=$1
without_name=$2
with_name=$3
pairs=${4:-3}
rps=${5:-800}
seconds=${6:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/$feature-cost"
mkdir -p "$out"
if [ -n "${7:-}" ]; then
  baseline=$7
else
  # Same target directory: cargo keeps both feature sets' artifacts, so only the crates the
  # feature touches are built twice.
  (cd "$root" && cargo build --release --bin appliance --features "$feature" >&2)
  baseline="$out/appliance-$feature"
  cp "$root/target/release/appliance" "$baseline"
fi
(cd "$root" && cargo build --release --bin appliance >&2)
current="$out/appliance"
cp "$root/target/release/appliance" "$current"
exec "$root/bench-rig/scripts/interleaved-pairs.sh" "$baseline" "$current" "$pairs" "$rps" \
  "$seconds" "$without_name" "$with_name"
