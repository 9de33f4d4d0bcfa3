# shellcheck shell=bash
# The golden canary in the rig's scripts, sourced after appliance-lib.sh (needs $out,
# $appliance, $state; `rig_pid` for waiting).

# Lists the canary's tenant in $out/appliance.toml (as the defaults do) and an admin listener
# on a free port, whose URL goes to `admin`.
canary_config() {
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat >>"$out/appliance.toml" <<TOML
[[tenants]]
id = "canary"
rate_per_sec = 100
burst = 50
max_registered_keys = 8

[admin]
listen = "127.0.0.1:$port"
TOML
  admin="http://127.0.0.1:$port"
}

# The canary's status as JSON (`ctl canary status --json`).
canary_status() { "$appliance" ctl --admin "$admin" --state-dir "$state" canary status --json; }

# The number of the latest run, when it was judged on both windows and the run counters in
# METRICS_FILE agree with STATUS_FILE (no run ended between the two reads); else nothing.
first_judged() { # STATUS_FILE METRICS_FILE
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

# Waits for the first run judged on both windows while the rig (`rig_pid`) runs; leaves the
# status and counters read then in $out/status-start.json and $out/metrics-start.txt, and
# the run's number in `first_run`. Exits if the rig ends first.
wait_first_judged() {
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
}
