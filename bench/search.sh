#!/usr/bin/env bash
# Search speed on the 500,000-post benchmark database (backyard seed-bench), SQLite then
# PostgreSQL, against release builds: search median and p99 for one-word, three-word and phrase
# queries with 1 and 4 clients, similar topics while composing, the sitemap index and one sitemap
# page, and what the search index adds to posting a reply. Prints each figure beside its goal
# (issue 16, point 5) and, for every query, how many topics the search found beside how many
# posts and topics the seed wrote that match it (`backyard bench-queries`). The search rules are
# also timed in-process (server/src/bin/search_timing.rs), without HTTP and page rendering.
#
# The seeded databases are kept (target/bench/search.db; PostgreSQL database
# backyard_bench_search at $BENCH_PG, default postgres://postgres@127.0.0.1:5432) and reused;
# --reseed makes them again. The reply comparison runs on throwaway copies.
#
# "Without the index" is the release build of the commit before the search index (BASELINE_REV,
# by default the parent of the commit that added the search migration; built once from a git
# worktree into target/bench/baseline-target, or BASELINE_BIN to give one) on a copy of the same
# seeded database with the search migration undone as its down() does (its table dropped, its row
# removed from seaql_migrations), so the older build opens it as its own. Same rows, same
# machine, and the two servers take the replies alternately, one request at a time: the one
# difference in a reply is the index write. (Turning indexing off in the current build would need
# a switch in the posting code that only a benchmark would use; seeding the older build's own
# database would compare different rows.)
#
# usage: bench/search.sh [--reseed] [--requests N] [--replies N] [--sqlite-only | --postgres-only]
#                        [--small]   (--small: 10,000 posts in databases of their own, to try the script)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

requests=200
replies=200
reseed=0
backends="sqlite postgres"
name=search
sizes=()
topics=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --reseed) reseed=1 ;;
    --requests) requests="$2"; shift ;;
    --replies) replies="$2"; shift ;;
    --sqlite-only) backends=sqlite ;;
    --postgres-only) backends=postgres ;;
    --small) name=search_small; sizes=(--users 500 --topics 1000 --posts 10000); topics=1000 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

target="${CARGO_TARGET_DIR:-$ROOT/target}"
bench_dir="$ROOT/target/bench"
mkdir -p "$bench_dir"
bin="${BACKYARD_BIN:-$target/release/backyard}"
[ -n "${BACKYARD_BIN:-}" ] || cargo build --release -p server --bin backyard --bin search_timing
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"

# Search pages need no browser bundle: without one, run without it.
site_root="${BACKYARD_SITE_ROOT:-$SITE_ROOT}"
if [ ! -f "$site_root/bundle-name" ]; then
  site_root="$ROOT/target/bench-no-bundle"
  mkdir -p "$site_root"
  echo backyard >"$site_root/bundle-name"
fi

# The baseline: the build before the search index, and the migrations it does not know.
search_migration=m20261203_000001_search
baseline_rev="${BASELINE_REV:-$(git log --diff-filter=A --format=%H -1 -- "migrations/src/$search_migration.rs")^}"
baseline_rev=$(git rev-parse --verify "$baseline_rev^{commit}")
extra=$(comm -13 <(git ls-tree --name-only "$baseline_rev" migrations/src/ | xargs -n1 basename | sort) \
  <(git ls-tree --name-only HEAD migrations/src/ | xargs -n1 basename | sort) | grep '^m2' | sed 's/\.rs$//')
if [ "$extra" != "$search_migration" ]; then
  echo "the baseline $baseline_rev lacks migrations other than the search one ($extra): pick another BASELINE_REV" >&2
  exit 1
fi
baseline_bin="${BASELINE_BIN:-}"
if [ -z "$baseline_bin" ]; then
  src="$bench_dir/baseline-src"
  [ -d "$src" ] || git worktree add --detach "$src" "$baseline_rev" >/dev/null
  git -C "$src" checkout -q --detach "$baseline_rev"
  say "Building the baseline ($(git log --format='%h %s' -1 "$baseline_rev" | cut -c1-70)) into target/bench/baseline-target"
  CARGO_TARGET_DIR="$bench_dir/baseline-target" cargo build --release --manifest-path "$src/Cargo.toml" -p server --bin backyard
  baseline_bin="$bench_dir/baseline-target/release/backyard"
