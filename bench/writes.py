#!/usr/bin/env python3
"""Write timings against a running server (see bench/writes.sh): what every post write and
moderator action now costs, the post lifecycle recomputing its topic's and category's figures
in the same transaction. One client, one request at a time; prints medians, asserts nothing.

1. replies: a staff member (no rate limit) posts N replies into one new topic, so the topic's
   figures are recomputed over ever more posts.
2. moderation: an admin hides and restores replies of that topic, N of each.

usage: writes.py BASE_URL [N]
"""
import re
import secrets
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def post(path, fields, cookie=None, referer="/"):
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "text/html",
        "Referer": BASE + referer,
        "Sec-Fetch-Site": "same-origin",
    }
    if cookie:
        headers["Cookie"] = cookie
    req = urllib.request.Request(BASE + path, data=urllib.parse.urlencode(fields).encode(),
                                 method="POST", headers=headers)
    started = time.perf_counter()
    try:
        res = opener.open(req)
        res.read()
        status, headers = res.status, res.headers
    except urllib.error.HTTPError as e:  # the 302 of a form post
        e.read()
        status, headers = e.code, e.headers
    elapsed = (time.perf_counter() - started) * 1000
    location = headers.get("Location", "")
    if status >= 400 or "__err" in location:
        sys.exit(f"{path} got {status} {location!r}")
    return elapsed, location, headers


def log_in(name, password):
    _, _, headers = post("/api/log_in", {"login": name, "password": password, "next": "/"},
                         referer="/login")
    cookies = [c.split(";")[0] for c in headers.get_all("Set-Cookie") or []]
    return "; ".join(cookies)


def get(path, cookie):
    req = urllib.request.Request(BASE + path, headers={"Cookie": cookie})
    return urllib.request.urlopen(req).read().decode()


def summary(label, ms):
    ms = sorted(ms)
    p90 = ms[int(len(ms) * 0.9) - 1]
    print(f"  {label:<40} n={len(ms):<4} median {statistics.median(ms):6.2f} ms   "
          f"p90 {p90:6.2f} ms")


sam = log_in("sam", "demo-staff-pass")
admin = log_in("admin", "demo-admin-pass")
_, location, _ = post("/api/start_topic", {
    "category": "questions", "title": f"Write bench {secrets.token_hex(4)}",
    "body": "Where the replies go.", "form_token": secrets.token_hex(32),
}, sam, "/new-topic")
topic_id, slug = re.match(r"/t/(\d+)/([^?#]+)", location).groups()
path = f"/t/{topic_id}/{slug}"

replies = []
for i in range(N):
    elapsed, _, _ = post("/api/reply", {"topic_id": topic_id, "body": f"Bench reply {i}.",
                                        "form_token": secrets.token_hex(32)}, sam, path)
    replies.append(elapsed)

ids = []
page = 1
while len(ids) < N:
    found = re.findall(r'data-quote="(\d+)"', get(f"{path}?page={page}", admin))
    if not found:
        break
    ids += found
    page += 1
ids = ids[1:N + 1]  # not the opening post

hides, restores = [], []
for post_id in ids:
    hides.append(post("/api/moderate_post", {"post_id": post_id, "action": "hide",
                                             "reason": "Bench"}, admin, path)[0])
    restores.append(post("/api/moderate_post", {"post_id": post_id, "action": "restore",
                                                "reason": ""}, admin, path)[0])

print(f"Writes, one client, into one topic that grows to {N + 1} posts")
summary("reply (staff, form post)", replies)
summary("first half of the replies", replies[: N // 2])
summary("second half of the replies", replies[N // 2:])
summary("hide a reply (admin)", hides)
summary("restore it", restores)
