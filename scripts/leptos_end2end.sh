#!/usr/bin/env bash
# `cargo leptos end-to-end` runs this (end2end-cmd in the root Cargo.toml) once it has built the
# site: the Playwright suite, as scripts/test.sh runs it, against the server and bundle that
# cargo-leptos just built (target/leptos) instead of scripts/lib.sh's. Playwright starts its own
# server on a fresh database with the suite's settings (end2end/playwright.config.ts); the one
# cargo-leptos starts on site-addr is not used.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_browser_tools
ensure_xss_corpus
ensure_mail_venv
# The newer of the two builds: `cargo leptos end-to-end` builds debug, `--release` release.
bin=$(ls -t target/leptos/debug/backyard target/leptos/release/backyard 2>/dev/null | head -n 1)
if [ -z "$bin" ]; then
  echo "no server built by cargo-leptos in target/leptos: run cargo leptos end-to-end" >&2
  exit 1
fi
say "Playwright against $bin and target/leptos/site"
export BACKYARD_BIN="$ROOT/$bin" BACKYARD_E2E_SITE_ROOT="$ROOT/target/leptos/site"
# The names cargo-leptos gave the bundle (pkg/backyard.js, .wasm, .css): the server takes them
# from LEPTOS_* when LEPTOS_OUTPUT_NAME is set, as when cargo-leptos starts it.
export LEPTOS_OUTPUT_NAME=backyard LEPTOS_SITE_ROOT="$BACKYARD_E2E_SITE_ROOT" LEPTOS_SITE_PKG_DIR=pkg
cd end2end
exec npx playwright test "$@"
