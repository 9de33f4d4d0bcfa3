#!/usr/bin/env bash
# The product plan's soak: bench-rig steady at RPS for MINUTES against a fresh appliance on its
# defaults (4 tenants of weight 1, the default mix), sampling every minute the appliance's
# resident memory (in all, its heap and other anonymous pages, and file pages such as its code)
# and the ledger (file bytes, receipts stored). Prints, and writes as
# summary.md: p50/p95/p99/p99.9, errors, Gini, CPU, CPU-s per 1k proofs against the floors of
# the same run, RSS at start and end, and the ledger's growth.
#
#   bench-rig/scripts/soak.sh [MINUTES] [RPS] [APPLIANCE]
#       # defaults: 60 minutes at 800 req/s, the release build of this tree; $RIG names a
#       # bench-rig binary to use instead of building one
#
# Everything stays under target/soak/ (or $SOAK_OUT): the rig's report, with its plots as SVG
# images under soak/plots/, samples.csv, and summary.md.
set -euo pipefail
minutes=${1:-60}
rps=${2:-800}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${SOAK_OUT:-$root/target/soak}
rm -rf "$out" && mkdir -p "$out"
cd "$root"
# shellcheck source-path=SCRIPTDIR source=appliance-lib.sh
. "$root/bench-rig/scripts/appliance-lib.sh"
use_binaries "${3:-}"
state="$out/state"
serve_pid=""
rig_pid=""
trap '[ -n "$rig_pid" ] && kill "$rig_pid" 2>/dev/null; [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; true' EXIT

four_tenants
serve soak

"$rig" steady --rps "$rps" --duration "${minutes}m" --appliance-config "$out/appliance.toml" \
  --state-dir "$state" --appliance-pid "$serve_pid" --out "$out/soak" \
  --target p95_ms=25,p99_ms=50,error_rate=0,gini=0.05 >"$out/soak.out" 2>"$out/soak.err" &
rig_pid=$!

sample() { # minute
  local ledger memory
  ledger=$(du -sb "$state"/ledger.sqlite "$state"/ledger.sqlite-wal 2>/dev/null | awk '{s += $1} END {print s + 0}' || true)
  memory=$(awk '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} END {print r + 0 "," a + 0 "," f + 0}' \
    "/proc/$serve_pid/status" 2>/dev/null) || memory=0,0,0
  python3 - "$state/ledger.sqlite" "$1" "$ledger" "$memory" <<'PY'
import sqlite3, sys
path, minute, ledger, memory = sys.argv[1:]
db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
stored = db.execute("SELECT count(*) FROM receipts").fetchone()[0]
print(f"{minute},{memory},{stored},{ledger}")
PY
}
echo "minute,rss_kib,anon_kib,file_kib,receipts_stored,ledger_bytes" >"$out/samples.csv"
sample 0 >>"$out/samples.csv" || true
minute=0
while kill -0 "$rig_pid" 2>/dev/null; do
  sleep 60
  minute=$((minute + 1))
  kill -0 "$rig_pid" 2>/dev/null || break
  # A failed sample (a busy database) is reported and skipped; it must not end the soak.
  sample "$minute" | tee -a "$out/samples.csv" >&2 || echo "minute $minute: sampling failed" >&2
done
wait "$rig_pid" || true
rig_pid=""
sample end >>"$out/samples.csv" || true

python3 - "$out" "$minutes" "$rps" <<'PY' | tee "$out/summary.md"
import csv, json, os, sys
out, minutes, rps = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(os.path.join(out, "soak", "report.json")))
o, f, a, cost = r["overall"], r["floor"], r.get("appliance") or {}, r["cost"]
lat = o["latency_ms"]
rows = list(csv.DictReader(open(os.path.join(out, "samples.csv"))))
# Memory: minute 1, once the warm-up has filled the pools, against the last minute under load
# (the sample after the run, when the load has stopped, is shown beside it). The ledger: at
# the end.
loaded = [row for row in rows if row["minute"] != "end"]
first, under_load, last = loaded[min(1, len(loaded) - 1)], loaded[-1], rows[-1]
rss0, rss1 = int(first["rss_kib"]) / 1024, int(under_load["rss_kib"]) / 1024
rss_after = int(last["rss_kib"]) / 1024
receipts, ledger = int(last["receipts_stored"]), int(last["ledger_bytes"])
hours = float(minutes) / 60
errors = sum(o["errors"].values())
per_1k = cost["cpu_seconds_per_1k"]
print(f"| soak: steady {rps} req/s for {minutes} min | value |")
print("|---|---|")
print(f"| served | {o['served_rps']:.1f} req/s, {o['served']} answers, {o['valid']} valid |")
print(f"| latency p50 / p95 / p99 / p99.9 / max | {lat['p50']:.1f} / {lat['p95']:.1f} / "
      f"{lat['p99']:.1f} / {lat['p999']:.1f} / {lat['max']:.1f} ms |")
print(f"| errors | {errors} ({', '.join(f'{k} {v}' for k, v in o['errors'].items() if v) or 'none'}) |")
print(f"| Gini (served against fair share) | {r['fairness']['gini']:.3f} |")
print(f"| appliance CPU | {a.get('utilisation', float('nan')) * 100:.1f} % of {a.get('cores', f['cores'])} cores |")
print(f"| CPU-s per 1k proofs | {per_1k:.3f} = {per_1k / f['mix_batched_ms']:.2f} x batched floor "
      f"({f['mix_batched_ms']:.3f} ms), {per_1k / f['mix_single_ms']:.2f} x single floor "
      f"({f['mix_single_ms']:.3f} ms) |")
print(f"| resident memory, minute 1 / last minute under load / growth | {rss0:.1f} / "
      f"{rss1:.1f} MiB / {(rss1 / rss0 - 1) * 100:+.1f} % ({rss_after:.1f} MiB after the run; the rig read {a.get('rss_start_mib', float('nan')):.1f} "
      f"after the warm-up, {a.get('rss_end_mib', float('nan')):.1f} at the end, "
      f"{a.get('rss_max_mib', float('nan')):.1f} MiB at most) |")
anon0, anon1 = int(first["anon_kib"]) / 1024, int(under_load["anon_kib"]) / 1024
file0, file1 = int(first["file_kib"]) / 1024, int(under_load["file_kib"]) / 1024
print(f"| of which the heap and other anonymous pages / file pages (its code) | {anon0:.1f} to "
      f"{anon1:.1f} MiB / {file0:.1f} to {file1:.1f} MiB |")
print(f"| ledger | {receipts} receipts, {ledger / 1e6:.1f} MB = {ledger / hours / 1e6:.0f} MB per hour, "
      f"{ledger / max(receipts, 1):.0f} bytes per receipt |")
print(f"| verdict against p95 25 ms, p99 50 ms, no error, Gini 0.05 | {r['verdict']} |")
PY
