#!/usr/bin/env python3
"""Several app servers on one PostgreSQL behind nginx (issue 20.1).

Starts two `backyard serve` processes on one fresh PostgreSQL database, on their own ports, and
nginx (from Debian; installed when missing) in front with docs/nginx-example.conf, then checks:

1. sessions: a member logged in through nginx is logged in on each server, asked directly;
2. page cache: a reply posted through one server is on the other's cached visitor page as soon
   as the reply was answered (the page is primed first, and a change made in the database
   behind the servers' backs shows that it was cached), twenty times in a row;
3. write budget: writes from one client address, sent alternately to both servers, get one
   budget (BACKYARD_IP_WRITES_PER_MINUTE), not one per server; nginx's header is the address;
4. outbox: N e-mails queued, both servers' workers running, a local SMTP server receives each
   exactly once;
5. kill -9 one server while writers post through nginx: every acknowledged reply is in the
   database, and nginx keeps answering from the other server.

usage: cluster_test.py BINARY
"""
import glob
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

os.environ["PGOPTIONS"] = "--client-min-messages=warning"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.abspath(sys.argv[1])
PASSWORD = "cluster-test-passphrase"
WRITES_PER_MINUTE = 10
MAILS = 40
WRITERS = 6
TOPIC_ID = 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_root(*cmd):
    return list(cmd) if os.geteuid() == 0 else ["sudo", *cmd]


def ensure_nginx():
    if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"):
        return shutil.which("nginx") or "/usr/sbin/nginx"
    print("cluster test: installing nginx-light from Debian", flush=True)
    subprocess.run(as_root("apt-get", "update", "-qq"), check=True)
    subprocess.run(as_root("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y",
                           "-qq", "nginx-light"), check=True, stdout=subprocess.DEVNULL)
    return shutil.which("nginx") or "/usr/sbin/nginx"


NGINX = ensure_nginx()
work = tempfile.mkdtemp(prefix="backyard-cluster-")
PORT_A, PORT_B, PORT = free_port(), free_port(), free_port()
PUBLIC = f"http://127.0.0.1:{PORT}"
pg_name = f"backyard_cluster_{os.getpid()}"


def psql(sql, db=pg_name):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v",
                          "ON_ERROR_STOP=1", "-tAc", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]


psql(f"DROP DATABASE IF EXISTS {pg_name}", db="postgres")
psql(f"CREATE DATABASE {pg_name}", db="postgres")

# The test SMTP server (aiosmtpd in target/mail-venv, from scripts/lib.sh ensure_mail_venv).
mail_dir = os.path.join(work, "mail")
mail_python = os.path.join(ROOT, "target", "mail-venv", "bin", "python")
smtp = subprocess.Popen([mail_python, os.path.join(ROOT, "scripts", "smtp_test_server.py"),
                         "--dir", mail_dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        text=True)
smtp_port = int(smtp.stdout.readline().split()[1])

ENV = dict(
    os.environ,
    DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{pg_name}",
    BACKYARD_PUBLIC_URL=PUBLIC,
    BACKYARD_CLIENT_IP_HEADER="X-Forwarded-For",
    BACKYARD_LOG="error",
    BACKYARD_IP_WRITES_PER_MINUTE=str(WRITES_PER_MINUTE),
    BACKYARD_IP_CONCURRENCY="0",
    BACKYARD_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
    BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST="1",
    BACKYARD_MAIL_FROM="Cluster test <forum@example.com>",
)


def cli(*args, env=None):
    subprocess.run([BINARY, *args], env=env or ENV, check=True, stdout=subprocess.DEVNULL)


def get_status(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    c.request("GET", path)
    return c.getresponse().status


def start(port):
    proc = subprocess.Popen([BINARY, "serve"], env=dict(ENV, BACKYARD_ADDR=f"127.0.0.1:{port}"),
                            stdout=subprocess.DEVNULL)
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"the server on {port} exited with {proc.returncode} while starting")
        try:
            if get_status(port, "/healthz") == 200:
                return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server on {port} did not start")


# Client addresses: nginx passes the connecting address on, so each simulated visitor connects
# from its own loopback address (Linux routes all of 127/8 to lo). Writers then spend their own
# budgets, as real visitors do, and the budget check below has one address to itself.
next_address = [0]
address_lock = threading.Lock()


def fresh_address():
    with address_lock:
        next_address[0] += 1
        n = next_address[0]
    return f"127.1.{n // 250}.{n % 250 + 2}"


def request(port, method, path, fields=None, cookie=None, source=None, headers=None):
    body = "&".join(f"{k}={v}" for k, v in (fields or {}).items()) if fields is not None else None
    sent = {"Accept": "text/html"}
    if method == "POST":
        sent.update({
            "Content-Type": "application/x-www-form-urlencoded",
            "Sec-Fetch-Site": "same-origin",
            "Origin": PUBLIC,
            "Referer": f"{PUBLIC}/t/{TOPIC_ID}",
        })
    if cookie:
        sent["Cookie"] = cookie
    sent.update(headers or {})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                   source_address=(source or fresh_address(), 0))
    c.request(method, path, body=body, headers=sent)
    res = c.getresponse()
    res.body = res.read().decode("utf-8", "replace")
    return res


