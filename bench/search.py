#!/usr/bin/env python3
"""Search, similar-topic, sitemap and reply timings against running servers (see bench/search.sh).

usage:
  search.py reads BASE QUERIES.tsv [REQUESTS]
      search (one-word, three-word, phrase), similar topics and the sitemap, with 1 and 4
      clients; prints median and p99 beside the goals, and how many topics each query found
      beside how many posts and topics the seed wrote that match it (QUERIES.tsv, from
      `backyard bench-queries`).
  search.py replies WITH_BASE WITHOUT_BASE N TOPICS
      N replies into the same seeded topics (of TOPICS) on two servers, alternating one at a time: the
      release build with the search index and the one before it (see search.sh for why this
      comparison); prints both medians and what indexing adds.

Searches are made as a signed-in member: their pages are rendered every time, never served from
the page cache, so each request runs the search. Asserts nothing; a failed request stops the run.
"""
import html
import json
import math
import re
import secrets
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from client import Site

PASSWORD = "bench-password-1"  # every seeded member's (bench_seed.rs)


def pct(ms, p):
    ms = sorted(ms)
    return ms[max(0, math.ceil(len(ms) * p / 100) - 1)]


def row(label, ms, goal_median=None, goal_p99=None):
    median, p99 = statistics.median(ms), pct(ms, 99)
    goal = ""
    if goal_median is not None:
        ok = median < goal_median and (goal_p99 is None or p99 < goal_p99)
        goal = f"goal: median < {goal_median} ms" + (f", p99 < {goal_p99} ms" if goal_p99 else "")
        goal += "  " + ("ok" if ok else "MISSED")
    print(f"  {label:<40} n={len(ms):<5} median {median:7.2f} ms   p99 {p99:7.2f} ms   {goal}")
    return median


