#!/usr/bin/env bash
# What fleet mode costs one appliance at load: interleaved pairs of identical bench-rig runs,
# the appliance alone (A) and the same binary with [fleet] on a local PostgreSQL (B), four
# tenants each with a calendar cap every request is charged to (so every request is admitted
# within a lease). For B it also reports the fleet's database traffic (transactions per
# second), how many units of each cap sat in leases (the price of never overspending), and
# the shipping lag, and how many of its statements took over 100 ms.
#
#   bench-rig/scripts/fleet-cost.sh [PAIRS] [RPS] [SECONDS]
#       # defaults: 3 pairs at 800 req/s, 20 s each (after a 5 s warm-up)
#
# Needs Debian's postgresql (tests/run installs it); the cluster runs as the postgres user.
# Reports stay under target/fleet-cost/.
set -euo pipefail
pairs=${1:-3}
rps=${2:-800}
seconds=${3:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/target/fleet-cost"
rm -rf "$out" && mkdir -p "$out"
cd "$root"
cargo build --release --bin appliance --bin bench-rig >&2
cp target/release/appliance "$out/appliance"

pg=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
[ -n "$pg" ] || { echo "PostgreSQL is not installed: apt-get install postgresql" >&2; exit 1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pgdir="$out/pg"
mkdir -p "$pgdir" && [ "$(id -u)" != 0 ] || chown postgres "$pgdir"
as_postgres "$pg/initdb" -U fleet -A trust -E UTF8 -D "$pgdir/data" >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Statements over 100 ms are logged, and counted at the end: none is expected.
as_postgres "$pg/postgres" -D "$pgdir/data" -p "$port" -k "$pgdir" -c listen_addresses=127.0.0.1 \
  -c log_min_duration_statement=100 >"$pgdir/log" 2>&1 &
pg_pid=$!
# pg_ctl, not a signal to runuser, which does not pass it on.
trap 'as_postgres "$pg/pg_ctl" -D "$pgdir/data" stop -m fast -w >/dev/null 2>&1; wait "$pg_pid" 2>/dev/null; true' EXIT
for _ in $(seq 1 100); do "$pg/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
"$pg/createdb" -h 127.0.0.1 -p "$port" -U fleet fleet
psql() { "$pg/psql" -h 127.0.0.1 -p "$port" -U fleet -d fleet -At -c "$1"; }

tenants=""
for t in acme globex umbrella initech; do
  tenants+=$'[[tenants]]\nid = "'"$t"$'"\n[[tenants.caps]]\nclass = "P2"\nlimit = 1000000000000\nwindow = "month"\n\n'
done
export TENANTS_CONFIG="$tenants"
export B_CONFIG="[fleet]
postgres = \"postgres://fleet@127.0.0.1:$port/fleet\"
node = \"{run}\""

# B's runs: the database's transactions and the units in leases, sampled while the rig runs.
fleet_setup() { # run folder, binary, admin address
  psql "SELECT xact_commit FROM pg_stat_database WHERE datname = 'fleet'" >"$1/xact-before"
  date +%s.%N >"$1/time-before"
  ( while :; do
      psql "SELECT COALESCE(SUM(leased), 0) FROM fleet_pools" >>"$1/leased"
      sleep 0.5
    done ) &
  echo $! >"$1/sampler.pid"
}
fleet_after() { # run folder, binary, admin address
  kill "$(cat "$1/sampler.pid")" 2>/dev/null || true
  psql "SELECT xact_commit FROM pg_stat_database WHERE datname = 'fleet'" >"$1/xact-after"
  date +%s.%N >"$1/time-after"
  curl -s "http://$3/metrics" >"$1/metrics.txt" || true
  sleep 1 # a tick: the last receipts ship
  python3 - "$1" <<'PY'
import re, sys
d = sys.argv[1]
read = lambda f: open(f"{d}/{f}").read().strip()
xacts = int(read("xact-after")) - int(read("xact-before"))
span = float(read("time-after")) - float(read("time-before"))
leased = sorted(int(x) for x in read("leased").split() if x)
metrics = read("metrics.txt")
buckets = [(float(le), float(v)) for le, v in re.findall(
    r'trust_fabric_fleet_shipping_lag_seconds_bucket\{le="([0-9.e+]+)"\} (\S+)', metrics)]
count = next((float(v) for v in re.findall(r"trust_fabric_fleet_shipping_lag_seconds_count (\S+)", metrics)), 0)
def quantile(q):
    for le, v in buckets:
        if count and v >= q * count:
            return f"<= {le * 1000:.0f} ms"
    return "above the last bucket"
share = re.findall(r"trust_fabric_fleet_share_refusals_total\{[^}]*\} (\S+)", metrics)
renewals = re.findall(r"^trust_fabric_fleet_lease_renewals_total (\S+)", metrics, re.M)
print(f"{'':19}fleet: {xacts / span:.1f} database transactions/s; units in leases (all four "
      f"caps) median {leased[len(leased) // 2] if leased else 0}, max {leased[-1] if leased else 0}; "
      f"shipping lag p50 {quantile(0.5)}, p99 {quantile(0.99)} ({count:.0f} batches); "
      f"lease renewals {renewals[0] if renewals else '?'}; share refusals "
      f"{sum(float(x) for x in share):.0f}")
PY
}
export B_SETUP=fleet_setup B_AFTER=fleet_after
export -f fleet_setup fleet_after psql
export pg port
# Not exec: the cluster is stopped when this script ends.
"$root/bench-rig/scripts/interleaved-pairs.sh" "$out/appliance" "$out/appliance" \
  "$pairs" "$rps" "$seconds" alone fleet
echo "  PostgreSQL statements over 100 ms: $(grep -c 'duration:' "$pgdir/log" || true) (in $pgdir/log)"
