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
rig_pid=""
trap '[ -n "$rig_pid" ] && kill "$rig_pid" 2>/dev/null; [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

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
  >"$out/rig.out" 2>"$out/rig.err" &
rig_pid=$!

# Evaluations count from the first run judged on both windows (the warm-up's runs lack a
# baseline and are never a pass or a failure). The status and the counters are read together,
# and taken only when they agree (no run ended between the two reads); that run is counted.
canary_status() { "$appliance" ctl --admin "$admin" --state-dir "$state" canary status --json; }
first_judged() { # STATUS_FILE METRICS_FILE: the run's number, or nothing
  python3 - "$1" "$2" <<'PY' 2>/dev/null || true
import json, re, sys
status = json.load(open(sys.argv[1]))
latest = status.get("latest") or {}
runs = sum(float(v) for v in re.findall(
    r'^trust_fabric_canary_runs_total\{overall="\w+"\} (\S+)$', open(sys.argv[2]).read(), re.M))
judged = latest and "no-data" not in [c["score"] for c in latest["comparators"]]
if judged and runs == status["runs"] == latest["number"]:
    print(latest["number"])
PY
}
first_run=""
while [ -z "$first_run" ]; do
  if ! kill -0 "$rig_pid" 2>/dev/null; then
    echo "the rig ended before the canary judged a run on both windows (runs shorter than" \
      "the warm-up, about 90 s at the defaults, never do); the rig said:" >&2
    tail -5 "$out/rig.err" >&2
    exit 1
  fi
  sleep 2
  canary_status >"$out/status-start.json" 2>/dev/null || continue
  curl -fsS "$admin/metrics" >"$out/metrics-start.txt" || continue
  first_run=$(first_judged "$out/status-start.json" "$out/metrics-start.txt")
done
wait "$rig_pid" || true

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
