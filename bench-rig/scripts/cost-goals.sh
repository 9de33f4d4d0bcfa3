#!/usr/bin/env bash
# The cost-per-proof goals, each measured once against one appliance binary, every ratio taken
# to the floor bench-rig measures at the start of the same run:
#   steady 800 req/s: CPU-s per 1k proofs against the batched floor, p99, errors, Gini, CPU;
#   capacity (p99 <= 100 ms) against the single-verification floor;
#   burst 800 req/s +-30 %: p95 of the swings against the steady third;
#   noisy neighbour at 2000 req/s (one tenant at 4x the others) against a calm run at the same
#   rates for the others: their p99.
#
#   bench-rig/scripts/cost-goals.sh [APPLIANCE] [SECONDS] [PARTS]
#       # defaults: the release build of this tree; 120 s for steady and burst (the noisy pair
#       # runs half that); PARTS is any of "steady capacity burst noisy" (all by default);
#       # $RIG names a bench-rig binary to use instead of building one
#
# Four tenants of weight 1 (demo, acme, globex, umbrella), the default mix, the appliance on its
# defaults. A fresh appliance for each run. Prints one line per goal; reports stay under
# target/cost-goals/ (or $COST_GOALS_OUT).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${2:-120}
parts=${3:-steady capacity burst noisy}
out=${COST_GOALS_OUT:-$root/target/cost-goals}
rm -rf "$out" && mkdir -p "$out"
cd "$root"
# shellcheck source-path=SCRIPTDIR source=appliance-lib.sh
. "$root/bench-rig/scripts/appliance-lib.sh"
use_binaries "${1:-}"
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT
targets="p95_ms=25,p99_ms=50,error_rate=0,gini=0.05"

four_tenants
start() { # name
  # A fresh ledger each time: the appliance refuses a state directory that lost its ledger
  # unless told to begin an empty one.
  rm -f "$out/state/ledger.sqlite"*
  serve "$1" --new-ledger
}
run() { # name profile args...
  local name=$1
  shift
  start "$name"
  "$rig" "$@" --appliance-config "$out/appliance.toml" --state-dir "$out/state" \
    --appliance-pid "$serve_pid" --out "$out/$name" >"$out/$name.out" 2>"$out/$name.err" || true
  stop_serving
}

for part in $parts; do
  case $part in
    steady) run steady steady --rps 800 --duration "${seconds}s" --warmup 5s --target "$targets" ;;
    capacity) run capacity capacity --trial 20s ;;
    burst) run burst burst --rps 800 --duration "${seconds}s" --warmup 5s --target "$targets" ;;
    noisy)
      half=$((seconds / 2))
      # The others' rates of the noisy run (2000 x 1/7 each), with demo sending like them.
      run calm steady --rps 1143 --duration "${half}s" --warmup 5s
      run noisy noisy-neighbour --rps 2000 --duration "${half}s" --warmup 5s --noisy demo
      ;;
    *) echo "unknown part: $part (steady, capacity, burst or noisy)" >&2; exit 2 ;;
  esac
done

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def load(name):
    path = os.path.join(out, name, "report.json")
    return json.load(open(path)) if os.path.exists(path) else None
s = load("steady")
if s:
    o, f, a = s["overall"], s["floor"], s.get("appliance") or {}
    cost = s["cost"]["cpu_seconds_per_1k"]
    print(f"steady {o['offered_rps']:.0f} req/s: served {o['served_rps']:.1f}/s, "
          f"p50 {o['latency_ms']['p50']:.1f} ms, p95 {o['latency_ms']['p95']:.1f} ms, "
          f"p99 {o['latency_ms']['p99']:.1f} ms, errors {sum(o['errors'].values())}, "
          f"Gini {s['fairness']['gini']:.3f}, CPU {a.get('utilisation', float('nan')) * 100:.1f} %, "
          f"{cost:.3f} CPU-s per 1k = {cost / f['mix_batched_ms']:.2f} x batched floor "
          f"({f['mix_batched_ms']:.3f} ms), {cost / f['mix_single_ms']:.2f} x single floor "
          f"({f['mix_single_ms']:.3f} ms)")
c = load("capacity")
if c and c.get("capacity"):
    k = c["capacity"]
    print(f"capacity: {k['highest_rps']:.0f} req/s = {k['ratio_to_single_floor']:.2f} x single floor "
          f"({c['floor']['single_rps']:.0f} req/s), {k['ratio_to_batched_floor']:.2f} x batched")
b = load("burst")
if b and b.get("burst"):
    k = b["burst"]
    print(f"burst: p95 steady third {k['steady_p95_ms']:.1f} ms, swings {k['swing_p95_ms']:.1f} ms "
          f"({k['p95_swing'] * 100:+.0f} %), errors {sum(b['overall']['errors'].values())}")
calm, noisy = load("calm"), load("noisy")
if calm and noisy:
    def others(r):
        return {t["name"]: t["served_latency_ms"]["p99"] for t in r["tenants"] if t["name"] != "demo"}
    q, n = others(calm), others(noisy)
    worst_q, worst_n = max(q.values()), max(n.values())
    print(f"noisy neighbour: the others' p99 {worst_n:.1f} ms against {worst_q:.1f} ms calm "
          f"({(worst_n / worst_q - 1) * 100:+.0f} %); per tenant calm {q}, noisy {n}; "
          f"errors of the others {sum(sum(t['errors'].values()) for t in noisy['tenants'] if t['name'] != 'demo')}")
PY
