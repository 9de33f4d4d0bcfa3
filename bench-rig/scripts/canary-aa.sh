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
# shellcheck source-path=SCRIPTDIR source=canary-lib.sh
. "$root/bench-rig/scripts/canary-lib.sh"
use_binaries "${4:-}"
state="$out/state"
serve_pid=""
rig_pid=""
trap '[ -n "$rig_pid" ] && kill "$rig_pid" 2>/dev/null; [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

four_tenants
canary_config
serve canary-aa

"$rig" "$profile" --rps "$rps" --duration "${minutes}m" --appliance-config "$out/appliance.toml" \
  --state-dir "$state" --appliance-pid "$serve_pid" --out "$out/rig" \
  >"$out/rig.out" 2>"$out/rig.err" &
rig_pid=$!

# Evaluations count from the first run judged on both windows (the warm-up's runs lack a
# baseline and are never a pass or a failure); that run is counted.
wait_first_judged
wait "$rig_pid" || true
rig_pid=""

curl -fsS "$admin/metrics" >"$out/metrics.txt"
canary_status >"$out/canary.json"
ticks=$(getconf CLK_TCK)
canary_cpu=$(for task in /proc/"$serve_pid"/task/*; do
  if [ "$(cat "$task/comm")" = "canary" ]; then awk -v t="$ticks" '{print ($14 + $15) / t}' "$task/stat"; fi
done)
total_cpu=$(awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$serve_pid/stat")
stop_serving

python3 - "$out" "$minutes" "$rps" "$profile" "$canary_cpu" "$total_cpu" "$state/ledger.sqlite" "$first_run" <<'PY'
import json, re, sqlite3, sys
out, minutes, rps, profile, canary_cpu, total_cpu, ledger, first_run = sys.argv[1:]
first_run = int(first_run)
def runs(path):
    text = open(path).read()
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^trust_fabric_canary_runs_total\{overall="(\w+)"\} (\S+)$', text, re.M)}
start, end = runs(f"{out}/metrics-start.txt"), runs(f"{out}/metrics.txt")
# The first judged run was counted in the starting counters: it belongs to the evaluations.
first = json.load(open(f"{out}/status-start.json"))["latest"]["overall"]
start[first] = start.get(first, 0) - 1
counted = {k: end.get(k, 0) - start.get(k, 0) for k in ("pass", "marginal", "fail")}
total = sum(counted.values())
# Alarms are episodes, recorded in the ledger (the timeline shows only the latest 50); those
# raised from the first judged run on.
with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
    bodies = db.execute("SELECT body FROM control_events WHERE kind = 'canary.alarm'").fetchall()
alarms = sum(1 for (body,) in bodies if json.loads(body).get("run", 0) >= first_run)
warm_up_alarms = len(bodies) - alarms
status = json.load(open(f"{out}/canary.json"))
failing = [r for r in status["recent"] if r["overall"] == "fail"]
lines = [
    f"# Golden canary A/A: {profile}, {rps} req/s, {minutes} min",
    "",
    f"- evaluations judged on both windows: {total:.0f} (pass {counted['pass']:.0f}, marginal {counted['marginal']:.0f}, fail {counted['fail']:.0f}); {first_run - 1} runs before them (the warm-up, {warm_up_alarms} alarms in it)",
    f"- alarms raised: {alarms}; per evaluation: {100 * alarms / max(total, 1):.2f} % (goal under 0.8 %); failing evaluations: {100 * counted['fail'] / max(total, 1):.2f} %",
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
