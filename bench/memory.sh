#!/usr/bin/env bash
# Resident memory of a release server under log-in floods (bench/memory.py): before, peak, and
# 30 s after 128 right-password log-ins (32 at a time) and 512 wrong ones (64 at a time).
# usage: bench/memory.sh   (the database is deleted after)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# Log-ins need no browser bundle: without one, run without it.
if [ ! -f "$SITE_ROOT/bundle-name" ]; then
  SITE_ROOT="$ROOT/target/bench-no-bundle"
  mkdir -p "$SITE_ROOT"
  echo backyard >"$SITE_ROOT/bundle-name"
fi
# Each log-in comes from its own address (X-Bench-Client), so no per-address limit refuses it
# before its password is hashed: the flood reaches the hashing queue.
BACKYARD_CLIENT_IP_HEADER=X-Bench-Client BACKYARD_LOG=error start_demo_server
say "Memory under log-in floods"
python3 "$ROOT/bench/memory.py" "$BASE" "$SERVER"
