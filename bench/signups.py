"""Signs up COUNT new members one at a time, as a browser without JavaScript does (the sign-up
page for its form token and cookie, then the form post), and reads from /metrics how long
SQLite's one writer was held meanwhile: every reply and every other write waits while a
sign-up holds it. Prints the median and p90 of a sign-up and the writer's time per sign-up.
usage: signups.py BASE METRICS_URL COUNT"""
import re
import secrets
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

base, metrics_url, count = sys.argv[1], sys.argv[2], int(sys.argv[3])


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def writer_busy():
    body = urllib.request.urlopen(metrics_url).read().decode()
    m = re.search(r"^backyard_db_writer_busy_seconds_total (\S+)$", body, re.M)
    return float(m.group(1))


def sign_up(n):
    page = urllib.request.urlopen(base + "/signup")
    cookie = "; ".join(c.split(";")[0] for c in page.headers.get_all("Set-Cookie") or [])
    html = page.read().decode()
    token = re.search(r'name="form_token" value="([0-9a-f]{64})"', html).group(1)
    # Letters only, none that another folds into (digits read as letters, "rn" as "m"): no
    # two names look alike.
    name = "".join(secrets.choice("cdfhjkpqxyz") for _ in range(14))
    fields = {"username": name, "email": f"{name}@example.com",
              "password": secrets.token_urlsafe(18), "form_token": token, "next": "/"}
    req = urllib.request.Request(base + "/api/sign_up", method="POST",
                                 data=urllib.parse.urlencode(fields).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded",
                                          "Accept": "text/html", "Cookie": cookie,
                                          "Referer": base + "/signup",
                                          "Sec-Fetch-Site": "same-origin"})
    started = time.perf_counter()
    try:
        opener.open(req).read()
        sys.exit("sign-up answered without a redirect")
    except urllib.error.HTTPError as e:
        e.read()
        location = e.headers.get("Location", "")
        if e.code != 302 or "__err" in location:
            sys.exit(f"sign-up {name} refused: {e.code} {urllib.parse.unquote(location)}")
    return (time.perf_counter() - started) * 1000


sign_up(0)  # warm-up
ms = []
busy_before = writer_busy()
for n in range(1, count + 1):
    ms.append(sign_up(n))
held = (writer_busy() - busy_before) * 1000 / count
ms.sort()
print(f"{count} sign-ups: median {statistics.median(ms):.1f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms, "
      f"writer held {held:.2f} ms a sign-up")
