#!/usr/bin/env bash
# What the transparency log costs at load: the appliance built without the log worker
# (`--features without-log`: no checkpoints, no tiles) against this tree's appliance, in
# interleaved pairs (feature-cost.sh): end-to-end latency and CPU per 1k proofs.
#
#   bench-rig/scripts/log-cost.sh [PAIRS] [RPS] [SECONDS] [BASELINE_APPLIANCE]
exec "$(dirname "$0")/feature-cost.sh" without-log no-log log "$@"
