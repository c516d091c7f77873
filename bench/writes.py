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
import sys

from client import Site, summary

BASE = sys.argv[1].rstrip("/")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200

site = Site(BASE)
post, log_in = site.post, site.log_in


def get(path, cookie):
    return site.get(path, cookie)[1]


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
