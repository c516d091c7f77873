#!/usr/bin/env python3
"""Abuse benchmarks against a running server (see bench/abuse.sh). Prints figures; asserts
nothing (timings vary with the machine).

1. logins: 64 clients send wrong passwords at once, each from its own loopback address (so
   the per-address throttle does not simply turn them away) while a prober on another address
   times GET /healthz. The password-hashing semaphore must keep /healthz quick.
2. flood: one client (127.0.0.1) sends 10,000 requests, as fast as 64 connections allow, half
   replies and half page reads ('error' counts connections the server closed after refusing a
   request without reading its body), while a prober on 127.0.0.2 reads a page and /healthz. The
   per-address limits must answer the flooder 429 and keep serving the prober.

usage: abuse.py BASE_URL
"""
import http.client
import multiprocessing
import statistics
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlparse

BASE = urlparse(sys.argv[1])
HOST, PORT = BASE.hostname, BASE.port


def connection(source):
    return http.client.HTTPConnection(HOST, PORT, timeout=30, source_address=(source, 0))


def request(conn, method, path, body=None):
    headers = {"Sec-Fetch-Site": "same-origin", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    res.read()
    return res.status


def probe(source, paths, seconds, out):
    """Sequential requests from `source`: latencies in ms and statuses per path."""
    conn = connection(source)
    times = {p: [] for p in paths}
    statuses = Counter()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for path in paths:
            started = time.perf_counter()
            try:
                status = request(conn, "GET", path)
            except (OSError, http.client.HTTPException):
                conn = connection(source)
                status = "error"
            times[path].append((time.perf_counter() - started) * 1000)
            statuses[(path, status)] += 1
        time.sleep(0.01)
    out.put((times, dict(statuses)))


def summary(label, ms):
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"  {label:<34} n={len(ms):<5} median {statistics.median(ms):7.2f} ms   "
          f"p99 {p99:7.2f} ms   max {ms[-1]:7.2f} ms")


def run_probe(source, paths, seconds):
    out = multiprocessing.Queue()
    proc = multiprocessing.Process(target=probe, args=(source, paths, seconds, out))
    proc.start()
    return proc, out


def logins():
    print("Scenario 1: 64 concurrent wrong logins, /healthz probed from another address")
    # Baseline first: the same probe with nothing else going on.
    proc, out = run_probe("127.0.0.2", ["/healthz"], 3)
    times, _ = out.get()
    proc.join()
    summary("/healthz, idle", times["/healthz"])

    stop = threading.Event()
    answered = Counter()
    lock = threading.Lock()

    def attacker(i):
        conn = connection(f"127.0.1.{i + 1}")
        n = 0
        while not stop.is_set():
            n += 1
            body = f"login=nobody{i}x{n}&password=wrong-password-{n}"
            try:
                status = request(conn, "POST", "/api/log_in", body)
            except (OSError, http.client.HTTPException):
                conn = connection(f"127.0.1.{i + 1}")
                status = "error"
            with lock:
                answered[status] += 1

    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    time.sleep(1)
    proc, out = run_probe("127.0.0.2", ["/healthz"], 8)
    times, _ = out.get()
    proc.join()
    stop.set()
    for t in threads:
        t.join()
    summary("/healthz, during 64 wrong logins", times["/healthz"])
    print(f"  wrong-login answers: {dict(answered)}")


def flood():
    print("Scenario 2: one client floods 10,000 requests; another reads pages meanwhile")
    proc, out = run_probe("127.0.0.2", ["/", "/healthz"], 3)
    times, _ = out.get()
    proc.join()
    summary("/ (page), idle", times["/"])

    total = 10_000
    sent = [0]
    answered = Counter()
    lock = threading.Lock()

    def flooder(i):
        conn = connection("127.0.0.1")
        while True:
            with lock:
                if sent[0] >= total:
                    return
                sent[0] += 1
                n = sent[0]
            try:
                if n % 2:
                    status = request(conn, "POST", "/api/reply", f"topic_id=1&body=flood+{n}&form_token={n:064x}")
                else:
                    status = request(conn, "GET", "/c/questions" if n % 4 else "/")
            except (OSError, http.client.HTTPException):
                conn = connection("127.0.0.1")
                status = "error"
            with lock:
                answered[status] += 1

    proc, out = run_probe("127.0.0.2", ["/", "/healthz"], 6)
    started = time.monotonic()
    threads = [threading.Thread(target=flooder, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    times, statuses = out.get()
    proc.join()
    print(f"  flooder: {total} requests in {elapsed:.1f} s; answers {dict(answered)}")
    summary("/ (page) for the other client", times["/"])
    summary("/healthz for the other client", times["/healthz"])
    ok = sum(n for (path, status), n in statuses.items() if status == 200)
    print(f"  other client: {ok} of {sum(statuses.values())} requests answered 200")


if __name__ == "__main__":
    logins()
    flood()
