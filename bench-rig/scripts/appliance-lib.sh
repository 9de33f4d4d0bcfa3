# shellcheck shell=bash
# Shared by the measurement scripts (sourced, not run): the binaries, a fresh appliance with
# four tenants, and starting and stopping it. Each script sets `root` and `out` first.

# Sets `appliance` and `rig`: the appliance binary given (absolute), or the release build of
# this tree; the bench-rig named by $RIG, or the release build. Builds what is needed.
use_binaries() { # [APPLIANCE]
  if [ -n "${1:-}" ]; then
    appliance=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    [ -n "${RIG:-}" ] || cargo build --release --bin bench-rig >&2
  else
    cargo build --release --bin appliance --bin bench-rig >&2
    appliance="$root/target/release/appliance"
  fi
  rig=${RIG:-$root/target/release/bench-rig}
  rig=$(cd "$(dirname "$rig")" && pwd)/$(basename "$rig")
}

# A state directory under $out/state with four tenants (demo, acme, globex, umbrella), each
# issued a certificate, listed in $out/appliance.toml; acme weighs ACME_WEIGHT (default 1).
# $APPLIANCE_TOML is appended to the configuration, to measure a setting against the defaults
# (e.g. APPLIANCE_TOML=$'[scheduling]\nlatency_budget_ms = 100').
four_tenants() { # [ACME_WEIGHT]
  "$appliance" init --state-dir "$out/state" >/dev/null
  for t in acme globex umbrella; do "$appliance" tenants issue "$t" --state-dir "$out/state" >/dev/null; done
  printf '[[tenants]]\nid = "demo"\n[[tenants]]\nid = "acme"\nweight = %s\n[[tenants]]\nid = "globex"\n[[tenants]]\nid = "umbrella"\n%s\n' \
    "${1:-1}" "${APPLIANCE_TOML:-}" >"$out/appliance.toml"
}

# Starts the appliance on $out/state and $out/appliance.toml, logging to $out/serve-NAME.log;
# returns once it listens, with its process id in `serve_pid`.
serve() { # NAME [MORE ARGUMENTS TO appliance serve]
  rm -f "$out/state/partner.toml"
  "$appliance" serve --config "$out/appliance.toml" --state-dir "$out/state" --listen 127.0.0.1:0 \
    "${@:2}" >/dev/null 2>"$out/serve-$1.log" &
  serve_pid=$!
  for _ in $(seq 1 300); do [ -f "$out/state/partner.toml" ] && break; sleep 0.1; done
  if [ ! -f "$out/state/partner.toml" ]; then
    echo "the appliance did not start within 30 s; its log ($out/serve-$1.log) ends:" >&2
    tail -n 20 "$out/serve-$1.log" >&2
    exit 1
  fi
  sleep 1
}

stop_serving() {
  kill "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=""
}
