#!/usr/bin/env bash
# The ledger over a long soak: bench-rig steady at RPS for MINUTES against the appliance with
# a retention of RETENTION and a compliance snapshot on SCHEDULE, sampling every minute the
# ledger's size, the packets' and the log's, and the receipts stored and pruned. With the
# default 30-day retention nothing is pruned in an hour and the ledger's growth per hour is what
# it is; with a retention shorter than the soak the ledger levels off once pruning starts.
#
#   bench-rig/scripts/retention-soak.sh [MINUTES] [RPS] [RETENTION] [SCHEDULE] [APPLIANCE]
#       # defaults: 60 minutes at 800 req/s, retention 10m, a snapshot every 5 minutes
#       # ("*/5 * * * *"), the release build of this tree
#
# Four tenants (demo, acme with weight 2, globex, umbrella). Samples go to
# target/retention-soak/samples.csv; the rig's report to target/retention-soak/soak/.
set -euo pipefail
minutes=${1:-60}
rps=${2:-800}
retention=${3:-10m}
schedule=${4:-*/5 * * * *}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/retention-soak"
rm -rf "$out" && mkdir -p "$out"
cd "$root"
if [ -n "${5:-}" ]; then
  appliance=$(cd "$(dirname "$5")" && pwd)/$(basename "$5")
  cargo build --release --bin bench-rig >&2
else
  cargo build --release --bin appliance --bin bench-rig >&2
  appliance="$root/target/release/appliance"
fi
rig="$root/target/release/bench-rig"
state="$out/state"
serve_pid=""
rig_pid=""
trap '[ -n "$rig_pid" ] && kill "$rig_pid" 2>/dev/null; [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

"$appliance" init --state-dir "$state" >/dev/null
for t in acme globex umbrella; do "$appliance" tenants issue "$t" --state-dir "$state" >/dev/null; done
cat >"$out/appliance.toml" <<TOML
[ledger]
retention = "$retention"

[compliance]
schedule = "$schedule"

[[tenants]]
id = "demo"
[[tenants]]
id = "acme"
weight = 2
[[tenants]]
id = "globex"
[[tenants]]
id = "umbrella"
TOML

"$appliance" serve --config "$out/appliance.toml" --state-dir "$state" --listen 127.0.0.1:0 \
  >/dev/null 2>"$out/serve.log" &
serve_pid=$!
for _ in $(seq 1 300); do [ -f "$state/partner.toml" ] && break; sleep 0.1; done
sleep 1

"$rig" steady --rps "$rps" --duration "${minutes}m" --appliance-config "$out/appliance.toml" \
  --state-dir "$state" --appliance-pid "$serve_pid" --out "$out/soak" \
  >"$out/soak.out" 2>"$out/soak.err" &
rig_pid=$!

bytes() { du -sb "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
sample() { # minute
  local ledger
  ledger=$(bytes "$state"/ledger.sqlite "$state"/ledger.sqlite-wal)
  python3 - "$state/ledger.sqlite" "$1" "$ledger" "$(bytes "$state/compliance")" \
    "$(bytes "$state/log")" "$(ls -d "$state"/compliance/snapshot-*/ 2>/dev/null | wc -l)" <<'PY'
import sqlite3, sys
path, minute, ledger, packets, log, count = sys.argv[1:]
db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
stored = db.execute("SELECT count(*) FROM receipts").fetchone()[0]
pruned = db.execute("SELECT coalesce(sum(to_seq - from_seq + 1), 0) FROM pruned_ranges").fetchone()[0]
print(f"{minute},{stored},{pruned},{ledger},{packets},{count},{log}")
PY
}
echo "minute,receipts_stored,receipts_pruned,ledger_bytes,packet_bytes,packets,log_bytes" \
  >"$out/samples.csv"
minute=0
while kill -0 "$rig_pid" 2>/dev/null; do
  sleep 60
  minute=$((minute + 1))
  sample "$minute" | tee -a "$out/samples.csv" >&2
done
wait "$rig_pid" || true
rig_pid=""
sample end >>"$out/samples.csv"

python3 - "$out/samples.csv" "$out/soak/report.json" "$retention" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
report = json.load(open(sys.argv[2]))["overall"]
print(f"served {report.get('served_rps', 0):.0f} req/s, "
      f"p99 {report['served_latency_ms']['p99']:.0f} ms; retention {sys.argv[3]}")
print("minute  stored     pruned     ledger MB  packets MB  packets  log MB")
for row in rows:
    print(f"{row['minute']:>6}  {int(row['receipts_stored']):>9}  {int(row['receipts_pruned']):>9}  "
          f"{int(row['ledger_bytes']) / 1e6:>9.1f}  {int(row['packet_bytes']) / 1e6:>10.1f}  "
          f"{row['packets']:>7}  {int(row['log_bytes']) / 1e6:>6.1f}")
last = rows[-1]
total = int(last["receipts_stored"]) + int(last["receipts_pruned"])
largest = max(rows, key=lambda row: int(row["ledger_bytes"]))
if total:
    print(f"ledger file at most {int(largest['ledger_bytes']) / 1e6:.1f} MB (minute {largest['minute']}); "
          f"{int(last['log_bytes']) / total:.0f} log bytes per receipt logged; "
          f"{int(last['packet_bytes']) / 1e6:.1f} MB of packets")
PY
