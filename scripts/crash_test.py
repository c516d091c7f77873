#!/usr/bin/env python3
"""Crash safety: every answered write survives SIGKILL.

Starts the release server on a fresh database, has 8 concurrent clients post replies and vote
for ideas (on SQLite votes cast at the same moment are written in one transaction), kills the
server with SIGKILL mid-stream several times and restarts it, then checks that every reply and
vote that got a success answer is stored exactly once, that every idea's stored counts equal
its votes, and that the database is not corrupt (SQLite: PRAGMA integrity_check; PostgreSQL:
amcheck on every index when available).

usage: crash_test.py BINARY sqlite|postgres [--kills N]
"""
import http.client
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

os.environ["PGOPTIONS"] = "--client-min-messages=warning"  # no NOTICEs from psql

BINARY = os.path.abspath(sys.argv[1])
BACKEND = sys.argv[2]
KILLS = int(sys.argv[sys.argv.index("--kills") + 1]) if "--kills" in sys.argv else 5
CLIENTS = 8


def free_port():
    """A port nothing listens on now (another service on a fixed or guessed port, such as a
    database on 3306, would answer the health check instead of the server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = free_port()
PASSWORD = "crash-test-passphrase"
TOPIC_ID = 1

work = tempfile.mkdtemp(prefix="backyard-crash-")
if BACKEND == "sqlite":
    db_file = os.path.join(work, "crash.db")
    DATABASE_URL = f"sqlite://{db_file}?mode=rwc"
else:
    pg_name = f"backyard_crash_{os.getpid()}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {pg_name}"], check=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {pg_name}"], check=True)
    DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{pg_name}"

ENV = dict(
    os.environ,
    DATABASE_URL=DATABASE_URL,
    BACKYARD_ADDR=f"127.0.0.1:{PORT}",
    BACKYARD_LOG="error",
    BACKYARD_IP_WRITES_PER_MINUTE="0",
    BACKYARD_IP_CONCURRENCY="0",
)


def cli(*args, env=None):
    subprocess.run([BINARY, *args], env=env or ENV, check=True, stdout=subprocess.DEVNULL)


def start():
    proc = subprocess.Popen([BINARY, "serve"], env=ENV, stdout=subprocess.DEVNULL)
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} while starting")
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def post(path, fields, cookie=None):
    body = "&".join(f"{k}={v}" for k, v in fields.items())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "text/html",
        "Sec-Fetch-Site": "same-origin",
        "Referer": f"http://127.0.0.1:{PORT}/t/{TOPIC_ID}",
    }
    if cookie:
        headers["Cookie"] = cookie
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("POST", path, body=body, headers=headers)
    res = c.getresponse()
    res.read()
    return res


# Setup: demo content (topic 1) and one account per client. Admins: the posting rate limits
# (which would hold 8 fast clients back) do not apply to staff.
cli("seed-demo")
for i in range(CLIENTS):
    cli("create-admin", "--username", f"crash{i}", "--email", f"crash{i}@example.com",
        env=dict(ENV, BACKYARD_ADMIN_PASSWORD=PASSWORD))

acknowledged = []  # reply texts that got a success answer
voted = []  # (username, idea id) of votes that got a success answer
lock = threading.Lock()
stop = threading.Event()
attempts = [0]
vote_attempts = [0]
IDEAS = 120


def log_in(name):
    res = post("/api/log_in", {"login": name, "password": PASSWORD, "next": "/"})
    return res.getheader("Set-Cookie").split(";")[0] if res.status == 302 else None


def client(i, ideas):
    cookie = None
    n = 0
    # Each client votes for the ideas in its own order, once each.
    ideas = ideas[i * 15:] + ideas[:i * 15]
    while not stop.is_set():
        try:
            if cookie is None:
                cookie = log_in(f"crash{i}")
                if cookie is None:
                    time.sleep(0.05)
                    continue
            if ideas:
                idea = ideas.pop(0)
                with lock:
                    vote_attempts[0] += 1
                res = post("/api/vote", {"topic_id": idea, "vote": "up"}, cookie)
                if res.status == 302 and "__err" not in (res.getheader("Location") or ""):
                    with lock:
                        voted.append((f"crash{i}", idea))
            n += 1
            text = f"crash-{i}-{n}-{secrets.token_hex(4)}"
            with lock:
                attempts[0] += 1
            res = post("/api/reply", {"topic_id": TOPIC_ID, "body": text,
                                      "form_token": secrets.token_hex(32)}, cookie)
            location = res.getheader("Location") or ""
            if res.status == 302 and "/t/" in location and "__err" not in location:
                with lock:
                    acknowledged.append(text)
        except (OSError, http.client.HTTPException):
            time.sleep(0.02)  # the server is down: try again once it is back


server = start()
# Ideas to vote for, in the demo's ideas category.
setup = log_in("crash0")
idea_ids = []
for k in range(IDEAS):
    res = post("/api/start_topic", {"category": "product-feedback", "title": f"Crash idea {k}",
                                    "body": "Votes survive.", "form_token": secrets.token_hex(32)},
               setup)
    location = res.getheader("Location") or ""
    if res.status != 302 or not location.startswith("/t/"):
        raise SystemExit(f"could not start an idea: {res.status} {location}")
    idea_ids.append(int(location.split("/")[2]))
threads = [threading.Thread(target=client, args=(i, list(idea_ids))) for i in range(CLIENTS)]
for t in threads:
    t.start()
for k in range(KILLS):
    # Long enough for the unoptimised test build to answer a hundred replies or more between
    # the kills on PostgreSQL (about 20 a second there, with each restart's connections).
    time.sleep(random.uniform(1.5, 2.5))
    server.send_signal(signal.SIGKILL)
    server.wait()
    server = start()
time.sleep(1.0)
stop.set()
for t in threads:
    t.join()
server.send_signal(signal.SIGTERM)
server.wait(timeout=15)

# Checks.
failures = []
if BACKEND == "sqlite":
    import sqlite3

    db = sqlite3.connect(db_file)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        failures.append(f"integrity_check: {integrity}")
    stored = {}
    for (source,) in db.execute("SELECT source FROM posts WHERE source LIKE 'crash-%'"):
        stored[source] = stored.get(source, 0) + 1
    integrity_note = f"PRAGMA integrity_check: {integrity}"

    def query(sql):
        return [tuple(str(c) for c in row) for row in db.execute(sql)]
else:
    def psql(sql):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", pg_name, "-tAc", sql],
                             check=True, capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line]

    stored = {}
    for source in psql("SELECT source FROM posts WHERE source LIKE 'crash-%'"):
        stored[source] = stored.get(source, 0) + 1
    try:
        psql("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = psql("SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' "
                       "AND c.relnamespace = 'public'::regnamespace")
        for oid in indexes:
            psql(f"SELECT bt_index_check({oid}, true)")
        integrity_note = f"amcheck: {len(indexes)} indexes ok"
    except subprocess.CalledProcessError as e:
        integrity_note = f"amcheck unavailable ({e.stderr.strip()[:80]})"

    def query(sql):
        return [tuple(line.split("|")) for line in psql(sql)]

votes_stored = {}
for name, topic in query("SELECT u.username, v.topic_id FROM votes v JOIN users u ON u.id = v.user_id "
                         "WHERE u.username LIKE 'crash%'"):
    votes_stored[(name, int(topic))] = votes_stored.get((name, int(topic)), 0) + 1
votes_missing = [v for v in voted if votes_stored.get(v, 0) == 0]
# A vote counted twice cannot be stored twice (one row per member and idea): the counts are
# what could drift.
drifted = query("SELECT t.id FROM topics t WHERE t.vote_count <> (SELECT COUNT(*) FROM votes v "
                "WHERE v.topic_id = t.id AND v.state = 'counted') OR t.pending_vote_count <> "
                "(SELECT COUNT(*) FROM votes v WHERE v.topic_id = t.id AND v.state = 'pending')")
if votes_missing:
    failures.append(f"{len(votes_missing)} answered votes missing, e.g. {votes_missing[:3]}")
if drifted:
    failures.append(f"{len(drifted)} ideas' counts differ from their votes, e.g. {drifted[:3]}")
if len(voted) < 50:
    failures.append(f"only {len(voted)} votes were answered: the test did too little")

missing = [t for t in acknowledged if stored.get(t, 0) == 0]
doubled = [t for t, n in stored.items() if n > 1]
if missing:
    failures.append(f"{len(missing)} answered replies missing, e.g. {missing[:3]}")
if doubled:
    failures.append(f"{len(doubled)} replies stored twice, e.g. {doubled[:3]}")
if len(acknowledged) < 50:
    failures.append(f"only {len(acknowledged)} replies were answered: the test did too little")

print(f"crash test ({BACKEND}): {KILLS} SIGKILLs, {CLIENTS} clients, {attempts[0]} replies sent, "
      f"{len(acknowledged)} answered, {len(stored)} stored, {len(missing)} answered-but-missing, "
      f"{len(doubled)} doubled; {vote_attempts[0]} votes sent, {len(voted)} answered, "
      f"{len(votes_stored)} stored, {len(votes_missing)} answered-but-missing, "
      f"{len(drifted)} ideas with drifted counts; {integrity_note}")
if BACKEND != "sqlite":
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {pg_name}"])
if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
