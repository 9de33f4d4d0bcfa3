#!/usr/bin/env bash
# Whether the scenario scheduler takes anything from the data plane: interleaved pairs of
# identical bench-rig runs (interleaved-pairs.sh) of this tree's appliance with the scheduler
# off, then with it running heavy synthetic packs every minute (ten packs of 10 million
# requests each: the scheduler's thread is busy for most of the run, at SCHED_IDLE). Both
# sides promote the same bundle first (tenants demo and acme, quotas well above the load,
# every request permitted), since packs compare against the bundle in force.
#
#   bench-rig/scripts/scenario-cost.sh [PAIRS] [RPS] [SECONDS]
#       # defaults: 3 pairs at 800 req/s, 60 s each (after a 5 s warm-up)
#
# Prints each run's percentiles, served rate, errors, CPU per 1k proofs and its busiest
# threads (the `scenarios` thread's CPU shows how much the packs ran), per pair the
# difference, and the medians. Reports stay under target/scenario-cost/.
set -euo pipefail
pairs=${1:-3}
rps=${2:-800}
seconds=${3:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/scenario-cost"
rm -rf "$out/bundle" "$out/packs"
mkdir -p "$out/bundle" "$out/packs"
(cd "$root" && cargo build --release --bin appliance >&2)
cp "$root/target/release/appliance" "$out/appliance"

printf '[[tenants]]\nid = "demo"\nrate_per_sec = 100000\nburst = 100000\n\n[[tenants]]\nid = "acme"\nweight = 3\nrate_per_sec = 100000\nburst = 100000\n' \
  >"$out/bundle/tenants.toml"
printf '[budgets]\n' >"$out/bundle/budgets.toml"
printf '@id("everything")\npermit (principal, action, resource);\n' >"$out/bundle/policies.cedar"
for n in $(seq 1 10); do
  cat >"$out/packs/heavy-$n.toml" <<PACK
name = "heavy-$n"
[[change.tenants]]
id = "acme"
rate_per_sec = 5000
[traffic]
source = "synthetic"
rate_per_sec = 100000
duration = "100s"
tenants = ["demo", "acme"]
[expect]
max_drift_percent = 100
PACK
done

promote() { # dir binary admin
  local dir=$1 bin=$2 admin=$3
  "$bin" bundle build "$scenario_bundle" --revision 1 --author bench --note "scenario cost" \
    --out "$dir/bundle.tar.gz" --state-dir "$dir/state" >/dev/null
  "$bin" ctl promote "$dir/bundle.tar.gz" --admin "http://$admin" --state-dir "$dir/state" >/dev/null
}
export -f promote
# interleaved-pairs.sh has an $out of its own.
export scenario_bundle="$out/bundle"
A_SETUP=promote B_SETUP=promote A_CONFIG=$'[scenarios]\nenabled = false' \
B_CONFIG=$'[scenarios]\nschedule = "* * * * *"\ndir = "'"$out/packs"$'"\ncpu_seconds = 86400' \
PAIRS_OUT="$out/pairs" \
  exec "$root/bench-rig/scripts/interleaved-pairs.sh" "$out/appliance" "$out/appliance" \
  "$pairs" "$rps" "$seconds" scheduler-off scheduler-on
