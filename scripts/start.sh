#!/usr/bin/env bash
# Builds a release of Backyard and starts it at http://127.0.0.1:3000 on an embedded SQLite file
# (backyard.db here), with demo content when the database is new. Settings: see the README.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

build_site
say "Building the server (release)"
cargo build --release -p server
export BACKYARD_SITE_ROOT="${BACKYARD_SITE_ROOT:-$SITE_ROOT}"
exec "$ROOT/target/release/backyard" serve --demo
