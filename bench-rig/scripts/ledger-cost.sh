#!/usr/bin/env bash
# What the durable ledger adds to latency: interleaved pairs of identical bench-rig runs
# against this tree's appliance built without the ledger (`--features without-ledger`:
# receipts signed on the shard and answered at once, nothing stored) and against this tree's
# appliance. Interleaving keeps the host's drift out of the comparison; each run gets a fresh
# state directory.
#
#   bench-rig/scripts/ledger-cost.sh [PAIRS] [RPS] [SECONDS] [BASELINE_APPLIANCE]
#       # defaults: 3 pairs at 800 req/s, 20 s each (after a 5 s warm-up); the baseline is
#       # built from this tree unless another binary is named
#
# Prints each run's after-the-verdict and end-to-end percentiles and, per pair, the ledger's
# difference; reports stay under target/ledger-cost/.
set -euo pipefail
pairs=${1:-3}
rps=${2:-800}
seconds=${3:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/ledger-cost"
rm -rf "$out" && mkdir -p "$out"
if [ -n "${4:-}" ]; then
  baseline=$(cd "$(dirname "$4")" && pwd)/$(basename "$4")
else
  # Same target directory: cargo keeps both feature sets' artifacts, so only the appliance
  # crate is built twice.
  (cd "$root" && cargo build --release --bin appliance --features without-ledger >&2)
  baseline="$out/appliance-without-ledger"
  cp "$root/target/release/appliance" "$baseline"
fi
cd "$root"
cargo build --release --bins -p appliance -p bench-rig >&2
current="$root/target/release/appliance"
rig="$root/target/release/bench-rig"
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
      f"errors {c['error_rate'] * 100:.2f} %, CPU {r['cost']['cpu_seconds_per_1k']:.2f} s per 1k")
PY
}

for pair in $(seq 1 "$pairs"); do
  run "no-ledger-$pair" "$baseline"
  run "ledger-$pair" "$current"
  python3 - "$out" "$pair" "$pairs" <<'PY'
import json, sys
out, pair = sys.argv[1], int(sys.argv[2])
load = lambda name: json.load(open(f"{out}/{name}/rig/report.json"))
differences = []
for p in range(1, pair + 1):
    a, b = load(f"no-ledger-{p}"), load(f"ledger-{p}")
    d = lambda pick: pick(b) - pick(a)
    differences.append((d(lambda r: r["after_verdict_ms"]["p99"]),
                        d(lambda r: r["overall"]["latency_ms"]["p99"]),
                        d(lambda r: r["overall"]["latency_ms"]["p50"])))
after, e2e, e2e50 = differences[-1]
print(f"  pair {pair}: the ledger adds {after:+.2f} ms at p99 after the verdict, "
      f"{e2e:+.1f} ms at p99 end to end ({e2e50:+.1f} ms at p50)")
if pair == int(sys.argv[3]) and pair > 1:
    from statistics import median
    columns = list(zip(*differences))
    print(f"  median of {pair} pairs: {median(columns[0]):+.2f} ms at p99 after the verdict, "
          f"{median(columns[1]):+.1f} ms at p99 end to end ({median(columns[2]):+.1f} ms at p50)")
PY
done
