#!/usr/bin/env bash
# A signed-in member's topic page, build against build: the 60-post topic's first page (30
# posts) on a copy of bench/scale.sh's 10k SQLite database (seeded first if missing), member1
# signed in, wrk 2 threads and 32 connections, 2 s of warm-up then the measured seconds. The
# builds take turns, ROUNDS times, so a noisy machine weighs on each alike; prints each run's
# req/s, p50, p99 and the page's size, then each build's median req/s.
# usage: bench/member_page.sh [--seconds N] [--rounds N] BIN [BIN...]
#   (no BIN: the release build of this tree)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

seconds=8
rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) break ;;
  esac
done
builds_to_compare "$@"
command -v wrk >/dev/null || { say "Installing wrk from Debian"; apt-get install -y -qq wrk >/dev/null; }

bench_dir="$ROOT/target/bench"
ten_k_database "${bins[0]}"
run_db="$bench_dir/member-page-run.db"
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -f "$run_db"*' EXIT

declare -A rates
for round in $(seq "$rounds"); do
  for bin in "${bins[@]}"; do
    rm -f "$run_db"*
    sqlite3 "$seeded" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    cp "$seeded" "$run_db"
    port=$(free_port)
    base="http://127.0.0.1:$port"
    BACKYARD_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$run_db?mode=rwc" BACKYARD_LOG=warn \
      BACKYARD_IP_WRITES_PER_MINUTE=0 BACKYARD_IP_CONCURRENCY=0 BACKYARD_SITE_ROOT="$site_root" \
      "$bin" serve >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 400); do curl -fs -o /dev/null "$base/healthz" && break; sleep 0.05; done
    cookie=$(curl -s -o /dev/null -D - -X POST -H 'Accept: application/json' -H 'Sec-Fetch-Site: same-origin' \
      --data "login=member1&password=bench-password-1" "$base/api/log_in" |
      awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }')
    topic="$base/t/1/bench-topic-with-sixty-posts"
    bytes=$(curl -s -H "Cookie: $cookie" -H "Sec-Fetch-Site: same-origin" "$topic" | wc -c)
    wrk -t2 -c32 -d2s -H "Sec-Fetch-Site: same-origin" -H "Cookie: $cookie" "$topic" >/dev/null
    body=$(wrk -t2 -c32 -d"${seconds}s" --latency -H "Sec-Fetch-Site: same-origin" -H "Cookie: $cookie" "$topic")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$body")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$body")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$body")
    printf '%-50s round %s: %6s req/s  p50 %8s  p99 %8s  %s bytes\n' "$bin" "$round" "$rps" "$p50" "$p99" "$bytes"
    rates[$bin]="${rates[$bin]:-} $rps"
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
  done
done
for bin in "${bins[@]}"; do
  # shellcheck disable=SC2086 # the rates are words
  median=$(printf '%s\n' ${rates[$bin]} | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  printf 'median %-43s %6s req/s\n' "$bin" "$median"
done
