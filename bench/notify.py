#!/usr/bin/env python3
"""Notification costs against a running server (see bench/notify.sh). Prints medians, asserts
nothing.

1. Replies: a staff member replies N times into topic A (10,000 followers, every one told by
   the fan-out worker) and N times into topic B (no followers), alternating A and B so both see
   the same machine. The request itself only leaves one fan-out row; the ratio of the medians
   is the figure (the issue asks for at most 1.5).
2. Pages: a member's topic page with no notifications, then with 2,000 (1,000 unread): what the
   header's unread count adds; and the notifications list itself.

The 10,000 followers and the 2,000 notifications are written straight into the SQLite file
(members cannot be made that fast through forms, and no one would follow like that by hand).

usage: notify.py BASE_URL SQLITE_FILE [N]
"""
import re
import secrets
import sqlite3
import sys
import time

from client import Site, summary

BASE = sys.argv[1].rstrip("/")
DB = sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 100
FOLLOWERS = 10_000

site = Site(BASE)
post, log_in = site.post, site.log_in


def get(path, cookie):
    return site.get(path, cookie)[0]


def new_topic(cookie, title):
    _, location, _ = post("/api/start_topic", {
        "category": "questions", "title": f"{title} {secrets.token_hex(3)}",
        "body": "Where the replies go.", "form_token": secrets.token_hex(32),
    }, cookie, "/new-topic")
    topic_id, slug = re.match(r"/t/(\d+)/([^?#]+)", location).groups()
    return topic_id, f"/t/{topic_id}/{slug}"


def waiting_fan_outs(db):
    return db.execute("SELECT COUNT(*) FROM fan_outs").fetchone()[0]


sam = log_in("sam", "demo-staff-pass")
crowded, crowded_path = new_topic(sam, "Followed by thousands")
quiet, quiet_path = new_topic(sam, "Followed by nobody")

db = sqlite3.connect(DB, timeout=30)
db.execute("PRAGMA busy_timeout = 30000")
now = time.strftime("%Y-%m-%d %H:%M:%S+00:00", time.gmtime())
first = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM users").fetchone()[0]
db.executemany(
    "INSERT INTO users (id, username, username_key, email, email_key, display_name, "
    "password_hash, role, trust_level, created_at, awaiting_approval, session_generation, "
    "email_confirmed_at, follow_on_start, follow_on_reply) "
    "VALUES (?, ?, ?, ?, ?, ?, '!', 'customer', 1, ?, 0, 0, ?, 1, 1)",
    [(first + i, f"follower{i}", f"follower{i}", f"follower{i}@example.com",
      f"follower{i}@example.com", f"Follower {i}", now, now) for i in range(FOLLOWERS)])
db.executemany(
    "INSERT INTO topic_follows (user_id, topic_id, level, created_at) VALUES (?, ?, 'following', ?)",
    [(first + i, int(crowded), now) for i in range(FOLLOWERS)])
# A tenth of them want every reply by e-mail at once.
db.executemany(
    "INSERT INTO mail_preferences (user_id, kind, mode) VALUES (?, 'replies', 'immediately')",
    [(first + i,) for i in range(0, FOLLOWERS, 10)])
db.commit()

busy, calm = [], []
fan_out_ms = []
for i in range(N):
    for topic_id, path, into in ((crowded, crowded_path, busy), (quiet, quiet_path, calm)):
        elapsed, _, _ = post("/api/reply", {"topic_id": topic_id, "body": f"Reply {i}.",
                                            "form_token": secrets.token_hex(32)}, sam, path)
        into.append(elapsed)
    # Let the worker spread the crowded reply before the next pair, timing how long it takes.
    started = time.perf_counter()
    while waiting_fan_outs(db):
        time.sleep(0.005)
    fan_out_ms.append((time.perf_counter() - started) * 1000)

told = db.execute("SELECT COUNT(*), MAX(count) FROM notifications WHERE topic_id = ?",
                  (int(crowded),)).fetchone()
mails = db.execute("SELECT COUNT(*) FROM email_outbox WHERE kind = 'notification'").fetchone()[0]
print(f"Replies, one client, {N} into each topic (staff, form post)")
b = summary(f"topic with {FOLLOWERS:,} followers", busy)
c = summary("topic with no followers", calm)
summary("fan-out finished after the request (polled)", fan_out_ms)
print(f"  ratio of medians: {b / c:.2f} (at most 1.5 asked)")
print(f"  notifications in the crowded topic: {told[0]:,} rows, the largest collapsed count "
      f"{told[1]}; notification e-mails queued: {mails:,}")

# 2. Pages: the same member's topic page without and with notifications.
casey = log_in("casey", "demo-customer-pass")
casey_id = db.execute("SELECT id FROM users WHERE username = 'casey'").fetchone()[0]
db.execute("DELETE FROM notifications WHERE user_id = ?", (casey_id,))
db.commit()
page = quiet_path
for _ in range(20):
    get(page, casey)
without = [get(page, casey) for _ in range(300)]
db.executemany(
    "INSERT INTO notifications (user_id, kind, message, link, created_at, read_at, topic_id, "
    "post_id, count, staff, mail_kind, updated_at) VALUES (?, 'reply', 'Bench', '/', ?, ?, NULL, "
    "NULL, 1, 0, 'replies', ?)",
    [(casey_id, now, None if i % 2 else now, now) for i in range(2000)])
db.commit()
for _ in range(20):
    get(page, casey)
with_notes = [get(page, casey) for _ in range(300)]
listing = [get("/notifications", casey) for _ in range(300)]
print("Pages, one client, signed in (300 requests each)")
a = summary("topic page, no notifications", without)
b = summary("topic page, 2,000 notifications (1,000 unread)", with_notes)
summary("the notifications list (latest 50)", listing)
print(f"  the unread count adds {b - a:+.2f} ms to a page (under 1 ms asked)")
