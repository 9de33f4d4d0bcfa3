#!/usr/bin/env bash
# What an auditor webhook endpoint costs at load, and how fast it is acknowledged: interleaved
# pairs of identical bench-rig runs (interleaved-pairs.sh) of this tree's appliance, without
# any endpoint, then with one local endpoint receiving every receipt (v1 and v1a signatures)
# served by the reference receiver (`appliance webhooks receive`, on this host), which fails
# FAIL_PERCENT % of attempts at random (500).
#
#   bench-rig/scripts/webhook-cost.sh [PAIRS] [RPS] [SECONDS] [FAIL_PERCENT]
#       # defaults: 1 pair at 800 req/s for 600 s (after a 5 s warm-up), a healthy receiver
#
# For each run with the endpoint, once the rig is done it waits (up to 15 minutes) until the
# endpoint is owed nothing, then prints the acknowledgement latency of every receipt, from its
# decision to the acknowledgement of the message carrying it (the ledger's times), at
# p50/p95/p99 and worst, the messages and attempts, and whether every receipt stored reached
# the receiver exactly once. Besides, the end-to-end latency and CPU per 1k proofs of both
# sides, as interleaved-pairs.sh prints them. Reports stay under target/webhook-cost/.
set -euo pipefail
pairs=${1:-1}
rps=${2:-800}
seconds=${3:-600}
fail=${4:-0}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/webhook-cost"
mkdir -p "$out"
(cd "$root" && cargo build --release --bin appliance >&2)
cp "$root/target/release/appliance" "$out/appliance"

# Adds the endpoint, then starts the receiver with its secret on the port it names.
setup() { # dir binary admin
  local dir=$1 bin=$2 admin=$3 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$bin" ctl --admin "http://$admin" --state-dir "$dir/state" webhooks add \
    "http://127.0.0.1:$port/hook" --event receipt.issued --scheme v1 --scheme v1a --local \
    --rate-per-s 100 --reason "bench-rig webhook cost" >"$dir/endpoint.json"
  local secret
  secret=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret"])' "$dir/endpoint.json")
  "$bin" webhooks receive --listen "127.0.0.1:$port" --out "$dir/received" --secret "$secret" \
    --state-dir "$dir/state" --fail-percent "$fail" >"$dir/receiver.out" 2>"$dir/receiver.log" &
  echo $! >"$dir/receiver.pid"
  for _ in $(seq 1 100); do grep -q listening "$dir/receiver.out" 2>/dev/null && break; sleep 0.1; done
}

# Waits until the endpoint is owed nothing, then reports from the ledger and the receiver.
after() { # dir binary admin
  local dir=$1 bin=$2 admin=$3
  local deadline=$((SECONDS + 900))
  while [ $SECONDS -lt $deadline ]; do
    "$bin" ctl --admin "http://$admin" --state-dir "$dir/state" webhooks list >"$dir/webhooks.json" || true
    python3 - "$dir/webhooks.json" <<'PY' && break
import json, sys
endpoint = json.load(open(sys.argv[1]))["endpoints"][0]["delivery"]
sys.exit(0 if endpoint["owed_messages"] == 0 and endpoint["receipts_behind"] == 0 else 1)
PY
    sleep 2
  done
  kill "$(cat "$dir/receiver.pid")" 2>/dev/null || true
  python3 - "$dir" <<'PY' | tee "$dir/webhook-report.txt"
import json, sqlite3, sys
dir = sys.argv[1]
db = sqlite3.connect(f"file:{dir}/state/ledger.sqlite?mode=ro", uri=True)
lat = sorted(r[0] / 1e6 for r in db.execute(
    "SELECT m.acked_us - r.decided_us FROM webhook_messages m JOIN receipts r "
    "ON r.seq BETWEEN m.first_receipt AND m.last_receipt "
    "WHERE m.event = 'receipt.issued' AND m.acked_us IS NOT NULL"))
owed = db.execute("SELECT COUNT(*) FROM webhook_messages WHERE acked_us IS NULL").fetchone()[0]
messages, attempts = db.execute(
    "SELECT COUNT(*), SUM(attempts) FROM webhook_messages").fetchone()
stored = {r[0] for r in db.execute(
    "SELECT seq FROM receipts r JOIN tenant_names t ON t.id = r.tenant "
    "WHERE t.name != 'appliance:anchor'")}
seen = [json.loads(line)["seq"] for line in open(f"{dir}/received/receipts.jsonl")]
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"webhook acknowledgement latency over {len(lat)} receipts: p50 {pick(0.5):.2f} s, "
      f"p95 {pick(0.95):.2f} s, p99 {pick(0.99):.2f} s, worst {lat[-1]:.2f} s")
print(f"  {messages} messages, {attempts} attempts, {owed} not acknowledged; receiver has "
      f"{len(set(seen))} of {len(stored)} receipts stored, {len(seen) - len(set(seen))} twice, "
      f"{len(stored - set(seen))} missing")
PY
}
export -f setup after
export fail
B_SETUP=setup B_AFTER=after PAIRS_OUT="$out/pairs" \
  exec "$root/bench-rig/scripts/interleaved-pairs.sh" "$out/appliance" "$out/appliance" \
  "$pairs" "$rps" "$seconds" no-endpoint endpoint
