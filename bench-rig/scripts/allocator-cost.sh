#!/usr/bin/env bash
# What mimalloc saves: the appliance built with the system allocator
# (`--features system-allocator`) against this tree's appliance (mimalloc), in interleaved pairs
# (feature-cost.sh); compare their CPU per 1k proofs.
#
#   bench-rig/scripts/allocator-cost.sh [PAIRS] [RPS] [SECONDS] [BASELINE_APPLIANCE]
exec "$(dirname "$0")/feature-cost.sh" system-allocator system mimalloc "$@"
