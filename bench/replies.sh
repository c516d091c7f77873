#!/usr/bin/env bash
# Posting replies, build against build: 32 signed-in members (member1..32) posting the reply
# form as bench/scale.sh's reply row does (bench/replies.lua), on a fresh copy of its 10k SQLite
# database (seeded first if missing) for each run, synchronous=FULL, wrk 2 threads and 32
# connections, 2 s of warm-up then the measured seconds. Then how many fan-outs still wait for
# the notification worker and how long it takes to tell them (a build whose worker falls behind
# only looks faster). The builds take turns, ROUNDS times, so a noisy machine weighs on each
# alike; prints each run's replies a second, the server's CPU and bytes written (every write
# call's, from /proc) per reply, p50 and p99, the share of the time SQLite's one writer held its
# turn (near 1: the turn, not the cores, bounds the rate), then each build's median. With
# --topic-posts N every writer replies to one topic grown to N posts first (copies of its opening
# post), as a busy site's longest topic gets most of its replies.
# usage: bench/replies.sh [--seconds N] [--rounds N] [--topic-posts N] BIN [BIN...]
#   (no BIN: the release build of this tree)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

seconds=6
rounds=3
topic_posts=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --topic-posts) topic_posts="$2"; shift 2 ;;
    *) break ;;
  esac
done
builds_to_compare "$@"
command -v wrk >/dev/null || { say "Installing wrk from Debian"; apt-get install -y -qq wrk >/dev/null; }
command -v sqlite3 >/dev/null || { say "Installing sqlite3 from Debian"; apt-get install -y -qq sqlite3 >/dev/null; }

bench_dir="$ROOT/target/bench"
ten_k_database "${bins[0]}"
run_db="$bench_dir/replies-run.db"
cookies="$bench_dir/replies-writers"
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -f "$run_db"* "$cookies"' EXIT

# Seconds SQLite's one writer has held its turn so far, from the server's /metrics; nothing
# from a build without the figure (or without /metrics at all).
writer_busy() {
  { curl -fs --max-time 5 "http://127.0.0.1:$metrics_port/metrics" || true; } |
    awk '$1 == "backyard_db_writer_busy_seconds_total" { print $2 }'
}

declare -A rates
for round in $(seq "$rounds"); do
  for bin in "${bins[@]}"; do
    rm -f "$run_db"*
    sqlite3 "$seeded" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    cp "$seeded" "$run_db"
    # 499: every seeded topic but the read benchmark's, as bench/scale.sh spreads them at 10k;
    # 1: only topic 2, grown to --topic-posts.
    spread=499
    if [ "$topic_posts" -gt 0 ]; then
      spread=1
      sqlite3 "$run_db" "INSERT INTO posts (topic_id, author_id, post_number, source, html, state,
                                            is_staff_reply, created_at, published_at)
                         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                                                  WHERE i < $topic_posts - (SELECT COUNT(*) FROM posts WHERE topic_id = 2))
                         SELECT p.topic_id, p.author_id, t.last_post_number + i, p.source, p.html, p.state,
                                p.is_staff_reply, p.created_at, p.published_at
                           FROM posts p JOIN topics t ON t.id = p.topic_id, n
                          WHERE p.topic_id = 2 AND p.post_number = 1;
                         UPDATE topics SET last_post_number = (SELECT MAX(post_number) FROM posts WHERE topic_id = 2)
                          WHERE id = 2"
    fi
    # The writers reply faster than a person: the per-member limit is off on the copy.
    DATABASE_URL="sqlite://$run_db?mode=rwc" BACKYARD_LOG=warn "$bin" set rate_posts_per_10_min 0 >/dev/null
    port=$(free_port)
    metrics_port=$(free_port)
    base="http://127.0.0.1:$port"
    BACKYARD_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$run_db?mode=rwc" BACKYARD_LOG=warn \
      BACKYARD_IP_WRITES_PER_MINUTE=0 BACKYARD_IP_CONCURRENCY=0 BACKYARD_SITE_ROOT="$site_root" \
      BACKYARD_METRICS=on BACKYARD_METRICS_ADDR="127.0.0.1:$metrics_port" \
      "$bin" serve >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 400); do curl -fs -o /dev/null "$base/healthz" && break; sleep 0.05; done
    : >"$cookies"
    for i in $(seq 32); do
      curl -s -o /dev/null -D - -X POST -H 'Accept: application/json' -H 'Sec-Fetch-Site: same-origin' \
        --data "login=member$i&password=bench-password-1" "$base/api/log_in" |
        awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }' >>"$cookies"
    done
    wrk -t2 -c32 -d2s -s bench/replies.lua "$base/api/reply" -- "$cookies" "$spread" 2 >/dev/null
    before=$(awk '{ print $14 + $15 }' "/proc/$server/stat")
    written_before=$(awk '$1 == "wchar:" { print $2 }' "/proc/$server/io")
    # The clock starts before the first reading and stops after the second, so the share is
    # never overstated by the time a reading takes.
    busy_from=$(date +%s%N)
    busy_before=$(writer_busy)
    body=$(wrk -t2 -c32 -d"${seconds}s" --latency -s bench/replies.lua "$base/api/reply" -- "$cookies" "$spread" 2)
    used=$(($(awk '{ print $14 + $15 }' "/proc/$server/stat") - before))
    written=$(($(awk '$1 == "wchar:" { print $2 }' "/proc/$server/io") - written_before))
    # The share of the time between the two readings that SQLite's one writer held its turn
    # (`?`: a build without the figure).
    busy=$(awk -v a="$busy_before" -v b="$(writer_busy)" -v ns="$(($(date +%s%N) - busy_from))" \
      'BEGIN { if (a == "" || b == "") print "?"; else printf "%.2f", (b - a) / (ns / 1e9) }')
    waiting=$(sqlite3 "$run_db" "SELECT COUNT(*) FROM fan_outs")
    started=$(date +%s%3N)
    for _ in $(seq 600); do [ "$(sqlite3 "$run_db" "SELECT COUNT(*) FROM fan_outs")" = 0 ] && break; sleep 0.1; done
    drained=$(($(date +%s%3N) - started))
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$body")
    cpu=$(awk -v used="$used" -v hz="$(getconf CLK_TCK)" '/ requests in / { if ($1 > 0) printf "%.2f", used * 1000 / hz / $1 }' <<<"$body")
    # Bytes the server wrote a reply (the write-ahead log, checkpoints, SQLite's savepoint
    # journal, the sockets): what the writes cost apart from this machine's noise.
    kb=$(awk -v w="$written" '/ requests in / { if ($1 > 0) printf "%.0f", w / 1024 / $1 }' <<<"$body")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$body")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$body")
    refused=$(awk '/^Refused replies:/ { print $3 }' <<<"$body")
    printf '%-40s round %s: %5s replies/s  cpu %5s ms/reply  written %4s KB/reply  p50 %8s  p99 %8s  writer busy %s  refused %s  fan-outs waiting %s, told in %s ms\n' \
      "$bin" "$round" "$rps" "$cpu" "$kb" "$p50" "$p99" "$busy" "${refused:-?}" "$waiting" "$drained"
    rates[$bin]="${rates[$bin]:-} $rps"
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
  done
done
for bin in "${bins[@]}"; do
  # shellcheck disable=SC2086 # the rates are words
  median=$(printf '%s\n' ${rates[$bin]} | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  printf 'median %-33s %6s replies/s\n' "$bin" "$median"
done
