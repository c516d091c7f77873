#!/usr/bin/env bash
# The cost of the page cache's version check on PostgreSQL (issue 20.1): visitors' cached topic page on
# the demo site, 32 connections for 10 s with wrk, on SQLite (the version is a process counter)
# and on PostgreSQL (the version is read before each hit, one read per batch of waiting
# requests; the number of PostgreSQL transactions during the run is the number of reads).
# Needs the release build (cargo build --release -p server --bins) and PostgreSQL on 127.0.0.1.
set -euo pipefail
BIN="$(cd "$(dirname "$0")/.." && pwd)/target/release/backyard"
W=$(mktemp -d)
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS backyard_pcbench" -qc "CREATE DATABASE backyard_pcbench" >/dev/null
run() {
  local url=$1 label=$2 port=$3
  DATABASE_URL=$url BACKYARD_LOG=error $BIN seed-demo >/dev/null
  DATABASE_URL=$url BACKYARD_ADDR=127.0.0.1:$port BACKYARD_LOG=error BACKYARD_IP_CONCURRENCY=0 BACKYARD_IP_WRITES_PER_MINUTE=0 BACKYARD_PUBLIC_URL=http://127.0.0.1:$port $BIN serve >/dev/null &
  local pid=$!
  for i in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
  local path=$(curl -s -o /dev/null -w '%{redirect_url}' http://127.0.0.1:$port/t/1 | sed "s#http://127.0.0.1:$port##")
  [ -z "$path" ] && path=/t/1
  curl -s -o /dev/null http://127.0.0.1:$port$path
  local before=$(psql -h 127.0.0.1 -U postgres -d backyard_pcbench -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'backyard_pcbench'")
  echo "== $label $path"
  wrk -t2 -c32 -d10s -H 'Accept-Encoding: gzip' --latency http://127.0.0.1:$port$path | grep -E "Requests/sec|50%|99%|requests in"
  local after=$(psql -h 127.0.0.1 -U postgres -d backyard_pcbench -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'backyard_pcbench'")
  echo "PostgreSQL transactions during the run: $((after - before))"
  kill $pid; wait $pid || true
}
run "sqlite://$W/demo.db?mode=rwc" "SQLite" 38111
run "postgres://postgres@127.0.0.1:5432/backyard_pcbench" "PostgreSQL" 38112
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS backyard_pcbench WITH (FORCE)"
rm -rf "$W"
