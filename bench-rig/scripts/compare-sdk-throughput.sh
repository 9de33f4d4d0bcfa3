#!/usr/bin/env bash
# A partner SDK (Node or Python) against the Rust client at one rate, in interleaved pairs on
# fresh appliances: bench-rig (the Rust SDK; `steady`, BLS single signatures only, the demo
# tenant on one connection), then the SDK's throughput example (the same load through the npm
# package or the wheel: appliance/sdk-node/examples/throughput.js,
# appliance/sdk-python/examples/throughput.py), then bench-rig again... so the host's drift
# lands on both alike. Each run: a fresh state directory, the appliance on its defaults with
# the demo tenant alone, 5 s of warm-up, then SECONDS measured at RPS, purpose bench, class P2.
#
#   bench-rig/scripts/compare-sdk-throughput.sh node|python [PAIRS] [RPS] [SECONDS]
#       # defaults: 3 pairs at 800 req/s, 20 s each
#
# Prints, per run, the rate answered, errors, latency p50 and p99 from the due time (open
# loop, both sides), and the appliance's CPU per 1,000 answered (from /proc, both sides), and
# the client's own CPU per 1,000; at the end the medians. Builds nothing (run cargo one at a
# time): it takes target/release/appliance and target/release/bench-rig (`cargo build
# --release --bin appliance --bin bench-rig`), or the binaries named by $APPLIANCE and $RIG;
# for node the package appliance/sdk-node/build-package --release packed (target/npm/release/,
# or the tarball $PACKAGE), installed into an npm project of its own; for python the wheel
# appliance/sdk-python/build-wheel --release built (target/wheels/release/, or the wheel
# $WHEEL), installed into a venv of its own over Debian's python3 ($PYTHON overrides).
# Reports stay under target/sdk-throughput/LANGUAGE/ (or $OUT). The BLS vectors are read from
# ../shared/testdata/eth-bls12-381-tests/verify beside the checkout.
set -euo pipefail
language=${1:-}
case "$language" in
  node) label=Node ;;
  python) label=Python ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
pairs=${2:-3}
rps=${3:-800}
seconds=${4:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
appliance=${APPLIANCE:-$root/target/release/appliance}
rig=${RIG:-$root/target/release/bench-rig}
vectors="$root/../shared/testdata/eth-bls12-381-tests/verify"
out=${OUT:-$root/target/sdk-throughput/$language}
built() { ls "$@" 2>/dev/null | head -n 1 || true; }
case "$language" in
  node) client=${PACKAGE:-$(built "$root"/target/npm/release/trust-fabric-partner-*.tgz)} ;;
  python) client=${WHEEL:-$(built "$root"/target/wheels/release/trust_fabric-*.whl)} ;;
esac
for need in "$appliance" "$rig" "$client"; do
  [ -n "$need" ] && [ -f "$need" ] || {
    echo "compare-sdk-throughput: missing ${need:-the release build of the $label SDK}:" \
      "build it first (see the top of $0)" >&2
    exit 1
  }
done

# The SDK installed as a partner installs it, from the file alone (no registry).
rm -rf "$out" && mkdir -p "$out"
case "$language" in
  node)
    mkdir -p "$out/project"
    (cd "$out/project" && echo '{"name": "throughput", "private": true}' >package.json \
      && npm install --silent --no-audit --no-fund --offline "$client")
    ;;
  python)
    "${PYTHON:-/usr/bin/python3}" -m venv "$out/venv"
    "$out/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$client"
    ;;
esac
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
  python3 - "$dir/rig/report.json" >"$dir/summary.json" <<'PY'
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

with_sdk() { # NAME
  local dir="$out/$1"
  local -a arguments
  mkdir -p "$dir"
  serve "$dir"
  arguments=(--state-dir "$dir/state" --rps "$rps" --duration "$seconds" --warmup 5
    --vectors "$vectors" --appliance-pid "$serve_pid" --json)
  case "$language" in
    node) NODE_PATH="$out/project/node_modules" node "$root/appliance/sdk-node/examples/throughput.js" \
      "${arguments[@]}" >"$dir/sdk.json" 2>"$dir/sdk.err" || true ;;
    python) "$out/venv/bin/python" "$root/appliance/sdk-python/examples/throughput.py" \
      "${arguments[@]}" >"$dir/sdk.json" 2>"$dir/sdk.err" || true ;;
  esac
  stop
  if [ ! -s "$dir/sdk.json" ]; then
    echo "$1: the $label SDK's run printed nothing; $dir/sdk.err ends:" >&2
    tail -n 5 "$dir/sdk.err" >&2
    return 1
  fi
  python3 - "$dir/sdk.json" >"$dir/summary.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
errors = sum(r["refused"].values()) + r["invalid"]
# No answer at all, no latency: null in the JSON, NaN here.
latency = {q: float("nan") if v is None else v for q, v in r["latency_ms"].items()}
print(json.dumps({
    "answered_rps": r["answered_rps"], "error_rate": errors / max(r["due"], 1),
    "p50": latency["p50"], "p99": latency["p99"],
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

echo "BLS single signatures at $rps req/s, $seconds s each after 5 s of warm-up, $pairs pairs:" \
  "the Rust client (bench-rig) and the $label SDK"
for pair in $(seq 1 "$pairs"); do
  with_rust "rust-$pair" && show "rust-$pair"
  with_sdk "$language-$pair" && show "$language-$pair"
done
python3 - "$out" "$pairs" "$language" <<'PY'
import json, os, sys
from statistics import median
out, pairs, language = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for side in ("rust", language):
    paths = [f"{out}/{side}-{p}/summary.json" for p in range(1, pairs + 1)]
    runs = [json.load(open(path)) for path in paths
            if os.path.exists(path) and os.path.getsize(path) > 0]
    if len(runs) < pairs:
        print(f"median {side}: {pairs - len(runs)} of {pairs} runs reported nothing; "
              f"see their folders in {out}")
        if not runs:
            continue
    m = lambda key: median(r[key] for r in runs)
    print(f"median {side}: answered {m('answered_rps'):.1f} req/s, errors {m('error_rate') * 100:.2f} %, "
          f"p50 {m('p50'):.2f} ms, p99 {m('p99'):.2f} ms, appliance CPU {m('appliance_cpu_per_1k'):.3f} s "
          f"per 1k, client CPU {m('client_cpu_per_1k'):.3f} s per 1k")
PY
