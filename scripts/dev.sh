#!/usr/bin/env bash
# The development loop: `cargo leptos watch` builds the islands bundle and the server (debug, into
# target/leptos), starts Backyard at http://127.0.0.1:3000 on backyard.db here with demo content
# (when the database is new), and on a change to a page, a component, a rule or style/main.css
# rebuilds and reloads the browser (live-reload socket on port 3001; the settings are the
# [[workspace.metadata.leptos]] block of the root Cargo.toml). Arguments go to cargo leptos watch,
# e.g. `scripts/dev.sh --hot-reload`. For a release build and start, use scripts/start.sh.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The version the metadata block is checked against (server/tests/leptos_metadata.rs).
CARGO_LEPTOS_VERSION=0.3.10

have=$(cargo leptos --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$CARGO_LEPTOS_VERSION" ]; then
  say "Installing cargo-leptos $CARGO_LEPTOS_VERSION from crates.io (once: 15 to 60 minutes depending on the machine)"
  # no_downloads: it uses the wasm-bindgen installed below instead of fetching its own.
  cargo install cargo-leptos --locked --features no_downloads --version "$CARGO_LEPTOS_VERSION"
fi
# The wasm32 target and wasm-bindgen at Cargo.lock's version, which cargo-leptos runs.
ensure_wasm_toolchain
# wasm-opt (npm's binaryen), which cargo-leptos runs on a release bundle (`--release`).
if ensure_wasm_opt; then
  export PATH="$ROOT/target/tools/node_modules/.bin:$PATH"
fi
exec cargo leptos watch "$@"