def log_in(port, name):
    res = request(port, "POST", "/api/log_in", {"login": name, "password": PASSWORD, "next": "/"})
    if res.status not in (302, 303):
        raise SystemExit(f"log-in as {name} through {port}: {res.status} {res.body[:200]}")
    return res.getheader("Set-Cookie").split(";")[0]


def signed_in_as(port, cookie):
    body = request(port, "GET", "/", cookie=cookie).body
    marker = "Signed in as <strong>"
    return body[body.index(marker) + len(marker):].split("<")[0] if marker in body else None


def post_reply(port, cookie, text):
    res = request(port, "POST", "/api/reply", {"topic_id": TOPIC_ID, "body": text,
                                                "form_token": secrets.token_hex(32)}, cookie)
    location = res.getheader("Location") or ""
    return res.status in (302, 303) and "/t/" in location and "__err" not in location


failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"  FAILED: {what}", flush=True)


# Setup: demo content (topic 1) and admins to write with (posting limits spare staff; the
# per-address write budget does not).
cli("migrate")
cli("seed-demo")
for i in range(WRITERS):
    cli("create-admin", "--username", f"cluster{i}", "--email", f"cluster{i}@example.com",
        env=dict(ENV, BACKYARD_ADMIN_PASSWORD=PASSWORD))
