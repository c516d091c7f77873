#!/usr/bin/env bash
# Sign-ups on a site with many members, build against build: bench/signups.py signs up COUNT
# members one at a time on a copy of a database seeded with MEMBERS members, and prints a
# sign-up's median and p90 and how long SQLite's one writer was held for each (from /metrics:
# every post waits while a sign-up holds it). The builds take turns, ROUNDS times.
# usage: bench/signups.sh [--count N] [--members N] [--rounds N] BIN [BIN...]
#   (no BIN: the release build of this tree)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

count=40
members=50000
rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --members) members="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) break ;;
  esac
done
builds_to_compare "$@"
bench_dir="$ROOT/target/bench"
mkdir -p "$bench_dir"
seeded="$bench_dir/signups-$members.db"
if [ ! -f "$seeded" ]; then
  say "Seeding $seeded with $members members"
  DATABASE_URL="sqlite://$seeded?mode=rwc" BACKYARD_LOG=warn "${bins[0]}" seed-bench \
    --posts 20000 --topics 1000 --members "$members" >/dev/null
fi
placeholder_site_root
run_db="$bench_dir/signups-run.db"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -f "$run_db"*' EXIT
for round in $(seq "$rounds"); do
  for bin in "${bins[@]}"; do
    rm -f "$run_db"*
    cp "$seeded" "$run_db"
    port=$(free_port)
    metrics_port=$(free_port)
    BACKYARD_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$run_db?mode=rwc" BACKYARD_LOG=warn \
      BACKYARD_IP_WRITES_PER_MINUTE=0 BACKYARD_IP_CONCURRENCY=0 BACKYARD_SITE_ROOT="$site_root" \
      BACKYARD_METRICS=on BACKYARD_METRICS_ADDR="127.0.0.1:$metrics_port" \
      "$bin" serve >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 400); do curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
    printf '%-40s round %s: ' "$bin" "$round"
    python3 bench/signups.py "http://127.0.0.1:$port" "http://127.0.0.1:$metrics_port/metrics" \
      "$count"
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
  done
done
