#!/usr/bin/env bash
# Runs every test: Rust unit and HTTP tests on SQLite, the PostgreSQL tests (required when
# CI=true), the S3 upload store against a local moto server, and the Playwright tests in the system Chromium with JavaScript on and off.
# Installs what is missing from the package registries first.
source "$(dirname "$0")/lib.sh"
# moto (PyPI), the S3-compatible server the upload store's S3 tests run against.
source "$(dirname "$0")/s3_server.sh"
cd "$ROOT"

# cargo-deny from crates.io, once: licences and banned or duplicated crates (deny.toml).
ensure_cargo_deny() {
  if ! command -v cargo-deny >/dev/null 2>&1; then
    say "Installing cargo-deny from crates.io (a few minutes, once)"
    cargo install --locked cargo-deny
  fi
}

# PostgreSQL for the crash test: required when CI=true, else skipped with a note when absent.
postgres_reachable() { psql -h 127.0.0.1 -U postgres -qtAc 'SELECT 1' >/dev/null 2>&1; }

# A CI run builds everything once: incremental caches would only double the disk it needs.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

ensure_browser_tools
ensure_xss_corpus
ensure_mail_venv
start_s3_server
say "Rust tests: unit, HTTP, PostgreSQL, S3"
# One test at a time: when several tests' Tokio runtimes drive the Leptos router in one process
# at once, an occasional request never completes (seen in about 1 run in 4 of tests/it/http.rs;
# never with one runtime, as in the server). The whole suite takes seconds either way.
cargo test --workspace --features app/ssr -- --test-threads=1 2>&1 | tee "$log_dir/cargo.log"

ensure_cargo_deny
say "Dependencies: cargo deny check licenses bans"
cargo deny --log-level error check licenses bans 2>&1 | tee "$log_dir/deny.log"
echo "dependency check: passed" >> "$log_dir/scripts.log"

build_site
check_bundle_size | tee -a "$log_dir/scripts.log"
say "Browser tests: Playwright in /usr/bin/chromium, JavaScript on and off"
(cd end2end && npx playwright test) 2>&1 | tee "$log_dir/e2e.log"

# The same server binary the browser tests ran (built by the Rust tests above, unoptimised but
# with the password hashing optimised: Cargo.toml's profile.dev). What these tests check (no
# answered write lost to SIGKILL, sessions and caches across servers, a clean stop) does not
# depend on the optimiser, and a release build here took 19 to 30 of CI's 90 minutes on 2 cores.
backyard="target/debug/backyard"
say "Crash safety (SIGKILL mid-stream), several servers behind nginx, graceful shutdown"
cargo build --workspace --features app/ssr --bins
python3 scripts/crash_test.py "$backyard" sqlite | tee -a "$log_dir/scripts.log"
if postgres_reachable || [ "${CI:-}" = "true" ]; then
  python3 scripts/crash_test.py "$backyard" postgres | tee -a "$log_dir/scripts.log"
  # Two servers on one PostgreSQL behind nginx (docs/nginx-example.conf): sessions, the page
  # cache, write budgets, the outbox and kill -9 across them.
  python3 scripts/cluster_test.py "$backyard" | tee -a "$log_dir/scripts.log"
else
  say "PostgreSQL not reachable at 127.0.0.1:5432: its crash and cluster tests are skipped (required when CI=true)"
fi
python3 scripts/shutdown_test.py "$backyard" | tee -a "$log_dir/scripts.log"

# The development loop's build (`cargo leptos watch`, scripts/dev.sh) with the settings in the
# root Cargo.toml; the Rust test leptos_metadata checks those on every run, this builds with
# them where the tool is. cargo-leptos takes 15 to 60 minutes to install, so it is not installed here.
if command -v cargo-leptos >/dev/null 2>&1; then
  say "cargo leptos build (the development loop's build, into target/leptos)"
  cargo leptos build
  echo "cargo leptos build: passed" >> "$log_dir/scripts.log"
else
  say "cargo-leptos not installed: its build is skipped (scripts/dev.sh installs it)"
fi

# One closing line for the whole run.
rust_passed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log_dir/cargo.log")
e2e_passed=$(awk '$2 == "passed" { print $1 }' "$log_dir/e2e.log" | tail -n 1)
e2e_skipped=$(awk '$2 == "skipped" { print $1 }' "$log_dir/e2e.log" | tail -n 1)
script_passed=$(wc -l < "$log_dir/scripts.log")
echo "tests: $((rust_passed + ${e2e_passed:-0} + script_passed)) passed, 0 failed, ${e2e_skipped:-0} skipped"
