#!/usr/bin/env bash
# Write timings (replies, moderator actions) against a release build on a fresh demo database.
# usage: bench/writes.sh [N]   (N replies, then N hides and N restores; default 200)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# One client writes far faster than a person: the per-address write limit is off here.
BACKYARD_IP_WRITES_PER_MINUTE=0 start_demo_server
python3 "$ROOT/bench/writes.py" "$BASE" "${1:-200}"
