#!/usr/bin/env bash
# Abuse benchmarks (bench/abuse.py) against a release build on a fresh demo database, with the
# default limits. Prints the figures.
# usage: bench/abuse.sh [--no-limits]   (the database is deleted after)
#   --no-limits turns the per-address limits off, to see what they are worth.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [ "${1:-}" = "--no-limits" ]; then
  export BACKYARD_IP_CONCURRENCY=0 BACKYARD_IP_WRITES_PER_MINUTE=0
fi
BACKYARD_LOG=error start_demo_server
python3 "$ROOT/bench/abuse.py" "$BASE"
