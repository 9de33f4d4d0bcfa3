#!/usr/bin/env bash
# The golden canary's true positives: a fault-injection build under the rig's steady RPS, the
# canary at its defaults (every 10 s, windows of 6 and 30 runs). Once the canary judges on
# both windows, each trial turns FAULT on, waits for the canary's alarm (at most 5 min),
# turns the fault off, and waits until the canary passes again. Prints each trial's time and
# runs to detect, the detection rate, and the median time to detect.
#
#   bench-rig/scripts/canary-faults.sh FAULT [TRIALS] [RPS]    # defaults: 5 trials, 800 req/s
#
# FAULT is `verdict` (every 20th verdict turned around: TF_FAULT_WRONG_VERDICT_EVERY=20, so
# about one canary request in 20 gets a wrong verdict) or `delay` (40 ms added to each batch's
# verification: TF_FAULT_VERIFY_DELAY_MS=40). Builds the appliance with the
# `fault-injection` feature as target/release/appliance-faults (never deploy it). Everything
# stays under target/canary-faults-FAULT/ (or $CANARY_OUT).
set -euo pipefail
fault=${1:?FAULT: verdict or delay}
trials=${2:-5}
rps=${3:-800}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${CANARY_OUT:-$root/target/canary-faults-$fault}
rm -rf "$out" && mkdir -p "$out"
cd "$root"
case "$fault" in
  verdict) export TF_FAULT_WRONG_VERDICT_EVERY=20 ;;
  delay) export TF_FAULT_VERIFY_DELAY_MS=40 ;;
  *) echo "FAULT is verdict or delay, not $fault" >&2; exit 2 ;;
esac
export TF_FAULT_SWITCH="$out/fault-on"
cargo build --release --bin appliance --features appliance/fault-injection >&2
cp target/release/appliance target/release/appliance-faults
# The usual binary back in its place, for whatever runs next.
cargo build --release --bin appliance >&2
# shellcheck source-path=SCRIPTDIR source=appliance-lib.sh
. "$root/bench-rig/scripts/appliance-lib.sh"
# shellcheck source-path=SCRIPTDIR source=canary-lib.sh
. "$root/bench-rig/scripts/canary-lib.sh"
use_binaries "$root/target/release/appliance-faults"
state="$out/state"
serve_pid=""
rig_pid=""
trap 'rm -f "$TF_FAULT_SWITCH"; [ -n "$rig_pid" ] && kill "$rig_pid" 2>/dev/null; [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

four_tenants
canary_config
serve canary-faults
# Long enough for every trial: the warm-up, then at most 5 min to detect and 5 to recover.
minutes=$((3 + trials * 10))
"$rig" steady --rps "$rps" --duration "${minutes}m" --appliance-config "$out/appliance.toml" \
  --state-dir "$state" --appliance-pid "$serve_pid" --out "$out/rig" \
  >"$out/rig.out" 2>"$out/rig.err" &
rig_pid=$!
wait_first_judged

field() { # JSON_FILE PYTHON_EXPRESSION_OF_s
  python3 -c "import json, sys; s = json.load(open(sys.argv[1])); print($2)" "$1"
}
now_s() { date +%s.%N; }
results="$out/trials.tsv"
printf 'trial\tdetected\tseconds\truns\n' >"$results"
for trial in $(seq 1 "$trials"); do
  canary_status >"$out/before.json"
  runs_before=$(field "$out/before.json" 's["runs"]')
  touch "$TF_FAULT_SWITCH"
  started=$(now_s)
  detected=no
  while python3 -c "import time, sys; sys.exit(0 if time.time() - float(sys.argv[1]) < 300 else 1)" "$started"; do
    sleep 1
    canary_status >"$out/now.json" 2>/dev/null || continue
    if [ "$(field "$out/now.json" 's["alarm_since"] is not None')" = True ]; then
      detected=yes
      break
    fi
  done
  seconds=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$started" "$(now_s)")
  runs=$(($(field "$out/now.json" 's["runs"]') - runs_before))
  rm -f "$TF_FAULT_SWITCH"
  printf '%s\t%s\t%s\t%s\n' "$trial" "$detected" "$seconds" "$runs" | tee -a "$results"
  # Recovered: the alarm over and a passing run, before the next trial.
  until [ "$(canary_status 2>/dev/null | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["alarm_since"] is None and s.get("overall") == "pass")' 2>/dev/null)" = True ]; do
    kill -0 "$rig_pid" 2>/dev/null || { echo "the rig ended during trial $trial" >&2; exit 1; }
    sleep 2
  done
done
kill "$rig_pid" 2>/dev/null || true
wait "$rig_pid" 2>/dev/null || true
rig_pid=""
stop_serving

python3 - "$results" "$fault" "$rps" <<'PY'
import statistics, sys
path, fault, rps = sys.argv[1:]
rows = [line.split("\t") for line in open(path).read().splitlines()[1:]]
found = [(float(s), int(r)) for _, d, s, r in rows if d == "yes"]
print(f"# Golden canary true positives: {fault}, {rps} req/s, canary at its defaults")
print(f"- detected {len(found)} of {len(rows)} trials within 5 min")
if found:
    print(f"- time to detect: median {statistics.median(s for s, _ in found):.0f} s "
          f"(from {min(s for s, _ in found):.0f} to {max(s for s, _ in found):.0f} s); "
          f"runs: median {statistics.median(r for _, r in found):.0f}")
PY
