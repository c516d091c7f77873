#!/usr/bin/env bash
# Benchmarks against a release build on a fresh demo database. Prints their figures.
# usage: bench/run.sh        (builds what is missing; the database is deleted after)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# login_timing.py gives each login its own address (see there).
BACKYARD_CLIENT_IP_HEADER=X-Bench-Client start_demo_server

say "Login timing: existing vs unknown account"
python3 "$ROOT/bench/login_timing.py" "$BASE" 27

say "Browser bundle"
for f in "$(bundle_name)_bg.wasm" "$(bundle_name).js" "$(bundle_name).css"; do
  printf '%-34s %8d bytes raw %8d bytes gzipped\n' "$f" "$(stat -c %s "$SITE_ROOT/pkg/$f")" "$(gzip -9 -c "$SITE_ROOT/pkg/$f" | wc -c)"
done
