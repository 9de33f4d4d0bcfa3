#!/usr/bin/env bash
# What the durable ledger adds to latency: interleaved pairs of identical bench-rig runs
# against a baseline appliance without the ledger (receipts signed on the shard and answered at
# once) and against this tree's appliance. Interleaving keeps the host's drift out of the
# comparison; each run gets a fresh state directory.
#
#   bench-rig/scripts/ledger-cost.sh BASELINE_APPLIANCE [PAIRS] [RPS] [SECONDS]
#       # defaults: 3 pairs at 800 req/s, 20 s each (after a 5 s warm-up)
#
# Build the baseline from the last commit before the ledger, in its own tree and target dir:
#   git worktree add ../no-ledger 9662c24 && (cd ../no-ledger && cargo build --release --bin appliance)
#   bench-rig/scripts/ledger-cost.sh ../no-ledger/target/release/appliance
#
# Prints each run's after-the-verdict and end-to-end percentiles and, per pair, the ledger's
# difference; reports stay under target/ledger-cost/.
set -euo pipefail
baseline=${1:?usage: ledger-cost.sh BASELINE_APPLIANCE [PAIRS] [RPS] [SECONDS]}
pairs=${2:-3}
rps=${3:-800}
seconds=${4:-20}
baseline=$(cd "$(dirname "$baseline")" && pwd)/$(basename "$baseline")
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cargo build --release --bins -p appliance -p bench-rig >&2
current="$root/target/release/appliance"
rig="$root/target/release/bench-rig"
out="$root/target/ledger-cost"
rm -rf "$out" && mkdir -p "$out"
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

run() { # name binary
  local name=$1 bin=$2 dir="$out/$1"
  mkdir -p "$dir"
  "$bin" init --state-dir "$dir/state" >/dev/null
  "$bin" tenants issue acme --state-dir "$dir/state" >/dev/null
  printf '[[tenants]]\nid = "demo"\n\n[[tenants]]\nid = "acme"\nweight = 3\n' >"$dir/appliance.toml"
  "$bin" serve --config "$dir/appliance.toml" --state-dir "$dir/state" --listen 127.0.0.1:0 \
    >/dev/null 2>"$dir/serve.log" &
  serve_pid=$!
  for _ in $(seq 1 300); do [ -f "$dir/state/partner.toml" ] && break; sleep 0.1; done
  sleep 1
  "$rig" steady --rps "$rps" --duration "${seconds}s" --warmup 5s \
    --appliance-config "$dir/appliance.toml" --state-dir "$dir/state" \
    --appliance-pid "$serve_pid" --out "$dir/rig" >"$dir/rig.out" 2>"$dir/rig.err" || true
  kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true
  serve_pid=""
  python3 - "$name" "$dir/rig/report.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
a, e, c = r["after_verdict_ms"], r["overall"]["latency_ms"], r["overall"]
print(f"{name:14} after the verdict p50 {a['p50']:6.2f} p99 {a['p99']:6.2f} ms | "
      f"end to end p50 {e['p50']:6.1f} p99 {e['p99']:7.1f} ms | served {c['served_rps']:.0f} req/s, "
      f"errors {c['error_rate'] * 100:.2f} %")
PY
}

for pair in $(seq 1 "$pairs"); do
  run "no-ledger-$pair" "$baseline"
  run "ledger-$pair" "$current"
  python3 - "$out/no-ledger-$pair/rig/report.json" "$out/ledger-$pair/rig/report.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
d = lambda pick: pick(b) - pick(a)
print(f"  pair: the ledger adds {d(lambda r: r['after_verdict_ms']['p99']):+.2f} ms at p99 after "
      f"the verdict, {d(lambda r: r['overall']['latency_ms']['p99']):+.1f} ms at p99 end to end")
PY
done
