#!/usr/bin/env bash
# Starts and SIGKILLs the appliance again and again while two busy loops compete for the
# CPUs, and counts start-ups where the shards were not all listening within 10 s. A shard
# executor that parks before its first task used to stall start-up about once in 200 starts
# on a 2-core host; the main thread now wakes it (dataplane launch.rs, nudge.rs).
#
#   bench-rig/scripts/start-under-contention.sh [STARTS] [APPLIANCE]
#       # defaults: 600 starts, this tree's debug appliance (name another binary to compare)
set -euo pipefail
starts=${1:-600}
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${2:-}" ]; then
    (cd "$root" && cargo build -p appliance >&2)
fi
appliance=$(realpath "${2:-$root/target/debug/appliance}")
work=$(mktemp -d)
hogs=()
cleanup() {
    kill "${hogs[@]}" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
"$appliance" init --state-dir state >/dev/null
: > appliance.toml
for _ in 1 2; do
    (while :; do :; done) &
    hogs+=($!)
done
stalled=0
for start in $(seq 1 "$starts"); do
    rm -f state/partner.toml
    "$appliance" serve --config appliance.toml --state-dir state --listen 127.0.0.1:0 \
        --admin-listen 127.0.0.1:0 >serve.log 2>&1 &
    pid=$!
    began=$(date +%s%N)
    while [ ! -f state/partner.toml ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "start $start: exited before listening" >&2
            tail -3 serve.log >&2
            stalled=$((stalled + 1))
            break
        fi
        if [ $(( ($(date +%s%N) - began) / 1000000 )) -gt 10000 ]; then
            echo "start $start: not listening after 10 s" >&2
            stalled=$((stalled + 1))
            break
        fi
        sleep 0.02
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
echo "starts=$starts stalled=$stalled"
