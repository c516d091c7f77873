#!/usr/bin/env bash
# A real S3-compatible server for the media crate's S3 tests (media/tests/store_s3.rs): moto
# from PyPI, in a venv of its own under target/ (the system Python stays untouched), on
# 127.0.0.1. moto accepts any credentials and keeps everything in memory.
#
# From another script:
#   source scripts/s3_server.sh
#   start_s3_server          # or: start_s3_server 5055
#   cargo test -p media      # sees BACKYARD_TEST_S3_ENDPOINT=http://127.0.0.1:PORT
# start_s3_server exports BACKYARD_TEST_S3_ENDPOINT and S3_SERVER_PID and adds stop_s3_server
# to the shell's EXIT trap (after whatever the trap already did).
#
# By hand: scripts/s3_server.sh [PORT] starts it, prints the export line and leaves it running:
#   eval "$(scripts/s3_server.sh)"; cargo test -p media --test store_s3; kill "$S3_SERVER_PID"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

S3_VENV="$ROOT/target/s3-venv"
ensure_s3_venv() {
  if [ -x "$S3_VENV/bin/moto_server" ] && "$S3_VENV/bin/python" -c 'import moto.server, flask' >/dev/null 2>&1; then
    return 0
  fi
  say "Installing moto[server] from PyPI into target/s3-venv (once)"
  python3 -m venv "$S3_VENV"
  "$S3_VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
}

# Starts moto on 127.0.0.1:PORT (a free port when none is given) in the background and waits
# (up to 30 s) until it answers HTTP.
start_s3_server() {
  local port="${1:-}" log tries=0
  ensure_s3_venv
  if [ -z "$port" ]; then
    port=$("$S3_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  fi
  log="$ROOT/target/s3-server.log"
  "$S3_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  S3_SERVER_PID=$!
  export S3_SERVER_PID
  if [ "${_S3_SERVER_NO_TRAP:-}" != 1 ]; then _s3_add_exit_trap; fi
  until "$S3_VENV/bin/python" - "$port" <<'EOF' >/dev/null 2>&1
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1)
except urllib.error.HTTPError:
    pass  # any HTTP answer means it is up
EOF
  do
    tries=$((tries + 1))
    if ! kill -0 "$S3_SERVER_PID" 2>/dev/null || [ "$tries" -ge 60 ]; then
      echo "moto_server did not start on 127.0.0.1:$port; its log ($log):" >&2
      tail -n 20 "$log" >&2 || true
      stop_s3_server
      return 1
    fi
    sleep 0.5
  done
  export BACKYARD_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
  say "S3 test server (moto) at $BACKYARD_TEST_S3_ENDPOINT, pid $S3_SERVER_PID"
}

# Stops the server start_s3_server started (by its process id), if it still runs.
stop_s3_server() {
  if [ -n "${S3_SERVER_PID:-}" ]; then
    kill "$S3_SERVER_PID" 2>/dev/null || true
    wait "$S3_SERVER_PID" 2>/dev/null || true
    S3_SERVER_PID=""
  fi
}

# Appends stop_s3_server to the current EXIT trap rather than replacing it (scripts/test.sh
# already removes its log directory there).
_s3_add_exit_trap() {
  local current=""
  eval "set -- $(trap -p EXIT)"
  if [ $# -ge 3 ]; then current="$3"; fi
  case "$current" in
    *stop_s3_server*) ;;
    "") trap 'stop_s3_server' EXIT ;;
    *) trap "$current"'; stop_s3_server' EXIT ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  _S3_SERVER_NO_TRAP=1 start_s3_server "${1:-}" >&2
  echo "export BACKYARD_TEST_S3_ENDPOINT=$BACKYARD_TEST_S3_ENDPOINT S3_SERVER_PID=$S3_SERVER_PID"
fi
