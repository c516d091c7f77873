# Shared by the benchmarks that run against a fresh demo database.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

# A TCP port on 127.0.0.1 that nothing listens on now, picked by the OS.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the release build (built if missing; BACKYARD_BIN and BACKYARD_SITE_ROOT pick another)
# with demo content on a new database, on a port the OS picks, and waits until it answers. Sets
# BASE (its address), SERVER (its pid) and BENCH_DB (its SQLite file); on exit it is stopped and
# its database deleted.
start_demo_server() {
  [ -f "$SITE_ROOT/bundle-name" ] || build_site
  [ -n "${BACKYARD_BIN:-}" ] || cargo build --release -p server --bins
  local port db
  port=$(free_port)
  db=$(mktemp -u /tmp/backyard-bench-XXXXXX.db)
  BENCH_DB=$db
  BACKYARD_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$db?mode=rwc" BACKYARD_LOG="${BACKYARD_LOG:-warn}" \
    BACKYARD_SITE_ROOT="${BACKYARD_SITE_ROOT:-$SITE_ROOT}" \
    "${BACKYARD_BIN:-$ROOT/target/release/backyard}" serve --demo >/dev/null &
  SERVER=$!
  # shellcheck disable=SC2064 # expand now: the trap must name this server and database
  trap "kill $SERVER 2>/dev/null; rm -f '$db'*" EXIT
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    curl -fs "$BASE/healthz" >/dev/null && return 0
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not start" >&2
  return 1
}

# For the build-against-build benchmarks (member_page.sh, replies.sh): sets `seeded` to
# bench/scale.sh's 10k SQLite database, seeding it with BIN if missing, and `site_root` to a
# site root naming a placeholder bundle (a page's speed does not depend on it).
ten_k_database() {
  local bin=$1
  mkdir -p "$ROOT/target/bench"
  seeded="$ROOT/target/bench/scale-10k.db"
  if [ ! -f "$seeded" ]; then
    say "Seeding $seeded"
    DATABASE_URL="sqlite://$seeded?mode=rwc" BACKYARD_LOG=warn "$bin" seed-bench \
      --posts 10000 --topics 500 --users 500 >/dev/null
  fi
  placeholder_site_root
}

# Sets `site_root` to a site root naming a placeholder bundle (a page's speed does not depend
# on it), for the build-against-build benchmarks.
placeholder_site_root() {
  site_root="$ROOT/target/bench-no-bundle"
  mkdir -p "$site_root"
  [ -f "$site_root/bundle-name" ] || echo backyard >"$site_root/bundle-name"
}

# Sets `bins` to the builds a build-against-build benchmark compares: its arguments, or else the
# release build of this tree (built first).
builds_to_compare() {
  bins=("$@")
  if [ ${#bins[@]} = 0 ]; then
    cargo build --release -p server --bins
    bins=("$ROOT/target/release/backyard")
  fi
}
