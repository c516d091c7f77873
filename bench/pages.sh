#!/usr/bin/env bash
# Page speed: seeds 10,000 topics / 500,000 posts / 5,000 users / 200 articles (once, kept in
# target/bench), starts the release build on it, and drives the first page of a 60-post topic, a
# category page, the blog, an article with 40 comments and the Atom feed with wrk (32
# connections, 20 s each); then the staff queue, the staff figures and the accountability page,
# 20 requests each, one at a time, as a staff member (median and slowest); and the moderators'
# review queue with 10,000 open items. For a ceiling it serves the same topic page's bytes
# from memory through a bare axum handler, in the same run. Prints req/s, p50, p99, the ratio to
# the ceiling, and the server's peak resident memory. Visitors who are not signed in get the
# page cache (the "gzip" row takes its compressed copy, as browsers do); the "member" rows send a
# signed-in cookie, so every request renders (and the "member, gzip" row is compressed as sent).
# usage: bench/pages.sh [--reseed] [--seconds N]
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

seconds=20
reseed=0
while [ $# -gt 0 ]; do
  case "$1" in
    --reseed) reseed=1 ;;
    --seconds) seconds="$2"; shift ;;
  esac
  shift
done

command -v wrk >/dev/null || { say "Installing wrk from Debian"; apt-get install -y -qq wrk >/dev/null; }
[ -f "$SITE_ROOT/bundle-name" ] || build_site
cargo build --release -p server --bins

bench_dir="$ROOT/target/bench"
db="$bench_dir/pages.db"
mkdir -p "$bench_dir"
if [ "$reseed" = 1 ] || [ ! -f "$db" ]; then
  rm -f "$db" "$db-wal" "$db-shm"
  say "Seeding $db"
  DATABASE_URL="sqlite://$db?mode=rwc" BACKYARD_LOG=warn "$ROOT/target/release/backyard" seed-bench
fi

port=$(free_port)
ceiling_port=$(free_port)
base="http://127.0.0.1:$port"
BACKYARD_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$db?mode=rwc" BACKYARD_LOG=warn \
  BACKYARD_SITE_ROOT="$SITE_ROOT" "$ROOT/target/release/backyard" serve >/dev/null &
server=$!
ceiling=""
trap 'kill $server $ceiling 2>/dev/null' EXIT
for _ in $(seq 100); do curl -fs $base/healthz >/dev/null && break; sleep 0.1; done

topic=$base/t/1/bench-topic-with-sixty-posts
category=$base/c/questions
blog=$base/blog
article=$base/blog/release-notes-week-200
feed=$base/blog/feed.xml
curl -fs "$article" -o /dev/null || { say "$article is missing: run with --reseed"; exit 1; }
curl -fs "$topic" -o "$bench_dir/topic.html"
"$ROOT/target/release/ceiling" "$bench_dir/topic.html" "127.0.0.1:$ceiling_port" &
ceiling=$!
sleep 0.5

# wrk prints latencies as 1.23ms / 456.00us / 1.02s; normalise to ms.
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }'; }
run() { # name url [extra wrk args] -> prints a row, sets $rps
  local out
  # As a browser asks: browsers send Sec-Fetch-Site (clients that don't get every form rewritten
  # with a cross-site token, bench/abuse.sh and docs/SECURITY.md).
  wrk -t2 -c32 -d2s -H "Sec-Fetch-Site: same-origin" "${@:3}" "$2" >/dev/null # warm-up
  out=$(wrk -t2 -c32 -d"${seconds}s" --latency -H "Sec-Fetch-Site: same-origin" "${@:3}" "$2")
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  local p50 p99 errors
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out" | to_ms)
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out" | to_ms)
  errors=$(awk '/Non-2xx|Socket errors/ { print }' <<<"$out")
  printf '%-24s %10s req/s   p50 %7s ms   p99 %7s ms  %s\n' "$1" "$rps" "$p50" "$p99" "$errors"
}

