#!/usr/bin/env python3
"""Wrong-password logins for a real account vs. an account that does not exist, against a
running Backyard. Prints the median and 90th percentile of each and their ratio: a ratio near
1.0 means the response time does not tell whether an account exists.

usage: bench/login_timing.py [BASE_URL] [ROUNDS]   (defaults: http://127.0.0.1:3000 27)
The server must have the demo content (accounts admin, sam, casey) and take the client's address
from the X-Bench-Client header (BACKYARD_CLIENT_IP_HEADER=X-Bench-Client, as bench/run.sh starts
it): each login comes from its own address and each name is tried at most 9 times, so no
failed-login throttle refuses them. Every answer is checked to be the wrong-password one, so a
refusal can never be timed by mistake."""
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 27
ACCOUNTS = ["admin", "sam", "casey"]
sent = 0


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def login(name: str) -> float:
    global sent
    sent += 1
    body = urllib.parse.urlencode({"login": name, "password": "definitely wrong", "next": "/"}).encode()
    req = urllib.request.Request(f"{BASE}/api/log_in", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "text/html",
        "Referer": f"{BASE}/login",  # a refused form goes back here, with its message
        "Sec-Fetch-Site": "same-origin",
        "X-Bench-Client": f"10.9.{sent // 250}.{sent % 250 + 1}",
    })
    start = time.perf_counter()
    try:
        opener.open(req).read()
        status, location = 200, ""
    except urllib.error.HTTPError as e:  # the 302 back to the form, with the message
        e.read()
        status, location = e.code, e.headers.get("Location", "")
    elapsed = (time.perf_counter() - start) * 1000
    if status != 302 or "__err" not in location:
        sys.exit(f"login as {name!r} got {status} {location!r}, not the wrong-password answer")
    return elapsed


def summary(samples):
    s = sorted(samples)
    return statistics.median(s), s[int(len(s) * 0.9) - 1]


def main():
    login("nobody-warmup")  # warm-up: the first unknown-user login computes the dummy hash
    existing, unknown = [], []
    for i in range(ROUNDS):  # interleaved, so machine noise hits both alike
        existing.append(login(ACCOUNTS[i % len(ACCOUNTS)]))
        unknown.append(login(f"nobody-{i}"))
    (em, e90), (um, u90) = summary(existing), summary(unknown)
    print(f"wrong password, account exists : median {em:7.1f} ms  p90 {e90:7.1f} ms  (n={ROUNDS})")
    print(f"wrong password, no such account: median {um:7.1f} ms  p90 {u90:7.1f} ms  (n={ROUNDS})")
    print(f"ratio of medians (unknown / existing): {um / em:.2f}")


if __name__ == "__main__":
    main()
