#!/usr/bin/env bash
# What /metrics costs a request: the release build on one demo database, a visitor's cached topic
# page driven with wrk (32 connections, 2 threads, SECONDS s), with BACKYARD_METRICS off (no
# layer at all) and on (counted, served on an address of its own), alternating ROUNDS times so
# the machine's other load falls on both alike. Prints req/s, p50 and p99 of every run, the
# medians per setting, and the page's own figures for the topic route after the last run.
# usage: bench/metrics.sh [ROUNDS [SECONDS]]   (BACKYARD_BIN picks another build)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
rounds=${1:-3}
seconds=${2:-10}
[ -n "${BACKYARD_BIN:-}" ] || cargo build --release -p server --bins
bin=${BACKYARD_BIN:-$ROOT/target/release/backyard}
command -v wrk >/dev/null || { say "Installing wrk from Debian"; apt-get install -y -qq wrk >/dev/null; }

db=$(mktemp -u /tmp/backyard-metrics-XXXXXX.db)
# No browser bundle is needed: the server's cost is the same with or without it.
site_root=$(mktemp -d)
server=""
trap 'kill $server 2>/dev/null; rm -rf "$db"* "$site_root"' EXIT
DATABASE_URL="sqlite://$db?mode=rwc" BACKYARD_LOG=warn "$bin" seed-demo >/dev/null

start() { # extra env assignments...
  port=$(free_port)
  env BACKYARD_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$db?mode=rwc" BACKYARD_LOG=warn \
    BACKYARD_SITE_ROOT="$site_root" "$@" "$bin" serve >/dev/null 2>&1 &
  server=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "the server did not start" >&2
  exit 1
}
stop() { kill "$server"; wait "$server" 2>/dev/null; server=""; }

to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }'; }
run() { # name url -> prints a row, appends req/s to the file named by $3
  local out rps p50 p99
  wrk -t2 -c32 -d2s -H "Sec-Fetch-Site: same-origin" "$2" >/dev/null # warm-up
  out=$(wrk -t2 -c32 -d"${seconds}s" --latency -H "Sec-Fetch-Site: same-origin" "$2")
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out" | to_ms)
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out" | to_ms)
  printf '%-14s %10s req/s   p50 %6s ms   p99 %6s ms  %s\n' "$1" "$rps" "$p50" "$p99" \
    "$(awk '/Non-2xx|Socket errors/' <<<"$out")"
  echo "$rps" >>"$3"
}

start
topic=$(curl -fs "$base/" | grep -o 'href="/t/[0-9]*/[a-z0-9-]*"' | head -1 | cut -d'"' -f2)
stop
[ -n "$topic" ] || { echo "no topic link on the home page" >&2; exit 1; }
say "wrk: the visitor's topic page $topic (page cache), 32 connections, ${seconds} s, $rounds rounds"
off_file=$(mktemp) on_file=$(mktemp)
metrics_port=$(free_port)
for _ in $(seq "$rounds"); do
  start
  run "metrics off" "$base$topic" "$off_file"
  stop
  start BACKYARD_METRICS=on BACKYARD_METRICS_ADDR="127.0.0.1:$metrics_port"
  run "metrics on" "$base$topic" "$on_file"
  page=$(curl -fs "http://127.0.0.1:$metrics_port/metrics")
  stop
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
off=$(median "$off_file") on=$(median "$on_file")
printf 'median req/s: off %s, on %s (on/off %s)\n' "$off" "$on" "$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')"
rm -f "$off_file" "$on_file"
say "The last run's /metrics for the topic route"
grep -F 'route="/t/{id}/{slug}"' <<<"$page" | grep -E 'requests_total|_count|le="0.0005"|le="0.001"|le="0.005"|le="\+Inf"'
grep -E '^backyard_page_cache_lookups_total\{kind="page"|^process_resident|^backyard_process_peak' <<<"$page"
