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
# The build cargo-leptos just made: `cargo leptos end-to-end` builds debug, with `--release`
# (or -r) release. It runs this script as its child, so its command line says which; the newer
# binary is not a safe guess, as cargo leaves an up-to-date one untouched, and the site root
# (shared by both profiles) holds the bundle of the build just made. Run by hand, the newer one.
profile=
parent=$(ps -o args= -p "$PPID" 2>/dev/null || true)
case " $parent " in
  *"cargo-leptos "*)
    profile=debug
    for arg in $parent; do
      if [ "$arg" = --release ] || [ "$arg" = -r ]; then profile=release; fi
    done
    bin=target/leptos/$profile/backyard
    ;;
  # ls fails when one of the two is missing, which pipefail (lib.sh) would make fatal.
  *) bin=$(ls -t target/leptos/debug/backyard target/leptos/release/backyard 2>/dev/null | head -n 1 || true) ;;
esac
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "no server built by cargo-leptos in target/leptos${profile:+/$profile}: run cargo leptos end-to-end" >&2
  exit 1
fi
say "Playwright against $bin and target/leptos/site"
export BACKYARD_BIN="$ROOT/$bin" BACKYARD_E2E_SITE_ROOT="$ROOT/target/leptos/site"
# The names cargo-leptos gave the bundle (pkg/backyard.js, .wasm, .css): the server takes them
# from LEPTOS_* when LEPTOS_OUTPUT_NAME is set, as when cargo-leptos starts it.
export LEPTOS_OUTPUT_NAME=backyard LEPTOS_SITE_ROOT="$BACKYARD_E2E_SITE_ROOT" LEPTOS_SITE_PKG_DIR=pkg
cd end2end
exec npx playwright test "$@"
