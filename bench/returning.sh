#!/usr/bin/env bash
# A returning reader's next page on a phone network (bench/returning.cjs), against the release
# build on a fresh demo database at 127.0.0.1:3202.
# usage: bench/returning.sh [RUNS]   (BACKYARD_BIN and BACKYARD_SITE_ROOT pick another build)
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"

[ -f "$SITE_ROOT/bundle-name" ] || build_site
[ -n "${BACKYARD_BIN:-}" ] || cargo build --release -p server --bins
bin="${BACKYARD_BIN:-$ROOT/target/release/backyard}"
[ -d end2end/node_modules/@playwright/test ] || (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)

db=$(mktemp -u /tmp/backyard-returning-XXXXXX.db)
BACKYARD_ADDR=127.0.0.1:3202 DATABASE_URL="sqlite://$db?mode=rwc" BACKYARD_LOG=warn \
  BACKYARD_SITE_ROOT="${BACKYARD_SITE_ROOT:-$SITE_ROOT}" "$bin" serve --demo >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$db"*' EXIT
for _ in $(seq 100); do curl -fs http://127.0.0.1:3202/healthz >/dev/null && break; sleep 0.1; done
node bench/returning.cjs http://127.0.0.1:3202 "${1:-15}"
