#!/usr/bin/env python3
"""Wrong-password logins for a real account vs. an account that does not exist, against a
running Backyard. Prints the median and 90th percentile of each and their ratio: a ratio near
1.0 means the response time does not tell whether an account exists.

usage: bench/login_timing.py [BASE_URL] [ROUNDS]   (defaults: http://127.0.0.1:3000 40)
The server must have the demo content (account "casey")."""
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 40


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def login(name: str) -> float:
    body = urllib.parse.urlencode({"login": name, "password": "definitely wrong", "next": "/"}).encode()
    req = urllib.request.Request(f"{BASE}/api/log_in", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "text/html",
        "Referer": f"{BASE}/login",
    })
    start = time.perf_counter()
    try:
        opener.open(req).read()
    except urllib.error.HTTPError as e:  # the 302 back to the form
        e.read()
    return (time.perf_counter() - start) * 1000


def summary(samples):
    s = sorted(samples)
    return statistics.median(s), s[int(len(s) * 0.9) - 1]


def main():
    login("casey")  # warm-up: the first unknown-user login also computes the dummy hash
    login("nobody-warmup")
    existing, unknown = [], []
    for i in range(ROUNDS):  # interleaved, so machine noise hits both alike
        existing.append(login("casey"))
        unknown.append(login(f"nobody-{i}"))
    (em, e90), (um, u90) = summary(existing), summary(unknown)
    print(f"wrong password, account exists : median {em:7.1f} ms  p90 {e90:7.1f} ms  (n={ROUNDS})")
    print(f"wrong password, no such account: median {um:7.1f} ms  p90 {u90:7.1f} ms  (n={ROUNDS})")
    print(f"ratio of medians (unknown / existing): {um / em:.2f}")


if __name__ == "__main__":
    main()
