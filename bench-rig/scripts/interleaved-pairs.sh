#!/usr/bin/env bash
# Interleaved pairs of identical bench-rig `steady` runs against two appliance binaries: run A,
# then B, then A again... so the host's drift lands on both sides alike. Each run gets a fresh
# state directory and the same configuration (tenants demo and acme, acme with weight 3).
#
#   bench-rig/scripts/interleaved-pairs.sh A_BINARY B_BINARY [PAIRS] [RPS] [SECONDS] [A_NAME] [B_NAME]
#       # defaults: 3 pairs at 800 req/s, 20 s each (after a 5 s warm-up), named "a" and "b"
#
# Prints each run's after-the-verdict and end-to-end percentiles, served rate, errors and CPU
# per 1k proofs, and the CPU per 1k served of the appliance's busiest threads (by name, from
# the start to the rig's end); per pair, B minus A; at the end the median of the pairs'
# differences. Reports stay under target/interleaved-pairs/ (or $PAIRS_OUT). Builds bench-rig
# from this tree.
#
# $B_SETUP and $B_AFTER, if set, are commands run for B's runs only, with the run's folder,
# the binary and the admin address: once the appliance serves, before the rig (to add what B
# measures); after the rig, before the appliance stops (to wait for and report it).
# $A_SETUP, if set, is run for A's runs as $B_SETUP is for B's (when both sides need the same
# preparation). $A_CONFIG and $B_CONFIG, if set, are TOML appended to that side's
# configuration (to compare one binary with a setting off and on); `{run}` in them is the
# run's name. $TENANTS_CONFIG, if set, replaces the tenants (TOML [[tenants]] tables; their
# certificates are issued).
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
absolute() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
a_bin=$(absolute "$1")
b_bin=$(absolute "$2")
pairs=${3:-3}
rps=${4:-800}
seconds=${5:-20}
a_name=${6:-a}
b_name=${7:-b}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="${PAIRS_OUT:-$root/target/interleaved-pairs}"
rm -rf "$out" && mkdir -p "$out"
cd "$root"
cargo build --release --bin bench-rig >&2
rig="$root/target/release/bench-rig"
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

run() { # name binary [setup] [after] [extra configuration]
  local name=$1 bin=$2 setup=${3:-} after=${4:-} extra=${5:-} dir="$out/$1"
  mkdir -p "$dir"
  "$bin" init --state-dir "$dir/state" >/dev/null
  local tenants=${TENANTS_CONFIG:-$'[[tenants]]\nid = "demo"\n\n[[tenants]]\nid = "acme"\nweight = 3'}
  for tenant in $(printf '%s\n' "$tenants" | sed -n 's/^id = "\(.*\)"$/\1/p'); do
    [ "$tenant" = demo ] || "$bin" tenants issue "$tenant" --state-dir "$dir/state" >/dev/null
  done
  printf '%s\n\n%s\n' "${extra//\{run\}/$name}" "$tenants" >"$dir/appliance.toml"
  "$bin" serve --config "$dir/appliance.toml" --state-dir "$dir/state" --listen 127.0.0.1:0 \
    >"$dir/serve.out" 2>"$dir/serve.log" &
  serve_pid=$!
  for _ in $(seq 1 300); do [ -f "$dir/state/partner.toml" ] && break; sleep 0.1; done
  sleep 1
  [ -n "$setup" ] && $setup "$dir" "$bin" 127.0.0.1:8080
  "$rig" steady --rps "$rps" --duration "${seconds}s" --warmup 5s \
    --appliance-config "$dir/appliance.toml" --state-dir "$dir/state" \
    --appliance-pid "$serve_pid" --out "$dir/rig" >"$dir/rig.out" 2>"$dir/rig.err" || true
  thread_cpu "$serve_pid" >"$dir/threads.json"
  [ -n "$after" ] && $after "$dir" "$bin" 127.0.0.1:8080
  kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true
  serve_pid=""
  python3 - "$name" "$dir/rig/report.json" "$dir/threads.json" <<'PY'
import json, sys
name, path, threads = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(path))
a, e, c = r["after_verdict_ms"], r["overall"]["latency_ms"], r["overall"]
print(f"{name:18} after the verdict p50 {a['p50']:6.2f} p99 {a['p99']:6.2f} ms | "
      f"end to end p50 {e['p50']:6.1f} p99 {e['p99']:7.1f} ms | served {c['served_rps']:.0f} req/s, "
      f"errors {c['error_rate'] * 100:.2f} %, CPU {r['cost']['cpu_seconds_per_1k']:.3f} s per 1k")
