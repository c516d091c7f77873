#!/usr/bin/env bash
# `backyard migrate-data` on the benchmark database: seeds a SQLite database with
# `backyard seed-bench` (by default 50,000 posts in 5,000 topics by 2,000 members, with votes),
# copies it into a new PostgreSQL database and prints the command's report: each table's rows
# and checksum (checked on both sides before the commit), the time taken and rows per second.
# The seeded SQLite file is kept in target/bench/ and reused for the same sizes; the PostgreSQL
# database is dropped afterwards.
#
# usage: bench/migrate-data.sh [--posts N] [--topics N] [--users N] [--reseed]
#        BACKYARD_BIN picks the binary (default: the release build, built if missing);
#        BENCH_PG the PostgreSQL server (default postgres://postgres@127.0.0.1:5432).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

posts=50000
topics=5000
users=2000
reseed=0
while [ $# -gt 0 ]; do
  case "$1" in
    --posts) posts="$2"; shift ;;
    --topics) topics="$2"; shift ;;
    --users) users="$2"; shift ;;
    --reseed) reseed=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
votes=$((topics / 4 * 3))
bin="${BACKYARD_BIN:-$ROOT/target/release/backyard}"
[ -n "${BACKYARD_BIN:-}" ] || [ -x "$bin" ] || cargo build --release -p server --bins
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"

mkdir -p target/bench
source_db="$ROOT/target/bench/migrate-${posts}-${topics}-${users}.db"
if [ "$reseed" = 1 ] || [ ! -f "$source_db" ]; then
  rm -f "$source_db" "$source_db-wal" "$source_db-shm"
  echo "Seeding $source_db ($posts posts, $topics topics, $users members, $votes votes)..."
  DATABASE_URL="sqlite://$source_db?mode=rwc" BACKYARD_LOG=warn \
    "$bin" seed-bench --users "$users" --topics "$topics" --posts "$posts" --votes "$votes" |
    grep -E '^Seeded' || true
fi

target="backyard_bench_migrate_$$"
psql "$pg/postgres" -qc "CREATE DATABASE $target"
trap 'psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $target WITH (FORCE)"' EXIT
echo "SQLite file: $(du -h "$source_db" | cut -f1); $(nproc) cores"
DATABASE_URL="sqlite://$source_db" BACKYARD_LOG=warn \
  "$bin" migrate-data --from "sqlite://$source_db" --to "$pg/$target"
