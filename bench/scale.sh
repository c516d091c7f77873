#!/usr/bin/env bash
# Growth: the same pages at 10,000 and at 1,000,000 posts, on SQLite and on PostgreSQL. Seeds
# each database once (`backyard seed-bench`, kept in target/bench and reused unless --reseed):
#   10k: 10,000 posts in 500 topics by 500 members
#   1m:  1,000,000 posts in 50,000 topics by 50,000 members
# then for each database and size starts the release build on a working copy of it (the write
# row adds replies; the seeded database stays as seeded) and measures, with wrk at 32
# connections: the 60-post topic's first page (30 posts) for a visitor (page cache), for a
# signed-in member, and for 32 members in turn (a member's page is kept for every member whose
# page is the same), the category and home pages (visitor and member), a search of one word at
# every size, of a word in about 400 posts at each size and of a common word (about one post in
# eight, the same word at every size), the staff queue (as staff), the review queue (as a
# moderator), and 32 writers posting replies (each answered only once on disk:
# synchronous=FULL on SQLite), then how many notifications wait for the worker when they
# stop and how long it takes to tell them. Also start-up time to the first answered request, resident
# memory idle after start-up and the peak over the run (VmHWM), and the ceiling: the topic
# page's bytes served from memory by bare axum.
# Prints markdown tables (one per database, with the 1m/10k ratio) for docs/benchmarks.md.
# usage: bench/scale.sh [--reseed] [--seconds N] [--databases "sqlite postgres"] [--sizes "10k 1m"]
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

seconds=10
reseed=0
databases="sqlite postgres"
sizes="10k 1m"
while [ $# -gt 0 ]; do
  case "$1" in
    --reseed) reseed=1 ;;
    --seconds) seconds="$2"; shift ;;
    --databases) databases="$2"; shift ;;
    --sizes) sizes="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

command -v wrk >/dev/null || { say "Installing wrk from Debian"; apt-get install -y -qq wrk >/dev/null; }
bin="${BACKYARD_BIN:-$ROOT/target/release/backyard}"
ceiling_bin="$(dirname "$bin")/ceiling"
[ -n "${BACKYARD_BIN:-}" ] || cargo build --release -p server --bins
# Pages name the browser bundle; without a built one (scripts/lib.sh build_site) they name a
# placeholder, which changes a page's size by a few bytes and its speed not at all.
site_root=$SITE_ROOT
if [ ! -f "$site_root/bundle-name" ]; then
  site_root="$ROOT/target/bench-no-bundle"
  mkdir -p "$site_root"
  echo backyard >"$site_root/bundle-name"
fi

bench_dir="$ROOT/target/bench"
results="$bench_dir/scale"
mkdir -p "$results"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
size_flags() {
  case "$1" in
    10k) echo "--posts 10000 --topics 500 --users 500" ;;
    1m) echo "--posts 1000000 --topics 50000 --users 50000" ;;
    *) echo "unknown size $1" >&2; exit 2 ;;
  esac
}

server=""
measured=""
ceiling=""
ceiling_done=0
cleanup() {
  # shellcheck disable=SC2086 # the pids, unquoted, are zero, one or two words
  [ -n "$server$ceiling" ] && kill $server $ceiling 2>/dev/null
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS backyard_scale_run" 2>/dev/null || true
  rm -f "$bench_dir"/scale-run.db*
}
trap cleanup EXIT

