#!/usr/bin/env python3
"""Ideas and votes against a running release build on the seeded database (see bench/ideas.sh):
list and roadmap timings, votes per second with 32 members voting at once (wrk), and a status
change on an idea with 5,000 voters. Prints medians and rates beside the issue's goals; asserts
nothing.

usage: ideas.py BASE_URL SQLITE_FILE SECONDS
"""
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

from client import Site, summary

BASE, DB, SECONDS = sys.argv[1].rstrip("/"), sys.argv[2], int(sys.argv[3])
HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "bench-password-1"
# bench_seed.rs: members above 4000 cast no seeded votes; the idea every member voted for.
FIRST_FREE_MEMBER, EVERYONES_IDEA = 4001, 4

site = Site(BASE)
db = sqlite3.connect(DB)
ideas = db.execute("SELECT COUNT(*) FROM topics t JOIN categories c ON c.id = t.category_id "
                   "WHERE c.kind = 'ideas'").fetchone()[0]
votes = db.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
slug = db.execute("SELECT slug FROM categories WHERE kind = 'ideas'").fetchone()[0]
print(f"Ideas and votes on SQLite: {ideas} ideas, {votes} votes (release build, {BASE})")

member = site.log_in(f"member{FIRST_FREE_MEMBER + 100}", PASSWORD)
print("\nPages, 200 requests one at a time (goal: under 20 ms median)")
for label, path in [("ideas by votes", f"/c/{slug}?sort=votes"),
                    ("ideas by trending (7 days)", f"/c/{slug}?sort=trending"),
                    ("roadmap", "/roadmap")]:
    for who, cookie in [("member", member), ("visitor", "")]:
        site.get(path, cookie)  # warm
        times = [site.get(path, cookie)[0] for _ in range(200)]
        summary(f"{label}, {who}", times)

print(f"\nCasting votes: wrk, 32 connections as 32 members, {SECONDS} s "
      "(goal: 1,000 a second or more, every vote durable)")
with tempfile.NamedTemporaryFile("w", delete=False) as f:
    for n in range(32):
        f.write(site.log_in(f"member{FIRST_FREE_MEMBER + n}", PASSWORD) + "\n")
    cookies = f.name
# The ideas open for votes (not done, declined, closed, locked or merged), but the one every
# member voted for.
open_ideas = [row[0] for row in db.execute(
    "SELECT t.id FROM topics t JOIN categories c ON c.id = t.category_id WHERE c.kind = 'ideas' "
    "AND t.status NOT IN ('resolved', 'declined', 'closed') AND NOT t.locked "
    "AND t.merged_into_id IS NULL AND t.id <> ?", (EVERYONES_IDEA,))]
with tempfile.NamedTemporaryFile("w", delete=False) as f:
    f.write("\n".join(map(str, open_ideas)) + "\n")
    idea_file = f.name
before = db.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
env = dict(os.environ, VOTE_COOKIES=cookies, VOTE_IDEAS=idea_file)
out = subprocess.run(["wrk", "-t2", "-c32", f"-d{SECONDS}s", "--latency",
                      "-s", os.path.join(HERE, "votes.lua"), BASE],
                     capture_output=True, text=True, env=env, check=True).stdout
os.unlink(cookies)
os.unlink(idea_file)
requests = int(re.search(r"(\d+) requests in", out).group(1))
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
bad = int(bad.group(1)) if bad else 0
latency = {k: v for k, v in re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", out)}
after = db.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
print(f"  {rate:,.0f} votes/s; p50 {latency.get('50')}, p99 {latency.get('99')}; "
      f"{requests - bad:,} answered, {bad} refused; {after - before:,} new votes in the database")

print("\nA status change on an idea with every member's vote (request, then the worker)")
staff = site.log_in("member50", PASSWORD)
voters = db.execute("SELECT COUNT(*) FROM votes WHERE topic_id = ?", (EVERYONES_IDEA,)).fetchone()[0]
# An idea with the fewest voters of those still open.
small = db.execute("SELECT t.id FROM topics t WHERE t.status = 'open' "
                   "AND t.category_id = (SELECT id FROM categories WHERE kind = 'ideas') "
                   "ORDER BY t.vote_count, t.id LIMIT 1").fetchone()[0]
small_voters = db.execute("SELECT COUNT(*) FROM votes WHERE topic_id = ?", (small,)).fetchone()[0]


def set_status(topic, status):
    return site.post("/api/set_topic_status", {"topic_id": topic, "status": status, "note": ""},
                     staff, f"/t/{topic}/x")[0]


def mails():
    return db.execute("SELECT COUNT(*) FROM email_outbox").fetchone()[0]


small_ms = [set_status(small, s) for s in ["acknowledged", "planned", "in_progress"]]
time.sleep(2)
queued_before = mails()
started = time.perf_counter()
big_ms = set_status(EVERYONES_IDEA, "planned")
while True:
    time.sleep(0.05)
    now = mails()
    if now - queued_before >= voters - 2 or time.perf_counter() - started > 120:
        break
took = time.perf_counter() - started
print(f"  the request: {big_ms:.1f} ms with {voters:,} voters, "
      f"{sorted(small_ms)[1]:.1f} ms (median of 3) with {small_voters} voters")
print(f"  the worker queued {mails() - queued_before:,} e-mails in {took:.1f} s")
