"""What the write benchmarks share: form posts to a running Backyard as a browser sends them
(same-origin, no redirects followed, a failure stops the run), signing in, timed page reads and
the one summary line. Import it from a script in bench/ started with the site's address."""
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Site:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(NoRedirect)

    def post(self, path, fields, cookie=None, referer="/"):
        """Posts a form; gives (milliseconds, Location, headers)."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "text/html",
            "Referer": self.base + referer,
            "Sec-Fetch-Site": "same-origin",
        }
        if cookie:
            headers["Cookie"] = cookie
        req = urllib.request.Request(self.base + path,
                                     data=urllib.parse.urlencode(fields).encode(),
                                     method="POST", headers=headers)
        started = time.perf_counter()
        try:
            res = self.opener.open(req)
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

    def get(self, path, cookie):
        """Reads a page; gives (milliseconds, body)."""
        req = urllib.request.Request(self.base + path, headers={"Cookie": cookie})
        started = time.perf_counter()
        body = urllib.request.urlopen(req).read().decode()
        return (time.perf_counter() - started) * 1000, body

    def log_in(self, name, password):
        """The session cookie of a member."""
        _, _, headers = self.post("/api/log_in",
                                  {"login": name, "password": password, "next": "/"},
                                  referer="/login")
        return "; ".join(c.split(";")[0] for c in headers.get_all("Set-Cookie") or [])


def summary(label, ms):
    """Prints one line (median and p90) and gives the median."""
    ms = sorted(ms)
    p90 = ms[int(len(ms) * 0.9) - 1]
    median = statistics.median(ms)
    print(f"  {label:<48} n={len(ms):<4} median {median:7.2f} ms   p90 {p90:7.2f} ms")
    return median