to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }'; }
# CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# run KEY NAME URL [wrk options] [-- script arguments]: 2 s of warm-up, then $seconds measured;
# appends KEY<TAB>NAME<TAB>req/s<TAB>p50<TAB>p99<TAB>notes<TAB>cpu to $out and prints it. cpu is
# the CPU time (user + system) per request in ms of $measured, the process answering: what a
# request costs the server, where the rate also holds wrk's share of the cores and any waiting.
run() {
  local key=$1 name=$2 url=$3 body rps p50 p99 notes cpu before options=() script_args=()
  shift 3
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do options+=("$1"); shift; done
  script_args=("$@") # "--" and what follows it, or nothing
  wrk -t2 -c32 -d2s -H "Sec-Fetch-Site: same-origin" "${options[@]}" "$url" "${script_args[@]}" >/dev/null
  before=$(cpu_ticks "$measured")
  body=$(wrk -t2 -c32 -d"${seconds}s" --latency -H "Sec-Fetch-Site: same-origin" "${options[@]}" "$url" "${script_args[@]}")
  cpu=$(awk -v used="$(($(cpu_ticks "$measured") - before))" -v hz="$(getconf CLK_TCK)" \
    '/ requests in / { if ($1 > 0) printf "%.2f", used * 1000 / hz / $1 }' <<<"$body")
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$body")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$body" | to_ms)
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$body" | to_ms)
  notes=$(awk '/Non-2xx|Socket errors|Refused replies: [1-9]|Requests\/sec: +0/ { printf "%s ", $0 }' <<<"$body")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$name" "$rps" "$p50" "$p99" "$notes" "$cpu" >>"$out"
  printf '  %-34s %8s req/s   p50 %8s ms   p99 %8s ms   cpu %6s ms/req  %s\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$notes"
}
log_in() { # NAME -> the session cookie
  curl -s -o /dev/null -D - -X POST -H 'Accept: application/json' -H 'Sec-Fetch-Site: same-origin' \
    --data "login=$1&password=bench-password-1" "$base/api/log_in" |
    awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }'
}
now_ms() { date +%s%3N; }
# A word as a URL's query value: the seed's words include accented and CJK ones (wrk refuses a
# URL with raw non-ASCII bytes).
url_encode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
# Fan-outs waiting for the notification worker in this run's database.
waiting() {
  case "$database" in
    sqlite) sqlite3 "$bench_dir/scale-run.db" "SELECT COUNT(*) FROM fan_outs" ;;
    postgres) psql "$url" -Atc "SELECT COUNT(*) FROM fan_outs" ;;
  esac
}

