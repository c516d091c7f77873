# Shared steps for scripts/start.sh and scripts/test.sh. Everything comes from the package
# registries (crates.io, npm, Debian); nothing else is downloaded.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SITE_ROOT="$ROOT/target/site"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The browser build needs the wasm32 target and the wasm-bindgen CLI at exactly the version in
# Cargo.lock (the CLI and the library must agree).
ensure_wasm_toolchain() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  local want have
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock")
  have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
  if [ "$have" != "$want" ]; then
    say "Installing wasm-bindgen-cli $want from crates.io (about 2 minutes, once)"
    # Not --locked: the CLI's own lockfile pins a crate the registry no longer has.
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

# Builds the islands bundle and lays out target/site: public/, pkg/NAME.js, pkg/NAME_bg.wasm and
# pkg/NAME.css with gzip copies, where NAME is "backyard." + a hash of the three files, written
# to bundle-name for the server. Content-named files can be cached by browsers for a year (a
# new build has new names), so a returning reader loads a page without asking for them again.
build_site() {
  ensure_wasm_toolchain
  say "Building the browser bundle (wasm, profile wasm-release)"
  cargo build --manifest-path "$ROOT/Cargo.toml" -p app --lib --target wasm32-unknown-unknown \
    --profile wasm-release --no-default-features --features hydrate
  local pkg="$SITE_ROOT/pkg" name f previous=""
  # The previous build's files stay (and only they): a page a reader loaded before this deploy
  # still names them, and its forms should still hydrate.
  [ -f "$SITE_ROOT/bundle-name" ] && previous=$(cat "$SITE_ROOT/bundle-name")
  mkdir -p "$pkg"
  for f in "$pkg"/*; do
    case "$(basename "$f")" in
      "$previous".* | "$previous"_bg.*) [ -n "$previous" ] && continue ;;
    esac
    rm -rf "$f"
  done
  wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name backyard \
    "$ROOT/target/wasm32-unknown-unknown/wasm-release/app.wasm"
  if [ -e "$pkg/snippets" ]; then
    # Files the bundle imports by a fixed name would be cached as if they never changed.
    echo "wasm-bindgen wrote JavaScript snippets; build_site does not content-name them" >&2
    return 1
  fi
  optimise_wasm "$pkg/backyard_bg.wasm"
  cp "$ROOT/style/main.css" "$pkg/backyard.css"
  name="backyard.$(cat "$pkg/backyard.js" "$pkg/backyard_bg.wasm" "$pkg/backyard.css" | sha256sum | cut -c1-16)"
  mv "$pkg/backyard.js" "$pkg/$name.js"
  mv "$pkg/backyard_bg.wasm" "$pkg/${name}_bg.wasm"
  mv "$pkg/backyard.css" "$pkg/$name.css"
  cp -R "$ROOT/public/." "$SITE_ROOT/"
  # Pre-compressed copies: the server sends them to browsers that accept gzip.
  for f in "$pkg/$name.js" "$pkg/${name}_bg.wasm" "$pkg/$name.css"; do
    gzip -9 -k -f "$f"
  done
  echo "$name" > "$SITE_ROOT/bundle-name"
  say "Bundle $name: $(stat -c %s "$pkg/${name}_bg.wasm") bytes wasm, $(stat -c %s "$pkg/${name}_bg.wasm.gz") gzipped"
}

# The most the browser bundle may weigh gzipped, as sent: the wasm plus its JavaScript glue
# (ARCHITECTURE.md, "Islands": every island earns its bytes). The one place the limit lives.
BUNDLE_LIMIT_GZIPPED=204800

# Fails when the built bundle (see build_site) is over BUNDLE_LIMIT_GZIPPED, printing both.
check_bundle_size() {
  local pkg="$SITE_ROOT/pkg" name wasm js total
  name=$(bundle_name)
  wasm=$(stat -c %s "$pkg/${name}_bg.wasm.gz")
  js=$(stat -c %s "$pkg/$name.js.gz")
  total=$((wasm + js))
  if [ "$total" -gt "$BUNDLE_LIMIT_GZIPPED" ]; then
    echo "bundle size: $total bytes gzipped (wasm $wasm + js $js) is over the limit of $BUNDLE_LIMIT_GZIPPED" >&2
    return 1
  fi
  echo "bundle size: $total bytes gzipped (wasm $wasm + js $js), limit $BUNDLE_LIMIT_GZIPPED"
}

# The built bundle's name (see build_site), e.g. backyard.0123456789abcdef.
bundle_name() { cat "$SITE_ROOT/bundle-name"; }

# Installs wasm-opt into target/tools/node_modules/.bin when missing; fails when npm is missing.
ensure_wasm_opt() {
  local tools="$ROOT/target/tools"
  [ -x "$tools/node_modules/.bin/wasm-opt" ] && return 0
  command -v npm >/dev/null 2>&1 || return 1
  say "Installing binaryen (wasm-opt) from npm"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent binaryen@132.0.0 >/dev/null
}

# wasm-opt from npm's binaryen package (Debian's is too old for current wasm features). Skipped
# with a note when npm is missing: the bundle works, it is just larger.
optimise_wasm() {
  local wasm="$1" tools="$ROOT/target/tools"
  if ! ensure_wasm_opt; then
    say "npm not found: skipping wasm-opt"
    return 0
  fi
  "$tools/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$wasm" -o "$wasm.opt"
  mv "$wasm.opt" "$wasm"
}

# The test SMTP server (scripts/smtp_test_server.py) runs on aiosmtpd from PyPI, in a venv of its
# own under target/ (the system Python stays untouched). The mail tests and bench/mail.sh use it.
MAIL_VENV="$ROOT/target/mail-venv"
ensure_mail_venv() {
  if "$MAIL_VENV/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then return 0; fi
  say "Installing aiosmtpd from PyPI into target/mail-venv"
  python3 -m venv "$MAIL_VENV"
  "$MAIL_VENV/bin/pip" install --quiet --disable-pip-version-check aiosmtpd==1.4.6
}

# The browser tests' tools and corpus: scripts/test.sh and scripts/leptos_end2end.sh.
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_browser_tools() {
  # Only what is missing: a machine may have Node.js from elsewhere, and Debian's nodejs/npm
  # packages would conflict with it.
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  if [ ${#missing[@]} -gt 0 ]; then
    say "Installing ${missing[*]} from Debian"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules ]; then
    say "Installing the end2end npm packages"
    # Playwright would fetch its own browser build; we use Debian's chromium instead.
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

# The XSS corpus for the browser test, from the registries' copies of two well-known projects'
# test suites (the third, Yahoo's xss-filters fuzz seed, comes with the npm packages): wfuzz's
# XSS injection list (Debian) and bleach's sanitiser test vectors (PyPI). Nothing is committed.
ensure_xss_corpus() {
  local dir="$ROOT/target/xss-corpus" tmp
  # Done only when both parts are really there: an interrupted fetch once left an empty bleach
  # folder that passed for done, and the browser test then ran 191 payloads instead of 200.
  if [ -s "$dir/wfuzz-XSS.txt" ] && compgen -G "$dir/bleach/*.test" >/dev/null; then return 0; fi
  say "Fetching the XSS corpus (wfuzz from Debian, bleach from PyPI)"
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download wfuzz >/dev/null 2>&1); then
    as_root apt-get update -qq
    (cd "$tmp" && apt-get download wfuzz >/dev/null 2>&1)
  fi
  dpkg -x "$tmp"/wfuzz_*.deb "$tmp/wfuzz"
  python3 -m pip download --quiet --no-deps --no-binary :all: bleach==6.2.0 -d "$tmp"
  tar -xzf "$tmp"/bleach-6.2.0.tar.gz -C "$tmp"
  mkdir -p "$tmp/corpus/bleach"
  cp "$tmp/wfuzz/usr/share/wfuzz/wordlist/Injections/XSS.txt" "$tmp/corpus/wfuzz-XSS.txt"
  cp "$tmp"/bleach-6.2.0/tests/data/*.test "$tmp/corpus/bleach/"
  # Into place in one step, once complete: a fetch stopped halfway leaves nothing behind.
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  mv "$tmp/corpus" "$dir"
  rm -rf "$tmp"
  if [ ! -s "$dir/wfuzz-XSS.txt" ] || ! compgen -G "$dir/bleach/*.test" >/dev/null; then
    echo "The XSS corpus is incomplete in $dir" >&2
    exit 1
  fi
}