servers = {}
nginx = None
try:
    servers[PORT_A] = start(PORT_A)
    servers[PORT_B] = start(PORT_B)

    runtime = f"pid {work}/nginx.pid;\nerror_log {work}/nginx-error.log;\n"
    if os.geteuid() == 0:
        runtime += "user root;\n"  # the workers write temp files under the test's directory
    http_runtime = (f"access_log off;\n    client_body_temp_path {work}/body;\n"
                    f"    proxy_temp_path {work}/proxy;\n    fastcgi_temp_path {work}/fastcgi;\n"
                    f"    uwsgi_temp_path {work}/uwsgi;\n    scgi_temp_path {work}/scgi;")
    with open(os.path.join(ROOT, "docs", "nginx-example.conf")) as f:
        conf = (f.read().replace("# @RUNTIME@", runtime).replace("# @HTTP_RUNTIME@", http_runtime)
                .replace("@PORT_A@", str(PORT_A)).replace("@PORT_B@", str(PORT_B))
                .replace("@PORT@", str(PORT)))
    conf_path = os.path.join(work, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    nginx = subprocess.Popen([NGINX, "-c", conf_path, "-p", work, "-e", f"{work}/nginx-error.log",
                              "-g", "daemon off;"])
    for _ in range(100):
        try:
            if get_status(PORT, "/healthz") == 200:
                break
        except OSError:
            time.sleep(0.05)
    else:
        raise SystemExit("nginx did not start")

    # 1. Sessions are in the database: one log-in holds on both servers.
    cookie = log_in(PORT, "cluster0")
    check(signed_in_as(PORT_A, cookie) == "cluster0", "the session holds on the first server")
    check(signed_in_as(PORT_B, cookie) == "cluster0", "the session holds on the second server")

    # 2. A reply through one server is on the other's cached visitor page at once.
    topic_path = f"/t/{TOPIC_ID}"
    page = request(PORT_B, "GET", topic_path)
    if page.status in (301, 302, 308):
        topic_path = page.getheader("Location").replace(PUBLIC, "")
    request(PORT_B, "GET", topic_path)
    psql(f"UPDATE topics SET title = 'Renamed behind the cache' WHERE id = {TOPIC_ID}")
    cached = request(PORT_B, "GET", topic_path).body
    check("Renamed behind the cache" not in cached,
          "the second server serves its visitors' page from its cache")
    seen_at_once = 0
    for n in range(20):
        writer, reader = (PORT_A, PORT_B) if n % 2 == 0 else (PORT_B, PORT_A)
        request(reader, "GET", topic_path)  # primed
        text = f"cluster-reply-{n}-{secrets.token_hex(4)}"
        if not post_reply(writer, cookie, text):
            check(False, f"reply {n} through {writer} was answered")
            continue
        body = request(reader, "GET", topic_path).body
        seen_at_once += text in body and "Renamed behind the cache" in body
    check(seen_at_once == 20, f"replies seen at once on the other server: {seen_at_once} of 20")

    # 3. One write budget per client address across both servers. Sent to the servers
    # directly, naming the client in the header nginx would set, and alternating.
    statuses = []
    for n in range(WRITES_PER_MINUTE + 6):
        res = request([PORT_A, PORT_B][n % 2], "POST", "/no/such/place", {"x": n},
                      headers={"X-Forwarded-For": "10.20.30.40"})
        statuses.append(res.status)
    through = sum(1 for s in statuses if s != 429)
    check(through == WRITES_PER_MINUTE,
          f"{through} of {len(statuses)} writes from one address got through both servers "
          f"(budget {WRITES_PER_MINUTE}): {statuses}")
    # Through nginx: its header is the address (another client is not held back).
    one = "127.2.0.9"
    via_nginx = [request(PORT, "POST", "/no/such/place", {"x": n}, source=one).status
                 for n in range(WRITES_PER_MINUTE + 2)]
    check(via_nginx.count(429) == 2, f"one address through nginx: {via_nginx}")
    check(request(PORT, "POST", "/no/such/place", {"x": 1}, source="127.2.0.10").status == 404,
          "another address through nginx has its own budget")

    # 4. The outbox is sent once with both servers' workers running.
    marker = secrets.token_hex(4)
    values = ", ".join(
        f"('mail{k}@example.com', 'Cluster {marker} #{k}', 'Once only.', now(), 'notice', "
        f"'queued', 0, now())" for k in range(MAILS))
    psql("INSERT INTO email_outbox (to_address, subject, body, created_at, kind, status, "
         f"attempts, next_attempt_at) VALUES {values}")
    deadline = time.time() + 60
    while time.time() < deadline:
        left = psql(f"SELECT count(*) FROM email_outbox WHERE subject LIKE 'Cluster {marker}%' "
                    "AND status <> 'sent'")
        if left == ["0"]:
            break
        time.sleep(0.2)
    time.sleep(1.0)  # anything sent twice would arrive now
    received = {}
    for path in glob.glob(os.path.join(mail_dir, "*.json")):
        with open(path) as f:
            subject = json.load(f)["subject"]
        if marker in subject:
            received[subject] = received.get(subject, 0) + 1
    twice = [s for s, n in received.items() if n > 1]
    check(len(received) == MAILS and not twice,
          f"e-mails received: {len(received)} of {MAILS}, {len(twice)} more than once")

    # 5. kill -9 one server while writers post through nginx.
    acknowledged, sent = [], [0]
    after_kill = [0, 0]  # answered, failed
    lock = threading.Lock()
    stop = threading.Event()
    killed = threading.Event()

    members = [log_in(PORT, f"cluster{i}") for i in range(WRITERS)]

    def writer(i):
        member = members[i]
        n = 0
        while not stop.is_set():
            n += 1
            text = f"cluster-kill-{i}-{n}-{secrets.token_hex(4)}"
            try:
                with lock:
                    sent[0] += 1
                ok = post_reply(PORT, member, text)
            except (OSError, http.client.HTTPException):
                ok = False
            with lock:
                if ok:
                    acknowledged.append(text)
                if killed.is_set():
                    after_kill[0 if ok else 1] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    servers[PORT_A].send_signal(signal.SIGKILL)
    servers[PORT_A].wait()
    killed.set()
    time.sleep(2.5)
    stop.set()
    for t in threads:
        t.join()
    reads = [request(PORT, "GET", "/").status for _ in range(10)]
    stored = {}
    for source in psql("SELECT source FROM posts WHERE source LIKE 'cluster-kill-%'"):
        stored[source] = stored.get(source, 0) + 1
    missing = [t for t in acknowledged if t not in stored]
    check(not missing, f"{len(missing)} acknowledged replies missing after kill -9, "
                       f"e.g. {missing[:3]}")
    check(all(n == 1 for n in stored.values()), "no reply stored twice")
    check(after_kill[0] >= 10, f"writes answered after the kill: {after_kill[0]} "
                               f"({after_kill[1]} failed)")
    check(reads == [200] * 10, f"nginx serves from the other server: {reads}")
    check(len(acknowledged) >= 30, f"only {len(acknowledged)} replies answered: too little")

    print(f"cluster test (2 servers on PostgreSQL behind nginx): sessions shared; "
          f"{seen_at_once}/20 replies on the other server's cached page at once; "
          f"{through} of {len(statuses)} alternating writes within a budget of "
          f"{WRITES_PER_MINUTE}; {len(received)} of {MAILS} e-mails received, {len(twice)} twice; "
          f"kill -9 under {WRITERS} writers: {sent[0]} sent, {len(acknowledged)} answered, "
          f"{len(missing)} answered-but-missing, {after_kill[0]} answered after the kill "
          f"({after_kill[1]} failed)")
finally:
    if nginx is not None:
        nginx.send_signal(signal.SIGTERM)
        nginx.wait(timeout=10)
    for proc in servers.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    smtp.stdin.close()
    smtp.wait(timeout=10)
    psql(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)", db="postgres")
    shutil.rmtree(work, ignore_errors=True)

if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
