#!/usr/bin/env bash
# Uploads, speed and memory (issue 18, point 8), against a release build on a fresh demo
# database (bench/uploads.py says what each step does): a 3 MB phone photo (4,000 x 3,000
# JPEG) uploaded RUNS times one at a time (median, min, max); the server's resident memory
# before, at its peak during, and after 8 such uploads at once; then a visitor's requests for
# the stored thumbnail and image with wrk (32 connections, SECONDS s, median of 3). Prints the
# goals beside the figures; asserts nothing.
# usage: bench/uploads.sh [RUNS [SECONDS]]   (default 7 and 10; the database is deleted after)
# The photo is made once (Pillow from PyPI, in target/bench-venv) into target/bench/.
# BACKYARD_BIN picks another build; BACKYARD_UPLOADS=dir:/some/dir another store.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

command -v wrk >/dev/null || { say "Installing wrk from Debian"; apt-get install -y -qq wrk >/dev/null; }

venv="$ROOT/target/bench-venv"
photo="$ROOT/target/bench/phone-photo-4000x3000.jpg"
if [ ! -f "$photo" ]; then
  if ! "$venv/bin/python" -c 'import PIL' >/dev/null 2>&1; then
    say "Installing Pillow from PyPI into target/bench-venv (to make the test photo)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pillow==11.3.0
  fi
  say "Making the test photo $photo"
  mkdir -p "$(dirname "$photo")"
  "$venv/bin/python" "$ROOT/bench/uploads.py" --make-photo "$photo.tmp"
  mv "$photo.tmp" "$photo"
fi

# Uploads need no browser bundle: without one, run without it (as bench/memory.sh).
if [ ! -f "$SITE_ROOT/bundle-name" ]; then
  SITE_ROOT="$ROOT/target/bench-no-bundle"
  mkdir -p "$SITE_ROOT"
  echo backyard >"$SITE_ROOT/bundle-name"
fi
if [ -z "${BACKYARD_BIN:-}" ]; then
  cargo build --release -p server --bins
  BACKYARD_BIN="$ROOT/target/release/backyard"
fi
# One client writes far faster than a person: the per-address write limit is off here.
BACKYARD_IP_WRITES_PER_MINUTE=0 BACKYARD_LOG=error start_demo_server
say "Uploads: speed and memory ($(nproc) cores)"
python3 "$ROOT/bench/uploads.py" "$BASE" "$SERVER" "$photo" "${1:-7}" "${2:-10}"
