#!/usr/bin/env bash
# Notification costs against a release build on a fresh demo database: a reply into a topic
# with 10,000 followers against one with none, and what the unread count and the list add to a
# signed-in member's page.
# usage: bench/notify.sh [N]   (N replies into each topic; default 100)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
BACKYARD_IP_WRITES_PER_MINUTE=0 start_demo_server
python3 "$ROOT/bench/notify.py" "$BASE" "$BENCH_DB" "${1:-100}"