say "wrk: 32 connections, ${seconds} s each, 2 threads (same 2-core machine as the server)"
# A signed-in member's cookie: their pages are rendered every time (never cached).
member_cookie=$(curl -s -o /dev/null -D - -X POST -H 'Accept: application/json' -H 'Sec-Fetch-Site: same-origin' \
  --data 'login=member1&password=bench-password-1' $base/api/log_in |
  awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }')

run "topic page (60 posts)" "$topic"; topic_rps=$rps
run "topic page, gzip" "$topic" -H "Accept-Encoding: gzip"
run "category page" "$category"
run "topic page, member" "$topic" -H "Cookie: $member_cookie"
run "topic page, member, gzip" "$topic" -H "Cookie: $member_cookie" -H "Accept-Encoding: gzip"
run "category page, member" "$category" -H "Cookie: $member_cookie"
run "blog index" "$blog"
run "article (40 comments)" "$article"
run "blog feed (20 articles)" "$feed"
run "blog index, member" "$blog" -H "Cookie: $member_cookie"
run "article, member" "$article" -H "Cookie: $member_cookie"
# Staff pages: one request at a time (latency, not throughput), as a staff member.
staff_cookie=$(curl -s -o /dev/null -D - -X POST -H 'Accept: application/json' -H 'Sec-Fetch-Site: same-origin' \
  --data 'login=member50&password=bench-password-1' $base/api/log_in |
  awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }')
latency() { # name url -> median and slowest of 20 sequential requests
  curl -fs -o /dev/null -H "Cookie: $staff_cookie" "$2" # warm-up
  for _ in $(seq 20); do
    curl -fs -o /dev/null -w '%{time_total}\n' -H "Cookie: $staff_cookie" "$2"
  done | sort -n | awk -v name="$1" '{ t[NR] = $1 * 1000 } END {
    printf "%-24s median %7.2f ms   slowest %7.2f ms   (20 requests, one at a time)\n", name, (t[10] + t[11]) / 2, t[NR] }'
}
latency "staff queue" $base/staff/queue
latency "staff queue, a category" "$base/staff/queue?category=questions"
latency "staff metrics (7 + 30 d)" $base/staff/metrics
latency "accountability (30 d)" $base/accountability
staff_cookie=$(curl -s -o /dev/null -D - -X POST -H 'Accept: application/json' -H 'Sec-Fetch-Site: same-origin' \
  --data 'login=member100&password=bench-password-1' $base/api/log_in |
  awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }')
open_items=$(sqlite3 "$db" "SELECT COUNT(*) FROM review_items WHERE state = 'open'" 2>/dev/null || echo "?")
latency "review queue ($open_items open)" $base/admin/review
latency "review queue, spam only" "$base/admin/review?reason=spam"
latency "review queue, page 100" "$base/admin/review?page=100"
run "ceiling (bytes in RAM)" "http://127.0.0.1:$ceiling_port/"; ceiling_rps=$rps
awk -v a="$topic_rps" -v b="$ceiling_rps" 'BEGIN { printf "topic page / ceiling: %.0f%%\n", 100 * a / b }'
awk '/^VmHWM/ { printf "server peak resident memory: %.1f MB\n", $2 / 1024 }' "/proc/$server/status"
printf 'topic page size: %d bytes, %d gzipped as sent\n' "$(stat -c %s "$bench_dir/topic.html")" \
  "$(curl -s -H 'Sec-Fetch-Site: none' -H 'Accept-Encoding: gzip' "$topic" | wc -c)"
printf "topic page as a member: %d bytes, %d gzipped as sent\n" \
  "$(curl -s -H 'Sec-Fetch-Site: none' -H "Cookie: $member_cookie" "$topic" | wc -c)" \
  "$(curl -s -H 'Sec-Fetch-Site: none' -H "Cookie: $member_cookie" -H 'Accept-Encoding: gzip' "$topic" | wc -c)"
