#!/usr/bin/env bash
# A returning reader's next page on a phone network (bench/returning.cjs), against the release
# build on a fresh demo database.
# usage: bench/returning.sh [RUNS]   (BACKYARD_BIN and BACKYARD_SITE_ROOT pick another build)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ -d end2end/node_modules/@playwright/test ] || (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
start_demo_server
node bench/returning.cjs "$BASE" "${1:-15}"
