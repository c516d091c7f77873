#!/usr/bin/env python3
"""Memory under log-in floods (see bench/memory.sh): the server's resident memory (VmRSS,
sampled every 50 ms from /proc/PID/status) before, at its peak during, and 30 s after
1. 128 right-password log-ins, 32 at a time, and
2. 512 wrong-password log-ins for names that do not exist, 64 at a time,
each log-in from its own address (X-Bench-Client), so no throttle turns them away before the
password is hashed. Also prints VmHWM (the peak since the server started) and the answers
(503: refused by the hashing queue). Prints figures; asserts nothing.

usage: memory.py BASE_URL SERVER_PID
"""
import http.client
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlparse

BASE = urlparse(sys.argv[1])
PID = sys.argv[2]
SETTLE_SECONDS = 30


def status_kb(field):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def mb(kb):
    return f"{kb / 1024:6.1f} MB"


class Sampler:
    def __init__(self):
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, status_kb("VmRSS"))
            time.sleep(0.05)

    def finish(self):
        self.stop.set()
        self.thread.join()
        return self.peak


def log_in(n, login, password):
    conn = http.client.HTTPConnection(BASE.hostname, BASE.port, timeout=120)
    conn.request("POST", "/api/log_in", body=urlencode({"login": login, "password": password}),
                 headers={"Content-Type": "application/x-www-form-urlencoded",
                          "Accept": "application/json", "Sec-Fetch-Site": "same-origin",
                          "X-Bench-Client": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"})
    res = conn.getresponse()
    res.read()
    conn.close()
    return res.status


def flood(label, total, at_once, login_of, password, first):
    before = status_kb("VmRSS")
    sampler = Sampler()
    started = time.monotonic()
    with ThreadPoolExecutor(at_once) as pool:
        answers = Counter(pool.map(lambda n: log_in(n, login_of(n), password),
                                   range(first, first + total)))
    elapsed = time.monotonic() - started
    time.sleep(0.5)
    peak = sampler.finish()
    print(f"{label}: {total} log-ins, {at_once} at a time, in {elapsed:.1f} s; "
          f"answers {dict(answers)}")
    print(f"  RSS before {mb(before)}   peak {mb(peak)}   VmHWM {mb(status_kb('VmHWM'))}")
    time.sleep(SETTLE_SECONDS)
    print(f"  RSS {SETTLE_SECONDS} s after {mb(status_kb('VmRSS'))}")


def main():
    time.sleep(2)
    print(f"idle: RSS {mb(status_kb('VmRSS'))}   VmHWM {mb(status_kb('VmHWM'))}")
    flood("right passwords", 128, 32, lambda n: "casey", "demo-customer-pass", 1)
    flood("wrong passwords", 512, 64, lambda n: f"nobody{n}", "wrong-password", 1000)


if __name__ == "__main__":
    main()