for database in $databases; do
  for size in $sizes; do
    name="$database-$size"
    out="$results/$name.tsv"
    : >"$out"
    say "$name"
    # Seed once; then a working copy for this run.
    case "$database" in
      sqlite)
        seeded="$bench_dir/scale-$size.db"
        if [ "$reseed" = 1 ] || [ ! -f "$seeded" ]; then
          rm -f "$seeded" "$seeded-wal" "$seeded-shm"
          say "Seeding $seeded"
          started=$(now_ms)
          # shellcheck disable=SC2046 # the flags are words
          DATABASE_URL="sqlite://$seeded?mode=rwc" BACKYARD_LOG=warn "$bin" seed-bench $(size_flags "$size") \
            >"$results/$name.seed-log"
          grep -E '^  (posts|search index)|^Seeded' "$results/$name.seed-log"
          printf 'seed\tseeding (s)\t%s\n' "$((($(now_ms) - started) / 1000))" >"$results/$name.seed"
        fi
        sqlite3 "$seeded" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
        rm -f "$bench_dir"/scale-run.db*
        cp "$seeded" "$bench_dir/scale-run.db"
        url="sqlite://$bench_dir/scale-run.db?mode=rwc"
        ;;
      postgres)
        seeded="backyard_scale_$size"
        if [ "$reseed" = 1 ] || ! psql "$pg/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$seeded'" | grep -q 1; then
          psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $seeded" -c "CREATE DATABASE $seeded"
          say "Seeding $seeded"
          started=$(now_ms)
          # shellcheck disable=SC2046
          DATABASE_URL="$pg/$seeded" BACKYARD_LOG=warn "$bin" seed-bench $(size_flags "$size") \
            >"$results/$name.seed-log"
          grep -E '^  (posts|search index)|^Seeded' "$results/$name.seed-log"
          printf 'seed\tseeding (s)\t%s\n' "$((($(now_ms) - started) / 1000))" >"$results/$name.seed"
        fi
        psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS backyard_scale_run" \
          -c "CREATE DATABASE backyard_scale_run TEMPLATE $seeded"
        url="$pg/backyard_scale_run"
        ;;
    esac
    [ -f "$results/$name.seed" ] && cat "$results/$name.seed" >>"$out"
    # The writers reply faster than a person: the per-member and per-address limits are off
    # on the working copy. And wrk's 32 connections come from one address standing in for 32
    # readers: the per-address limit on requests in progress (32) would answer a slow page's
    # queue with 429s.
    DATABASE_URL="$url" BACKYARD_LOG=warn "$bin" set rate_posts_per_10_min 0 >/dev/null

    port=$(free_port)
    base="http://127.0.0.1:$port"
    started=$(now_ms)
    BACKYARD_ADDR="127.0.0.1:$port" DATABASE_URL="$url" BACKYARD_LOG=warn BACKYARD_IP_WRITES_PER_MINUTE=0 BACKYARD_IP_CONCURRENCY=0 \
      BACKYARD_SITE_ROOT="$site_root" "$bin" serve >/dev/null 2>"$results/$name.server-log" &
    server=$!
    measured=$server
    up=""
    for _ in $(seq 3000); do
      if curl -fs -o /dev/null "$base/healthz"; then up=$(($(now_ms) - started)); break; fi
      kill -0 "$server" 2>/dev/null || break
      sleep 0.005
    done
    [ -n "$up" ] || { echo "the server did not start" >&2; exit 1; }
    idle=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status")
    idle_anon=$(awk '/^RssAnon/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status")
    printf 'startup\tstart-up to first answer (ms)\t%s\n' "$up" >>"$out"
    printf 'idle\tresident memory after start-up (MB)\t%s\n' "$idle" >>"$out"
    printf 'idle_anon\tanonymous memory after start-up (MB)\t%s\n' "$idle_anon" >>"$out"
    echo "  start-up to the first answer: $up ms; resident memory then: $idle MB ($idle_anon MB anonymous)"

    topic="$base/t/1/bench-topic-with-sixty-posts"
    curl -fs "$topic" -o "$bench_dir/scale-topic.html" || { echo "$topic is missing: run with --reseed" >&2; exit 1; }
    member=$(log_in member1)
    staff=$(log_in member50)
    moderator=$(log_in member100)
    # A word the seed wrote into posts at both sizes (bench-queries lists what each size has).
    # shellcheck disable=SC2046
    query=$("$bin" bench-queries $(size_flags 10k) | awk -F'\t' '$1 == "word" && !found { print $2; found = 1 }')
    # How many posts hold it at this size (--all-words: the listed queries are chosen per size).
    # shellcheck disable=SC2046
    matches=$("$bin" bench-queries $(size_flags "$size") --all-words | awk -v q="$query" '$1 == q && !found { print $2; found = 1 }')

    # 32 members: members 1..32 (member1 is also the reading member), each its own session.
    # They read the topic page in turns, then write the replies.
    cookies="$results/writers"
    : >"$cookies"
    for i in $(seq 32); do log_in "member$i" >>"$cookies"; done

    run topic_visitor "topic page, visitor" "$topic"
    run topic_member "topic page, member (30 posts)" "$topic" -H "Cookie: $member"
    run topic_members "topic page, 32 members in turn" "$topic" -s "$ROOT/bench/readers.lua" -- "$cookies" 2
    run category_visitor "category page, visitor" "$base/c/questions"
    run category_member "category page, member" "$base/c/questions" -H "Cookie: $member"
    run home_visitor "home page, visitor" "$base/"
    run home_member "home page, member" "$base/" -H "Cookie: $member"
    run search "search \"$query\" (${matches:-?} posts)" "$base/search?q=$(url_encode "$query")"
    # The same word matches a hundred times as many posts in a hundred times the posts, and
    # its page shows 20 results where the small one shows a few: a search's cost follows its
    # matches, not the index's size. So also a word in about 400 posts at each size (the
    # nearest the seed wrote): the same work, in a small index and in a large one.
    # shellcheck disable=SC2046
    read -r like like_matches < <("$bin" bench-queries $(size_flags "$size") --all-words |
      awk 'NF == 3 && $2 ~ /^[0-9]+$/ { d = $2 - 400; if (d < 0) d = -d; if (best == "" || d < bd) { best = $1; bd = d; n = $2 } } END { print best, n }')
    echo "  (a word in about 400 posts here: \"$like\", in $like_matches posts)"
    run search_like "search, a word in about 400 posts" "$base/search?q=$(url_encode "$like")"
    # And a common word, the same at both sizes: the one the 10k seed wrote into about one post
    # in eight. Its matches are more than are ranked (1,000) at 10k, and over a hundred
    # thousand at 1m, where ranking every match took a quarter of a second.
    # shellcheck disable=SC2046
    common=$("$bin" bench-queries $(size_flags 10k) --all-words |
      awk 'NF == 3 && $2 ~ /^[0-9]+$/ { d = $2 - 1250; if (d < 0) d = -d; if (best == "" || d < bd) { best = $1; bd = d } } END { print best }')
    # shellcheck disable=SC2046
    common_matches=$("$bin" bench-queries $(size_flags "$size") --all-words | awk -v q="$common" '$1 == q && NF == 3 && !found { print $2; found = 1 }')
    echo "  (a common word: \"$common\", in $common_matches posts)"
    run search_common "search, a common word" "$base/search?q=$(url_encode "$common")"
    run staff_queue "staff queue, staff" "$base/staff/queue" -H "Cookie: $staff"
    run review_queue "review queue, moderator" "$base/admin/review" -H "Cookie: $moderator"
    topics=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "--topics") print $(i + 1) }' <<<"$(size_flags "$size")")
    spread=$((topics - 1 < 1000 ? topics - 1 : 1000))
    run reply "reply, 32 writers" "$base/api/reply" -s "$ROOT/bench/replies.lua" -- "$cookies" "$spread" 2
    # Each reply leaves its followers a fan-out for the notification worker: how many still
    # wait when the writers stop, and how long the worker takes to tell them (a worker that did
    # not keep up made the replies look cheaper than they are).
    queued=$(waiting)
    started=$(now_ms)
    for _ in $(seq 1200); do [ "$(waiting)" = 0 ] && break; sleep 0.1; done
    drained=$(($(now_ms) - started))
    printf 'notify_queue\tnotifications waiting when the writers stop\t%s\n' "$queued" >>"$out"
    printf 'notify_drain\ttime for the worker to tell them (ms)\t%s\n' "$drained" >>"$out"
    echo "  notifications waiting when the writers stopped: $queued, told within $drained ms"
    hwm=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status")
    panics=$(grep -c "panicked at" "$results/$name.server-log" || true)
    [ "$panics" = 0 ] || echo "  the server logged $panics panics: see $results/$name.server-log"
    # Of what is resident at the end, how much is the program's own memory (the rest is the
    # binary's code and data mapped from its file: shared, and dropped first under pressure).
    anon=$(awk '/^RssAnon/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status")
    printf 'peak\tpeak resident memory over the run (MB)\t%s\n' "$hwm" >>"$out"
    printf 'anon\tanonymous (heap) memory resident at the end (MB)\t%s\n' "$anon" >>"$out"
    echo "  peak resident memory over the run: $hwm MB ($anon MB of it anonymous at the end)"

    # The ceiling once a run (its bytes are the same topic page whatever the database).
    if [ "$ceiling_done" = 0 ]; then
      ceiling_done=1
      ceiling_port=$(free_port)
      "$ceiling_bin" "$bench_dir/scale-topic.html" "127.0.0.1:$ceiling_port" &
      ceiling=$!
      sleep 0.5
      out_keep=$out
      out="$results/ceiling.tsv"
      : >"$out"
      measured=$ceiling
      run ceiling "ceiling (topic page bytes, bare axum)" "http://127.0.0.1:$ceiling_port/"
      measured=$server
      out=$out_keep
      kill "$ceiling"
      ceiling=""
    fi
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
  done
done

python3 "$ROOT/bench/scale_table.py" "$results" "$databases" "$sizes"
