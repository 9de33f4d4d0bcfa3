#!/usr/bin/env bash
# The planes keep their distance (docs/architecture.md, "Crates and what they may depend on"):
# the data plane never depends on the control plane, the admin server or actix; the control
# plane never on the data plane, actix-web or glommio; the seam on no runtime at all. And no
# crate's modules import each other in a circle. Prints what breaks a rule; exits 1 if any.
set -euo pipefail
cd "$(dirname "$0")/../.."
failed=0
forbid() { # crate regex why
  local hits
  hits=$(cargo tree -p "$1" -e normal --prefix none 2>/dev/null | awk '{print $1}' | sort -u \
    | grep -E "^($2)$" | tr '\n' ' ' || true)
  if [ -n "$hits" ]; then
    echo "layering: $1 depends on ${hits}($3)" >&2
    failed=1
  fi
}
forbid tf-dataplane 'tf-control|tf-admin|tf-admin-api|actix|actix-web|actix-rt|tf-fleet|postgres' \
  "the data plane meets the control plane only on the board, and the fleet's database is never on the partner's path"
forbid tf-control 'tf-dataplane|tf-admin|actix-web|glommio' \
  "the control plane drives shards through tf_seam::Shards and serves no HTTP"
forbid tf-seam 'glommio|actix|actix-rt|tokio|tf-dataplane|tf-control|tf-admin|tf-ledger' \
  "the seam is plain data and atomics"
forbid tf-admin 'tf-dataplane|glommio' \
  "the admin server talks to actors and reads the board"
forbid tf-fleet 'tf-dataplane|tf-control|tf-admin|glommio|actix' \
  "the fleet's database layer is a library the control plane's workers call"
python3 tests/tools/module-cycles.py . || failed=1
exit "$failed"