def timed_get(base, path, cookie=None, accept="text/html"):
    headers = {"Accept": accept, "Sec-Fetch-Site": "same-origin"}
    if cookie:
        headers["Cookie"] = cookie
    req = urllib.request.Request(base + path, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(req) as res:
        body = res.read()
        status = res.status
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        sys.exit(f"GET {path} answered {status}")
    return elapsed, body.decode()


def found(page):
    """The number of topics the search page says it found (SearchPage.total), and whether it fell
    back to any-word matching."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    text = re.sub(r"\s+", " ", text)
    # "12 topics found" (pages/search.rs, summary); none when nothing matched.
    m = re.search(r"(\d[\d,]*) topics? found", text)
    any_words = "No topic has all of those words" in text
    return (int(m.group(1).replace(",", "")) if m else 0), any_words


def load(n_clients, total, work):
    """Runs `work(i)` (which gives milliseconds) `total` times over n_clients threads."""
    out, lock, next_i = [], threading.Lock(), [0]
    errors = []

    def client():
        while True:
            with lock:
                i = next_i[0]
                if i >= total:
                    return
                next_i[0] += 1
            try:
                ms = work(i)
            except Exception as e:  # noqa: BLE001 - reported after the run
                errors.append(repr(e))
                return
            with lock:
                out.append(ms)

    threads = [threading.Thread(target=client) for _ in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(f"{len(errors)} requests failed, first: {errors[0]}")
    return out


def reads(base, tsv, requests):
    site = Site(base)
    cookie = site.log_in("member1", PASSWORD)
    queries = []
    for line in open(tsv, encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 4:
            queries.append((parts[0], parts[1], int(parts[2]), int(parts[3])))
    groups = {
        "one-word": [q for q in queries if q[0] in ("word", "accent", "cjk")],
        "three-word": [q for q in queries if q[0] == "three"],
        "phrase": [q for q in queries if q[0] == "phrase"],
    }
    similar = [q[1] for q in queries if q[0] == "similar"]

    def exists(method, path):
        req = urllib.request.Request(base + path, method=method, data=b"title=x" if method == "POST" else None,
                                     headers={"Sec-Fetch-Site": "same-origin", "Cookie": cookie,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        try:
            urllib.request.urlopen(req).read()
            return True
        except urllib.error.HTTPError as e:
            if e.code in (404, 405):
                print(f"  {method} {path.split('?')[0]}: {e.code}, not in this build: skipped")
                return False
            raise

    if exists("GET", "/search?q=bench"):
        searches(base, cookie, groups, requests)
    if exists("GET", "/api/similar_topics?title=x"):
        similars(base, cookie, similar, requests)
    if exists("GET", "/sitemap.xml"):
        sitemap(base, requests)


def searches(base, cookie, groups, requests):
    def search_path(q, page=1):
        return "/search?" + urllib.parse.urlencode({"q": q, **({"page": page} if page > 1 else {})})

    totals = {}
    print("Queries: topics the search found / posts and topics the seed wrote that match")
    for name, qs in groups.items():
        for kind, q, posts, topics in qs:
            ms, page = timed_get(base, search_path(q), cookie)
            total, any_words = found(page)
            totals[q] = total
            note = "  (any-word fallback)" if any_words else ""
            print(f"  {name:<10} {q:<44} found {str(total):>6}   seed: {posts:>6} posts {topics:>6} topics{note}")

    print(f"Search, as a signed-in member (rendered every time), {requests} requests per row")
    for clients in (1, 4):
        for name, qs in groups.items():
            texts = [q[1] for q in qs]
            # Page 1 mostly, some deeper pages and the newest-first sort: what people click.
            def work(i, texts=texts):
                q = texts[i % len(texts)]
                variant = i // len(texts) % 5
                deeper = variant == 3 and totals[q] > 20  # page 2 exists
                path = search_path(q, page=2 if deeper else 1)
                if variant == 4:
                    path += "&sort=newest"
                return timed_get(base, path, cookie)[0]
            ms = load(clients, requests, work)
            row(f"{name}, {clients} client{'s' if clients > 1 else ''}", ms, 20, 100)



def similars(base, cookie, similar, requests):
    # A GET, as the composer's island asks (a read: it never counts against the write limit).
    def ask(i):
        path = "/api/similar_topics?" + urllib.parse.urlencode({"title": similar[i % len(similar)]})
        return timed_get(base, path, cookie, accept="application/json")

    print("Similar topics while composing (GET /api/similar_topics)")
    answer = json.loads(ask(0)[1])
    print(f"  \"{similar[0]}\" -> {len(answer)} topics: " + "; ".join(
        t.get("title", "?") for t in answer[:3]))
    for clients in (1, 4):
        ms = load(clients, requests, lambda i: ask(i)[0])
        row(f"similar, {clients} client{'s' if clients > 1 else ''}", ms, 10)



def sitemap(base, requests):
    print("Sitemap (anonymous, as a crawler asks)")
    first, index = timed_get(base, "/sitemap.xml", accept="application/xml")
    pages = re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", index)
    print(f"  /sitemap.xml lists {len(pages)} sitemap pages; first request {first:.2f} ms")
    row("sitemap index", [timed_get(base, "/sitemap.xml", accept="application/xml")[0]
                          for _ in range(min(requests, 100))], 50)
    if pages:
        # A page of topics (up to 50,000 URLs), not the short page of site pages.
        pick = next((p for p in pages if "topics" in p), pages[0])
        path = urllib.parse.urlsplit(html.unescape(pick)).path
        first, page = timed_get(base, path, accept="application/xml")
        print(f"  {path} holds {page.count('<url>')} URLs; first request {first:.2f} ms")
        row("one sitemap page", [timed_get(base, path, accept="application/xml")[0]
                                 for _ in range(min(requests, 100))], 50)


def replies(with_base, without_base, n, topics):
    sites = {"with": Site(with_base), "without": Site(without_base)}
    # member50: staff (every 50th member), so no new-member limit applies.
    cookies = {k: s.log_in("member50", PASSWORD) for k, s in sites.items()}
    ms = {"with": [], "without": []}
    rng = 12345
    for i in range(n):
        rng = (rng * 6364136223846793005 + 1442695040888963407) % 2**64
        topic = 2 + (rng >> 33) % (topics - 1)  # seeded topics, not the bench topic (1)
        body = (f"Thanks for the report {i}. We could reproduce the export problem on Firefox "
                f"and a fix ships next week; clearing the cache works around it for now.")
        # Alternate which server goes first, so neither always follows the other's write.
        order = ["with", "without"] if i % 2 == 0 else ["without", "with"]
        for k in order:
            elapsed, _, _ = sites[k].post("/api/reply", {
                "topic_id": topic, "body": body, "form_token": secrets.token_hex(32),
            }, cookies[k], f"/t/{topic}/x")
            ms[k].append(elapsed)
    print(f"Replies into seeded topics, one at a time, alternating between the two servers")
    with_median = row("reply, with the search index", ms["with"])
    without_median = row("reply, without (build before search)", ms["without"])
    added = 100 * (with_median - without_median) / without_median
    print(f"  indexing adds {added:+.1f}% to a reply's median   goal: < 20%  "
          + ("ok" if added < 20 else "MISSED"))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "reads":
        reads(sys.argv[2].rstrip("/"), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 200)
    elif mode == "replies":
        replies(sys.argv[2].rstrip("/"), sys.argv[3].rstrip("/"), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)
