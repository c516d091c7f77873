#!/usr/bin/env bash
# Benchmarks against a release build on a fresh demo database. Prints their figures.
# usage: bench/run.sh        (builds what is missing; port 3200; the database is deleted after)
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

[ -f "$SITE_ROOT/bundle-name" ] || build_site
cargo build --release -p server
db=$(mktemp -u /tmp/backyard-bench-XXXXXX.db)
BACKYARD_ADDR=127.0.0.1:3200 DATABASE_URL="sqlite://$db?mode=rwc" BACKYARD_LOG=warn \
  BACKYARD_SITE_ROOT="$SITE_ROOT" "$ROOT/target/release/backyard" serve --demo >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$db"*' EXIT
for _ in $(seq 50); do curl -fs http://127.0.0.1:3200/healthz >/dev/null && break; sleep 0.2; done

say "Login timing: existing vs unknown account"
python3 "$ROOT/bench/login_timing.py" http://127.0.0.1:3200 40

say "Browser bundle"
for f in "$(bundle_name)_bg.wasm" "$(bundle_name).js" "$(bundle_name).css"; do
  printf '%-34s %8d bytes raw %8d bytes gzipped\n' "$f" "$(stat -c %s "$SITE_ROOT/pkg/$f")" "$(gzip -9 -c "$SITE_ROOT/pkg/$f" | wc -c)"
done
