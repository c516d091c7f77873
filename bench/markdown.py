#!/usr/bin/env python3
"""/healthz latency while 4 clients post the worst Markdown bodies to the preview at once (see
bench/markdown.sh). Each poster is signed in as the demo customer and sends every body in
turn, from its own address (X-Bench-Client); a prober on another address times GET /healthz the
whole while. Prints figures; asserts nothing (timings vary with the machine).

usage: markdown.py BASE_URL BODIES_DIR
"""
import http.client
import os
import statistics
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlencode, urlparse

BASE = urlparse(sys.argv[1])
BODIES = [open(os.path.join(sys.argv[2], f), encoding="utf-8").read()
          for f in sorted(os.listdir(sys.argv[2])) if f.endswith(".md")]
POSTERS = 4
ROUNDS = 2  # each poster sends every body this many times


def request(conn, method, path, client, body=None, cookie=None):
    headers = {"Sec-Fetch-Site": "same-origin", "Accept": "application/json",
               "X-Bench-Client": client}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    res.read()
    return res


def log_in():
    conn = http.client.HTTPConnection(BASE.hostname, BASE.port, timeout=60)
    res = request(conn, "POST", "/api/log_in", "10.0.0.1",
                  urlencode({"login": "casey", "password": "demo-customer-pass"}))
    cookie = res.getheader("Set-Cookie")
    assert cookie, f"log-in failed: {res.status}"
    return cookie.split(";")[0]


def summary(label, ms):
    ms = sorted(ms)
    print(f"  {label:<40} n={len(ms):<5} median {statistics.median(ms):7.2f} ms   "
          f"max {ms[-1]:8.2f} ms")


def main():
    cookie = log_in()
    stop = threading.Event()
    preview_ms, answers, lock = [], Counter(), threading.Lock()

    def poster(i):
        conn = http.client.HTTPConnection(BASE.hostname, BASE.port, timeout=120)
        for _ in range(ROUNDS):
            for body in BODIES:
                started = time.perf_counter()
                res = request(conn, "POST", "/api/preview", f"10.0.1.{i}",
                              urlencode({"body": body}), cookie)
                with lock:
                    preview_ms.append((time.perf_counter() - started) * 1000)
                    answers[res.status] += 1

    def prober(out):
        conn = http.client.HTTPConnection(BASE.hostname, BASE.port, timeout=120)
        while not stop.is_set():
            started = time.perf_counter()
            request(conn, "GET", "/healthz", "10.0.2.1")
            out.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)

    idle = []
    t = threading.Thread(target=prober, args=(idle,))
    t.start()
    time.sleep(2)
    stop.set()
    t.join()
    summary("/healthz, idle", idle)

    stop.clear()
    busy = []
    probe = threading.Thread(target=prober, args=(busy,))
    posters = [threading.Thread(target=poster, args=(i,)) for i in range(POSTERS)]
    started = time.monotonic()
    probe.start()
    for p in posters:
        p.start()
    for p in posters:
        p.join()
    stop.set()
    probe.join()
    print(f"  {POSTERS} posters x {len(BODIES)} bodies x {ROUNDS} rounds in "
          f"{time.monotonic() - started:.1f} s; answers {dict(answers)}")
    summary("preview of a worst body (4 at once)", preview_ms)
    summary("/healthz, during the previews", busy)


if __name__ == "__main__":
    main()
