#!/usr/bin/env bash
# Ideas and votes (issue 17, point 8), against the release build on SQLite: seeds 2,000 ideas
# with 200,000 votes (8,000 topics, 40,000 posts, 5,000 members; kept in target/bench/ideas.db,
# --reseed makes it again), then prints
#   - the ideas list sorted by votes and by trending, and the roadmap: median and p90 of 200
#     requests one at a time, as a signed-in member (rendered for each request) and as a visitor;
#   - casting votes: wrk, 32 connections as 32 members, 20 s: votes per second sustained, and
#     the votes in the database afterwards beside the answered requests (every answered vote is
#     on disk: synchronous=FULL);
#   - a status change on the idea every member voted for (5,000 voters): how long the request
#     took beside the same change on the open idea with the fewest voters, and how long the
#     worker took to queue the e-mails.
# The run works on a copy of the seeded database, so the votes it casts do not pile up.
# usage: bench/ideas.sh [--reseed] [--seconds N]
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

seconds=20
reseed=0
while [ $# -gt 0 ]; do
  case "$1" in
    --reseed) reseed=1 ;;
    --seconds) seconds="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

command -v wrk >/dev/null || { say "Installing wrk from Debian"; apt-get install -y -qq wrk >/dev/null; }
target="${CARGO_TARGET_DIR:-$ROOT/target}"
bin="${BACKYARD_BIN:-$target/release/backyard}"
[ -n "${BACKYARD_BIN:-}" ] || cargo build --release -p server --bin backyard
site_root="${BACKYARD_SITE_ROOT:-$SITE_ROOT}"
if [ ! -f "$site_root/bundle-name" ]; then
  # The pages measured need no browser bundle.
  site_root="$ROOT/target/bench-no-bundle"
  mkdir -p "$site_root"
fi

bench_dir="$ROOT/target/bench"
seeded="$bench_dir/ideas.db"
mkdir -p "$bench_dir"
if [ "$reseed" = 1 ] || [ ! -f "$seeded" ]; then
  rm -f "$seeded" "$seeded-wal" "$seeded-shm"
  say "Seeding $seeded"
  DATABASE_URL="sqlite://$seeded?mode=rwc" BACKYARD_LOG=warn "$bin" seed-bench \
    --users 5000 --topics 8000 --posts 40000 --votes 200000 | grep -E '^Seeded|^  (ideas|posts|counts)'
fi
db=$(mktemp -u /tmp/backyard-ideas-XXXXXX.db)
python3 - "$seeded" "$db" <<'PY'
import sqlite3, sys
src = sqlite3.connect(sys.argv[1])
src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
PY
port=$(free_port)
# One client writes far faster than a person: the per-address write limit is off here.
BACKYARD_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$db?mode=rwc" BACKYARD_LOG=warn \
  BACKYARD_SITE_ROOT="$site_root" BACKYARD_IP_WRITES_PER_MINUTE=0 "$bin" serve >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$db"*' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
python3 "$ROOT/bench/ideas.py" "$base" "$db" "$seconds"
