#!/usr/bin/env bash
# Abuse benchmarks (bench/abuse.py) against a release build on a fresh demo database, with the
# default limits. Prints the figures.
# usage: bench/abuse.sh [--no-limits]   (port 3300; the database is deleted after)
#   --no-limits turns the per-address limits off, to see what they are worth.
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

[ -f "$SITE_ROOT/bundle-name" ] || build_site
cargo build --release -p server
db=$(mktemp -u /tmp/backyard-abuse-XXXXXX.db)
if [ "${1:-}" = "--no-limits" ]; then
  export BACKYARD_IP_CONCURRENCY=0 BACKYARD_IP_WRITES_PER_MINUTE=0
fi
BACKYARD_ADDR=127.0.0.1:3300 DATABASE_URL="sqlite://$db?mode=rwc" BACKYARD_LOG=error \
  BACKYARD_SITE_ROOT="$SITE_ROOT" "$ROOT/target/release/backyard" serve --demo >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$db"*' EXIT
for _ in $(seq 50); do curl -fs http://127.0.0.1:3300/healthz >/dev/null && break; sleep 0.2; done
python3 "$ROOT/bench/abuse.py" http://127.0.0.1:3300
