#!/usr/bin/env bash
# Times bundle promotions and rollbacks while bench-rig keeps the appliance under steady QUIC
# load. Prints each switch's time from the request to every shard reporting the new revision
# (prepared_ms + all_shards_ms, as the admin API measures them), the median and worst per
# kind, and the rig's verdict: a switch must cost no request.
#
#   bench-rig/scripts/switch-under-load.sh [RPS] [CYCLES] [APPLIANCE]
#       # defaults: 400 req/s, 10 cycles, this tree's appliance (name another binary, e.g. one
#       # built from an earlier commit, to compare)
#
# Release builds; everything runs on loopback in a temporary directory.
set -euo pipefail
rps=${1:-400}
cycles=${2:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cargo build --release --bins -p appliance -p bench-rig >&2
bin="$root/target/release"
appliance="${3:-$bin/appliance}"
work=$(mktemp -d)
serve_pid=""
rig_pid=""
cleanup() {
  [ -n "$rig_pid" ] && kill "$rig_pid" 2>/dev/null || true
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$appliance" init --state-dir "$work/state" >/dev/null
"$appliance" tenants issue acme --state-dir "$work/state" >/dev/null
printf '[[tenants]]\nid = "demo"\n\n[[tenants]]\nid = "acme"\nweight = 3\n' > "$work/appliance.toml"
"$appliance" serve --config "$work/appliance.toml" --state-dir "$work/state" \
  --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 >/dev/null 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 1 300); do [ -f "$work/state/partner.toml" ] && break; sleep 0.1; done
admin=$(grep -o 'admin server listening.*address=[0-9.:]*' "$work/serve.log" | sed 's/.*address=//' | tail -1)
[ -n "$admin" ] || { echo "the appliance did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
ctl() { "$appliance" ctl --admin "http://$admin" --state-dir "$work/state" "$@"; }

# The example bundle with a policy that permits the rig's whole mix (it submits for purpose
# `bench` on every class), so any failed request would be the switch's doing.
cp -r docs/examples/bundle "$work/source"
printf '@id("bench-load")\npermit(principal, action, resource);\n' >"$work/source/policies.cedar"
build() {
  # A cap that changes with every revision: each switch prepares it from the ledger's charges
  # under load (the costliest kind of switch).
  sed "s/^limit = 100000$/limit = $((100000 + $1))/" docs/examples/bundle/budgets.toml \
    >"$work/source/budgets.toml"
  "$appliance" bundle build "$work/source" --revision "$1" --author "bench" \
    --note "$2" --out "$work/bundle-$1.tar.gz" --state-dir "$work/state" >/dev/null
  echo "$work/bundle-$1.tar.gz"
}
# Revision 1 first, so every later promotion has a bundle to roll back to.
ctl promote "$(build 1 baseline)" >/dev/null

seconds=$((cycles * 4 + 10))
"$bin/bench-rig" steady --rps "$rps" --duration "${seconds}s" --warmup 2s \
  --appliance-config "$work/appliance.toml" --state-dir "$work/state" --appliance-pid "$serve_pid" \
  --out "$work/rig" >"$work/rig.out" 2>"$work/rig.err" &
rig_pid=$!
# The rig measures the verification floor first; switch once its load is on.
for _ in $(seq 1 600); do grep -q '^bench-rig steady:' "$work/rig.err" 2>/dev/null && break; sleep 0.1; done
sleep 3

# Prepared (past charges read on every shard) and then confirmed on every shard: the whole switch.
ms() { python3 -c 'import json,sys; b=json.load(sys.stdin); v=b["all_shards_ms"]; print("none" if v is None else "%.1f" % (b["prepared_ms"] + v))'; }
: >"$work/promote.ms"
: >"$work/rollback.ms"
revision=2
for cycle in $(seq 1 "$cycles"); do
  p=$(ctl promote "$(build "$revision" "cycle $cycle")" | ms)
  sleep 1
  r=$(ctl rollback --reason "switch-under-load cycle $cycle" | ms)
  sleep 1
  echo "cycle $cycle: promote $p ms, rollback $r ms"
  echo "$p" >>"$work/promote.ms"
  echo "$r" >>"$work/rollback.ms"
  revision=$((revision + 2))
done
wait "$rig_pid" || true
rig_pid=""

summary() {
  python3 - "$1" "$2" <<'PY'
import statistics, sys
kind, path = sys.argv[1], sys.argv[2]
values = [float(v) for v in open(path).read().split() if v != "none"]
missing = sum(1 for v in open(path).read().split() if v == "none")
print(f"{kind}: {len(values)} switches, median {statistics.median(values):.1f} ms, "
      f"worst {max(values):.1f} ms" + (f", {missing} not confirmed within 5 s" if missing else ""))
PY
}
summary promote "$work/promote.ms"
summary rollback "$work/rollback.ms"
if grep -q '^verdict' "$work/rig.out"; then
  grep -E '^  offered|^verdict' "$work/rig.out"
else
  echo "bench-rig did not finish its run:" >&2
  tail -20 "$work/rig.err" >&2
  exit 1
fi
