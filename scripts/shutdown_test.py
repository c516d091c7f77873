#!/usr/bin/env python3
"""Slow clients and graceful shutdown. A client that sends its headers too slowly is cut off
after about 10 seconds. On SIGTERM the server stops accepting, finishes the requests in
progress, and exits within 10 seconds even when a client never finishes its request.

usage: shutdown_test.py BINARY
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BINARY = os.path.abspath(sys.argv[1])


def free_port():
    """A port nothing listens on now (another service on a guessed port would be connected to
    instead of the server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
work = tempfile.mkdtemp(prefix="backyard-shutdown-")
env = dict(os.environ, DATABASE_URL=f"sqlite://{work}/s.db?mode=rwc",
           BACKYARD_ADDR=f"127.0.0.1:{PORT}", BACKYARD_LOG="error")
server = subprocess.Popen([BINARY, "serve", "--demo"], env=env, stdout=subprocess.DEVNULL)


def connect():
    return socket.create_connection(("127.0.0.1", PORT), timeout=5)


for _ in range(300):
    if server.poll() is not None:
        sys.exit(f"the server exited with {server.returncode} while starting")
    try:
        connect().close()
        break
    except OSError:
        time.sleep(0.05)

failures = []

# A slowloris: half a request line's headers, then nothing. The server must hang up on it.
slow = connect()
slow.settimeout(20)
slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
opened = time.monotonic()
try:
    answer = slow.recv(4096)
except socket.timeout:
    answer = None
held = time.monotonic() - opened
if answer is None or not 8 <= held <= 13:
    failures.append(f"a client slow to send its headers was held {held:.1f} s (answer {answer!r})")
slow_note = f"slow client cut off after {held:.1f} s"

body = b"login=casey&password=demo-customer-pass&next=%2F"
head = (b"POST /api/log_in HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: same-origin\r\n"
        b"Accept: text/html\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
in_flight = connect()
in_flight.sendall(head + body[:10])          # a request in progress...
stuck = connect()
stuck.sendall(head + body[:5])               # ...and one whose client never finishes
time.sleep(0.3)

server.send_signal(signal.SIGTERM)
started = time.monotonic()
time.sleep(0.5)
try:
    connect().close()
    failures.append("a new connection was accepted after SIGTERM")
except OSError:
    pass
in_flight.sendall(body[10:])
answer = in_flight.recv(4096).split(b"\r\n")[0]
if b" 302 " not in answer:
    failures.append(f"the request in progress got {answer!r}, not its 302")
try:
    code = server.wait(timeout=12)
except subprocess.TimeoutExpired:
    server.kill()
    code = None
elapsed = time.monotonic() - started
if code != 0:
    failures.append(f"exit code {code}")
if elapsed > 10:
    failures.append(f"took {elapsed:.1f} s to exit")
print(f"shutdown test: {slow_note}; in-flight request answered {answer.decode(errors='replace')!r}; new connections "
      f"refused; exited with {code} {elapsed:.1f} s after SIGTERM (a stuck client held on)")
if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
