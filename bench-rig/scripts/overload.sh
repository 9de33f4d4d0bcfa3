#!/usr/bin/env bash
# Overload: the appliance offered twice what it can serve. First `bench-rig capacity` finds the
# highest rate meeting its targets (p99 <= 100 ms, errors <= 0.25 %); then `bench-rig steady`
# offers twice that. Under overload the appliance must keep serving at capacity (goodput), answer
# every request it cannot take with a typed `busy` carrying a retry time (never a timeout or a
# lost connection), and hold its memory flat.
#
#   bench-rig/scripts/overload.sh [SECONDS] [TRIAL_SECONDS] [APPLIANCE]
#       # defaults: 60 s at twice capacity, 20 s capacity trials, the release build of this tree;
#       # $RIG names a bench-rig binary to use instead of building one
#
# Four tenants (demo, acme with weight 2, globex, umbrella). Prints capacity, goodput at twice
# capacity and its ratio to capacity, errors by type, and the appliance's resident memory at the
# start, end and peak of the overloaded run. Reports stay under target/overload/.
set -euo pipefail
seconds=${1:-60}
trial=${2:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/overload"
rm -rf "$out" && mkdir -p "$out"
cd "$root"
# shellcheck source-path=SCRIPTDIR source=appliance-lib.sh
. "$root/bench-rig/scripts/appliance-lib.sh"
use_binaries "${3:-}"
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

four_tenants 2
rig_run() { # name profile args...
  local name=$1
  shift
  "$rig" "$@" --appliance-config "$out/appliance.toml" --state-dir "$out/state" \
    --appliance-pid "$serve_pid" --out "$out/$name" >"$out/$name.out" 2>"$out/$name.err" || true
}

# A fresh appliance for each part: the capacity search leaves queues and budgets behind.
serve capacity
rig_run capacity capacity --trial "${trial}s"
stop_serving
capacity=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["capacity"]["highest_rps"])' \
  "$out/capacity/report.json")
offered=$(python3 -c "print(round(2 * $capacity))")
echo "capacity: $capacity req/s; offering $offered req/s for ${seconds} s" >&2

serve overload
rig_run overload steady --rps "$offered" --duration "${seconds}s" --warmup 5s
stop_serving

python3 - "$out/overload/report.json" "$capacity" <<'PY'
import json, sys
r, capacity = json.load(open(sys.argv[1])), float(sys.argv[2])
o = r["overall"]
duration = o["sent"] / o["offered_rps"] if o["offered_rps"] else 0
goodput = o["valid"] / duration if duration else 0
errors = {k: v for k, v in o["errors"].items() if v}
print(f"capacity (p99 <= 100 ms, errors <= 0.25 %): {capacity:.0f} req/s")
print(f"offered {o['offered_rps']:.0f} req/s ({o['offered_rps'] / capacity:.2f} x capacity)")
print(f"goodput {goodput:.0f} valid verdicts/s = {goodput / capacity * 100:.0f} % of capacity")
print(f"served latency p50 {o['served_latency_ms']['p50']:.0f} ms, p99 {o['served_latency_ms']['p99']:.0f} ms")
print(f"answered without a verdict: {errors}")
untyped = {k: v for k, v in errors.items() if k not in ("busy",)}
print("every refusal a busy with a retry time" if not untyped else f"NOT busy: {untyped}")
a = r.get("appliance")
if a:
    print(f"appliance resident memory over the measured part: start {a['rss_start_mib']:.1f} MiB, "
          f"end {a['rss_end_mib']:.1f} MiB, max {a['rss_max_mib']:.1f} MiB "
          f"(kernel peak since start {a['peak_rss_mib']:.1f} MiB)")
PY