busiest = sorted(json.load(open(threads)).items(), key=lambda t: -t[1])[:8]
print(" " * 19 + "threads, CPU s per 1k served: " + ", ".join(
    f"{n} {s * 1000 / max(c['served'], 1):.3f}" for n, s in busiest))
PY
}

# CPU seconds each thread name of process $1 has used (threads of one name added up), as JSON.
thread_cpu() {
  python3 - "$1" <<'PY'
import json, os, sys
task, tick, used = f"/proc/{sys.argv[1]}/task", os.sysconf("SC_CLK_TCK"), {}
for tid in os.listdir(task):
    try:
        name = open(f"{task}/{tid}/comm").read().strip()
        fields = open(f"{task}/{tid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue  # the thread ended meanwhile
    used[name] = used.get(name, 0) + (int(fields[11]) + int(fields[12])) / tick
print(json.dumps(used))
PY
}

for pair in $(seq 1 "$pairs"); do
  run "$a_name-$pair" "$a_bin" "${A_SETUP:-}" "" "${A_CONFIG:-}"
  run "$b_name-$pair" "$b_bin" "${B_SETUP:-}" "${B_AFTER:-}" "${B_CONFIG:-}"
  python3 - "$out" "$pair" "$pairs" "$a_name" "$b_name" <<'PY'
import json, sys
from statistics import median
out, pair, pairs, a_name, b_name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
load = lambda name: json.load(open(f"{out}/{name}/rig/report.json"))
rows = []
for p in range(1, pair + 1):
    a, b = load(f"{a_name}-{p}"), load(f"{b_name}-{p}")
    d = lambda pick: pick(b) - pick(a)
    rows.append((d(lambda r: r["after_verdict_ms"]["p99"]),
                 d(lambda r: r["overall"]["latency_ms"]["p99"]),
                 d(lambda r: r["overall"]["latency_ms"]["p50"]),
                 d(lambda r: r["cost"]["cpu_seconds_per_1k"])))
after, e2e, e2e50, cpu = rows[-1]
print(f"  pair {pair}: {b_name} - {a_name}: {after:+.2f} ms at p99 after the verdict, "
      f"{e2e:+.1f} ms at p99 end to end ({e2e50:+.1f} ms at p50), CPU {cpu:+.3f} s per 1k")
if pair == pairs and pairs > 1:
    c = list(zip(*rows))
    print(f"  median of {pairs} pairs, {b_name} - {a_name}: {median(c[0]):+.2f} ms at p99 after the "
          f"verdict, {median(c[1]):+.1f} ms at p99 end to end ({median(c[2]):+.1f} ms at p50), "
          f"CPU {median(c[3]):+.3f} s per 1k")
    for label, pick in [("after the verdict p99 ms", lambda r: r["after_verdict_ms"]["p99"]),
                        ("end to end p99 ms", lambda r: r["overall"]["latency_ms"]["p99"]),
                        ("CPU s per 1k", lambda r: r["cost"]["cpu_seconds_per_1k"])]:
        sa = median(pick(load(f"{a_name}-{p}")) for p in range(1, pairs + 1))
        sb = median(pick(load(f"{b_name}-{p}")) for p in range(1, pairs + 1))
        print(f"  medians, {label}: {a_name} {sa:.3f}, {b_name} {sb:.3f}")
PY
done
