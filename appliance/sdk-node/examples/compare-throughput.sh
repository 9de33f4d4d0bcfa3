#!/usr/bin/env bash
# The Node SDK against the Rust client at one rate, in interleaved pairs on fresh appliances:
# bench-rig (the Rust SDK; `steady`, BLS single signatures only, the demo tenant on one
# connection), then appliance/sdk-node/examples/throughput.js (the same load through the npm package),
# then bench-rig again... so the host's drift lands on both alike. Each run: a fresh state
# directory, the appliance on its defaults with the demo tenant alone, 5 s of warm-up, then
# SECONDS measured at RPS, purpose bench, class P2.
#
#   appliance/sdk-node/examples/compare-throughput.sh [PAIRS] [RPS] [SECONDS]    # defaults: 3, 800, 20
#
# Prints, per run, the rate answered, errors, latency p50 and p99 from the due time (open
# loop, both sides), and the appliance's CPU per 1,000 answered (from /proc, both sides), and
# the client's own CPU per 1,000; at the end the medians. Builds nothing (run cargo one at a
# time): it takes target/release/appliance and target/release/bench-rig (`cargo build
# --release --bin appliance --bin bench-rig`) and the package appliance/sdk-node/build-package
# --release packed (target/npm/release/), or the binaries named by $APPLIANCE, $RIG and the
# tarball by $PACKAGE. Reports stay under target/node-throughput/ (or $OUT). The BLS vectors
# are read from ../shared/testdata/eth-bls12-381-tests/verify beside the checkout.
set -euo pipefail
pairs=${1:-3}
rps=${2:-800}
seconds=${3:-20}
root=$(cd "$(dirname "$0")/../../.." && pwd)
appliance=${APPLIANCE:-$root/target/release/appliance}
rig=${RIG:-$root/target/release/bench-rig}
package=${PACKAGE:-$(ls "$root"/target/npm/release/trust-fabric-partner-*.tgz 2>/dev/null | head -n 1)}
out=${OUT:-$root/target/node-throughput}
for need in "$appliance" "$rig" "$package"; do
  [ -n "$need" ] && [ -f "$need" ] || {
    echo "compare-throughput: missing ${need:-the package tarball}: build it first (see the top of $0)" >&2
    exit 1
  }
done
rm -rf "$out" && mkdir -p "$out/project"
(cd "$out/project" && echo '{"name": "throughput", "private": true}' >package.json \
  && npm install --silent --no-audit --no-fund --offline "$package")
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

serve() { # DIR
  "$appliance" init --state-dir "$1/state" >/dev/null
  printf '[[tenants]]\nid = "demo"\n' >"$1/appliance.toml"
  "$appliance" serve --config "$1/appliance.toml" --state-dir "$1/state" --listen 127.0.0.1:0 \
    >"$1/serve.out" 2>"$1/serve.log" &
  serve_pid=$!
  for _ in $(seq 1 300); do [ -f "$1/state/partner.toml" ] && break; sleep 0.1; done
  [ -f "$1/state/partner.toml" ] || { echo "the appliance did not start; see $1/serve.log" >&2; exit 1; }
  sleep 1
}

stop() {
  kill "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=""
}

with_rust() { # NAME
  local dir="$out/$1"
  mkdir -p "$dir"
  serve "$dir"
  "$rig" steady --rps "$rps" --duration "${seconds}s" --warmup 5s --mix bls=1 --tenants demo \
    --connections 1 --state-dir "$dir/state" --appliance-pid "$serve_pid" --out "$dir/rig" \
    >"$dir/rig.out" 2>"$dir/rig.err" || true
  stop
  python3 - "$dir/rig/report.json" "$seconds" >"$dir/summary.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o = r["overall"]
print(json.dumps({
    "answered_rps": o["served_rps"], "error_rate": o["error_rate"], "p50": o["latency_ms"]["p50"], "p99": o["latency_ms"]["p99"],
    "appliance_cpu_per_1k": r["cost"]["cpu_seconds_per_1k"],
    "client_cpu_per_1k": r["rig_cpu_seconds"] * 1000 / max(o["served"], 1),
}))
PY
}

with_node() { # NAME
  local dir="$out/$1"
  mkdir -p "$dir"
  serve "$dir"
  NODE_PATH="$out/project/node_modules" node "$root/appliance/sdk-node/examples/throughput.js" \
    --state-dir "$dir/state" --rps "$rps" --duration "$seconds" --warmup 5 \
    --vectors "$root/../shared/testdata/eth-bls12-381-tests/verify" \
    --appliance-pid "$serve_pid" --json >"$dir/node.json" 2>"$dir/node.err" || true
  stop
  python3 - "$dir/node.json" >"$dir/summary.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
errors = sum(r["refused"].values()) + r["invalid"]
print(json.dumps({
    "answered_rps": r["answered_rps"], "error_rate": errors / max(r["due"], 1),
    "p50": r["latency_ms"]["p50"], "p99": r["latency_ms"]["p99"],
    "appliance_cpu_per_1k": r["appliance_cpu_seconds_per_1k"],
    "client_cpu_per_1k": r["client_cpu_seconds_per_1k"],
}))
PY
}

show() { # NAME
  python3 - "$1" "$out/$1/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[2]))
print(f"{sys.argv[1]:8} answered {s['answered_rps']:6.1f} req/s, errors {s['error_rate'] * 100:5.2f} %, "
      f"p50 {s['p50']:6.2f} ms, p99 {s['p99']:7.2f} ms, appliance CPU {s['appliance_cpu_per_1k']:.3f} s "
      f"per 1k, client CPU {s['client_cpu_per_1k']:.3f} s per 1k")
PY
}

echo "BLS single signatures at $rps req/s, $seconds s each after 5 s of warm-up, $pairs pairs"
for pair in $(seq 1 "$pairs"); do
  with_rust "rust-$pair" && show "rust-$pair"
  with_node "node-$pair" && show "node-$pair"
done
python3 - "$out" "$pairs" <<'PY'
import json, sys
from statistics import median
out, pairs = sys.argv[1], int(sys.argv[2])
for side in ("rust", "node"):
    runs = [json.load(open(f"{out}/{side}-{p}/summary.json")) for p in range(1, pairs + 1)]
    m = lambda key: median(r[key] for r in runs)
    print(f"median {side}: answered {m('answered_rps'):.1f} req/s, errors {m('error_rate') * 100:.2f} %, "
          f"p50 {m('p50'):.2f} ms, p99 {m('p99'):.2f} ms, appliance CPU {m('appliance_cpu_per_1k'):.3f} s "
          f"per 1k, client CPU {m('client_cpu_per_1k'):.3f} s per 1k")
PY