fi

servers=()
cleanup=()
trap 'kill "${servers[@]}" 2>/dev/null; wait 2>/dev/null; for c in "${cleanup[@]}"; do eval "$c"; done' EXIT

# start BIN DATABASE_URL -> sets $base; the server is stopped on exit (or by stop_servers).
start() {
  local port
  port=$(free_port)
  # No per-address limits: 4 clients from one address are the load, not an abuse.
  BACKYARD_ADDR="127.0.0.1:$port" DATABASE_URL="$2" BACKYARD_LOG=warn BACKYARD_SITE_ROOT="$site_root" \
    BACKYARD_IP_WRITES_PER_MINUTE=0 BACKYARD_IP_CONCURRENCY=0 "$1" serve >/dev/null &
  servers+=($!)
  base="http://127.0.0.1:$port"
  # A first start on a database without an index builds it: wait up to 10 minutes.
  for _ in $(seq 6000); do
    curl -fs "$base/healthz" >/dev/null && return 0
    kill -0 "${servers[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server on $2 did not start" >&2
  return 1
}
stop_servers() {
  kill "${servers[@]}" 2>/dev/null || true
  wait "${servers[@]}" 2>/dev/null || true
  servers=()
}

queries="$bench_dir/$name-queries.tsv"
"$bin" bench-queries "${sizes[@]}" | grep -P '^\w+\t' >"$queries"

for backend in $backends; do
  case "$backend" in
    sqlite)
      db="$bench_dir/$name.db"
      url="sqlite://$db?mode=rwc"
      seeded() { [ -f "$db" ]; }
      copy_sql() { sqlite3 "$copy_target" "$1"; }
      drop() { rm -f "$db" "$db-wal" "$db-shm"; }
      # copy NAME -> sets $copy_url to a copy of the seeded database, deleted on exit.
      copy() {
        local to="$bench_dir/$name-$1.db"
        rm -f "$to"*
        sqlite3 "$db" ".backup '$to'"
        cleanup+=("rm -f '$to'*")
        copy_url="sqlite://$to?mode=rwc"
        copy_target=$to
      }
      ;;
    postgres)
      url="$pg/backyard_bench_$name"
      copy_sql() { psql "$pg/$copy_target" -qc "$1"; }
      seeded() { psql "$pg/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = 'backyard_bench_$name'" | grep -q 1; }
      drop() {
        psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS backyard_bench_$name" -c "CREATE DATABASE backyard_bench_$name"
      }
      copy() {
        local to="backyard_bench_${name}_$1"
        psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $to" -c "CREATE DATABASE $to TEMPLATE backyard_bench_$name"
        cleanup+=("psql '$pg/postgres' -qc 'DROP DATABASE IF EXISTS $to'")
        copy_url="$pg/$to"
        copy_target=$to
      }
      ;;
  esac
  say "$backend"
  if [ "$reseed" = 1 ] || ! seeded; then
    drop
    say "Seeding the benchmark database ($backend)"
    DATABASE_URL="$url" BACKYARD_LOG=warn "$bin" seed-bench "${sizes[@]}"
  fi
  start "$bin" "$url"
  python3 "$ROOT/bench/search.py" reads "$base" "$queries" "$requests"
  stop_servers
  DATABASE_URL="$url" BACKYARD_LOG=warn "$(dirname "$bin")/search_timing" "$queries" "$requests"

  copy with
  with_url=$copy_url
  copy without
  without_url=$copy_url
  # The search migration's down(), and its row: the older build then knows every migration.
  copy_sql "DROP TABLE search_index; DELETE FROM seaql_migrations WHERE version = '$search_migration'"
  start "$bin" "$with_url"
  with_base=$base
  start "$baseline_bin" "$without_url"
  without_base=$base
  python3 "$ROOT/bench/search.py" replies "$with_base" "$without_base" "$replies" "$topics"
  stop_servers
done
