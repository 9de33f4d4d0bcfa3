#!/usr/bin/env bash
# The golden canary's false alarms: an A/A run (nothing changes) of bench-rig at RPS for
# MINUTES against a fresh appliance on four tenants and the canary's, the canary judging
# every 10 s with its latency comparator. PROFILE is steady, or burst (swings of +-30 %
# around RPS after a steady third). Prints the canary's evaluations by verdict, its alarms
# and the alarm rate per evaluation (goal under 0.8 %), the rig's percentiles, and the CPU
# the canary's thread took.
#
#   bench-rig/scripts/canary-aa.sh [MINUTES] [RPS] [PROFILE]   # defaults: 30, 800, steady
#
# Everything stays under target/canary-aa-PROFILE/ (or $CANARY_OUT).
set -euo pipefail
minutes=${1:-30}
rps=${2:-800}
profile=${3:-steady}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${CANARY_OUT:-$root/target/canary-aa-$profile}
rm -rf "$out" && mkdir -p "$out"
cd "$root"
# shellcheck source-path=SCRIPTDIR source=appliance-lib.sh
. "$root/bench-rig/scripts/appliance-lib.sh"
use_binaries "${4:-}"
state="$out/state"
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

four_tenants
admin_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >>"$out/appliance.toml" <<TOML
[[tenants]]
id = "canary"
rate_per_sec = 100
burst = 50
max_registered_keys = 8

[admin]
listen = "127.0.0.1:$admin_port"
TOML
serve canary-aa
admin="http://127.0.0.1:$admin_port"

"$rig" "$profile" --rps "$rps" --duration "${minutes}m" --appliance-config "$out/appliance.toml" \
  --state-dir "$state" --appliance-pid "$serve_pid" --out "$out/rig" \
  >"$out/rig.out" 2>"$out/rig.err" || true

curl -fsS "$admin/metrics" >"$out/metrics.txt"
"$appliance" ctl --admin "$admin" --state-dir "$state" canary status --json >"$out/canary.json"
"$appliance" ctl --admin "$admin" --state-dir "$state" canary silences >"$out/timeline.txt"
canary_cpu=$(for task in /proc/"$serve_pid"/task/*; do
  if [ "$(cat "$task/comm")" = "canary" ]; then awk '{print ($14 + $15) / 100}' "$task/stat"; fi
done)
total_cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$serve_pid/stat")
stop_serving

python3 - "$out" "$minutes" "$rps" "$profile" "$canary_cpu" "$total_cpu" <<'PY'
import json, re, sys
out, minutes, rps, profile, canary_cpu, total_cpu = sys.argv[1:]
metrics = open(f"{out}/metrics.txt").read()
runs = {m.group(1): float(m.group(2)) for m in re.finditer(
    r'^trust_fabric_canary_runs_total\{overall="(\w+)"\} (\S+)$', metrics, re.M)}
total = sum(runs.values())
timeline = open(f"{out}/timeline.txt").read()
alarms = timeline.count("alarm: the canary fails")
status = json.load(open(f"{out}/canary.json"))
failing = [r for r in status["recent"] if r["overall"] == "fail"]
lines = [
    f"# Golden canary A/A: {profile}, {rps} req/s, {minutes} min",
    "",
    f"- evaluations: {total:.0f} (pass {runs.get('pass', 0):.0f}, marginal {runs.get('marginal', 0):.0f}, fail {runs.get('fail', 0):.0f})",
    f"- alarms raised: {alarms}; alarm rate per evaluation: {100 * runs.get('fail', 0) / max(total, 1):.2f} % (goal under 0.8 %)",
    f"- the canary's thread: {float(canary_cpu or 0):.2f} CPU-s of the appliance's {float(total_cpu):.1f} ({100 * float(canary_cpu or 0) / max(float(total_cpu), 1e-9):.3f} %)",
    f"- baseline median {status['baseline']['median_ms']} ms over {status['baseline']['samples']} samples; current median {status['current']['median_ms']} ms",
    "",
    "The rig's report:",
    "",
]
lines += ["    " + l for l in open(f"{out}/rig.out").read().splitlines()[-25:]]
if failing:
    lines += ["", "Failing runs among the last 60:"] + [f"- {r['finished']}: {r['scores']}" for r in failing]
text = "\n".join(lines) + "\n"
open(f"{out}/summary.md", "w").write(text)
print(text)
PY
