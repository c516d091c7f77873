#!/usr/bin/env bash
# Markdown's worst cases (app::server::testing::worst_markdown_bodies), in a release build:
# 1. the render time of each body alone (markdown_timing: best of 3);
# 2. /healthz latency while 4 signed-in clients post those bodies to the preview at once,
#    against a running server on the demo database (bench/markdown.py).
# usage: bench/markdown.sh   (the database is deleted after)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

cargo build --release -p server --bins
say "Render time of each worst body (best of 3)"
"$ROOT/target/release/markdown_timing" 3

bodies="$ROOT/target/bench-markdown-bodies"
"$ROOT/target/release/markdown_timing" --write "$bodies"
# Previews and health checks need no browser bundle: without one, run without it.
if [ ! -f "$SITE_ROOT/bundle-name" ]; then
  SITE_ROOT="$ROOT/target/bench-no-bundle"
  mkdir -p "$SITE_ROOT"
  echo backyard >"$SITE_ROOT/bundle-name"
fi
# Each client gets its own address (X-Bench-Client), and the per-address write limit is off:
# the benchmark measures what rendering costs, not the limit that would turn most of it away.
BACKYARD_IP_WRITES_PER_MINUTE=0 BACKYARD_CLIENT_IP_HEADER=X-Bench-Client BACKYARD_LOG=error \
  BACKYARD_BIN="$ROOT/target/release/backyard" start_demo_server
say "/healthz while 4 clients post the worst bodies to the preview at once"
python3 "$ROOT/bench/markdown.py" "$BASE" "$bodies"
