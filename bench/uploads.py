#!/usr/bin/env python3
"""Uploads: speed and memory (see bench/uploads.sh), the figures of point 8 of issue 18.

1. upload: a phone photo (4,000 x 3,000 JPEG, about 3 MB, with EXIF) posted to POST /uploads
   RUNS times, one at a time, each a different file (a comment segment with the run's number
   changes the bytes, so the content hash differs and nothing is skipped as already stored;
   the pixels are the same). One upload before them warms the server up and is printed apart.
   Timed from the first byte sent to the answer: received, processed, stored.
2. memory: the server's resident memory (VmRSS from /proc/PID/status, every 50 ms) before,
   at its peak while 8 more such photos are uploaded at once (8 clients; the peak is VmHWM,
   reset just before), and 1, 2, 5 and 10 s after the last answer.
3. serving: a topic whose post shows one of the photos makes it public; a visitor (no
   cookie, a browser's image Accept header, so the WebP copies) then asks for its thumbnail
   and for the image itself with wrk (32 connections, SECONDS s, 3 runs each, median).

The uploader is the demo's staff member: staff have no daily allowance (50 MB by default,
which the 17 uploads would pass); the upload path is otherwise a customer's. Prints figures
and the goals beside them; asserts nothing.

usage: uploads.py BASE_URL SERVER_PID PHOTO [RUNS [SECONDS]]
       uploads.py --make-photo OUT   (needs Pillow: bench/uploads.sh runs it in a venv)
"""
import http.client
import json
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

CONCURRENT = 8
SETTLE_SECONDS = 10
# server/src/page_cache.rs, MAX_FILE_BYTES: visitors' files up to this size are served from memory.
CACHED_FILE_KB = 512
# What Chrome sends for an <img>.
IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"

# Issue 18, point 8.
GOAL_UPLOAD_S = 1.5
GOAL_THUMB_RPS = 10_000
GOAL_PEAK_MB = 300
GOAL_AFTER_MB = 100


# The photo ------------------------------------------------------------------------------------

def make_photo(out):
    """A deterministic stand-in for a phone photo: a sky and ground of gradients, soft shapes,
    coarse texture and sensor grain, saved as JPEG quality 90 with an EXIF block (camera,
    date, GPS) as phones write it. About 3 MB, like a real 12-megapixel photo."""
    import random

    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    width, height = 4000, 3000
    rng = random.Random(18)

    def noise(size, amp):
        w, h = size
        img = Image.frombytes("L", size, rng.randbytes(w * h))
        return img.point([128 + (v - 128) * amp // 128 for v in range(256)])

    ramp = Image.linear_gradient("L").resize((width, height))
    horizon = 0.45

    def channel(sky, ground):
        lut = []
        for v in range(256):
            y = v / 255
            if y < horizon:
                lut.append(int(sky[0] + (sky[1] - sky[0]) * y / horizon))
            else:
                lut.append(int(ground[0] + (ground[1] - ground[0]) * (y - horizon) / (1 - horizon)))
        return ramp.point(lut)

    img = Image.merge("RGB", (channel((90, 150), (120, 60)), channel((140, 200), (110, 70)),
                              channel((235, 200), (60, 30))))
    small = (width // 8, height // 8)
    mask, layer = Image.new("L", small, 0), Image.new("RGB", small, (0, 0, 0))
    draw_mask, draw_layer = ImageDraw.Draw(mask), ImageDraw.Draw(layer)
    for _ in range(40):
        x, y = rng.randrange(small[0]), rng.randrange(small[1] // 2, small[1])
        rx, ry = rng.randrange(10, 80), rng.randrange(10, 60)
        colour = tuple(rng.randrange(20, 220) for _ in range(3))
        box = (x - rx, y - ry, x + rx, y + ry)
        draw_mask.ellipse(box, fill=rng.randrange(150, 255))
        draw_layer.ellipse(box, fill=colour)
    mask = mask.filter(ImageFilter.GaussianBlur(3)).resize((width, height), Image.BICUBIC)
    layer = layer.filter(ImageFilter.GaussianBlur(2)).resize((width, height), Image.BICUBIC)
    img = Image.composite(layer, img, mask)
    texture = noise((width // 3, height // 3), 24).resize((width, height), Image.BICUBIC)
    channels = []
    for c in img.split():
        c = ImageChops.add(c, texture, 1, -128)
        channels.append(ImageChops.add(c, noise((width, height), 6), 1, -128))
    img = Image.merge("RGB", channels)

    exif = Image.Exif()
    exif[0x010F] = "Bench"                 # Make
    exif[0x0110] = "Phone 12"              # Model
    exif[0x0112] = 1                       # Orientation
    exif[0x0132] = "2025:05:01 12:00:00"   # DateTime
    exif[0x0131] = "Backyard bench"        # Software
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    img.save(out, "JPEG", quality=90, exif=exif.tobytes())


def variant(photo, label):
    """The same picture with a comment segment right after the start marker: other bytes, so
    another content hash, and the same decoding work."""
    text = f"backyard bench {label}".encode()
    return photo[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + photo[2:]


# HTTP -------------------------------------------------------------------------------------------

BASE = None


def connect(timeout=120):
    return http.client.HTTPConnection(BASE.hostname, BASE.port, timeout=timeout)


def log_in(login, password):
    body = f"login={login}&password={password}&next=/"
    conn = connect()
    conn.request("POST", "/api/log_in", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html",
        "Sec-Fetch-Site": "same-origin"})
    res = conn.getresponse()
    res.read()
    cookies = [c.split(";")[0] for c in res.headers.get_all("Set-Cookie") or []]
    conn.close()
    if res.status >= 400 or not cookies:
        sys.exit(f"log-in as {login} failed: {res.status}")
    return "; ".join(cookies)


def upload(cookie, name, data):
    """POST /uploads with one file; gives (seconds, the answer's first upload)."""
    boundary = "bench" + secrets.token_hex(12)
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    conn = connect()
    started = time.perf_counter()
    conn.request("POST", "/uploads", body=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Accept": "application/json", "Cookie": cookie, "Sec-Fetch-Site": "same-origin"})
    res = conn.getresponse()
    answer = res.read()
    elapsed = time.perf_counter() - started
    conn.close()
    try:
        answer = json.loads(answer)
    except ValueError:
        sys.exit(f"upload {name}: {res.status} {answer[:200]!r}")
    if res.status != 200 or answer.get("error") or not answer.get("uploaded"):
        sys.exit(f"upload {name}: {res.status} {answer}")
    return elapsed, answer["uploaded"][0]


def get(path, headers):
    conn = connect()
    conn.request("GET", path, headers=headers)
    res = conn.getresponse()
    body = res.read()
    conn.close()
    return res.status, res.headers, body


def start_topic(cookie, title, body):
    form = {"category": "questions", "title": title, "body": body,
            "form_token": secrets.token_hex(32)}
    from urllib.parse import urlencode
    conn = connect()
    conn.request("POST", "/api/start_topic", body=urlencode(form), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html",
        "Cookie": cookie, "Sec-Fetch-Site": "same-origin", "Referer": BASE.geturl() + "/new-topic"})
    res = conn.getresponse()
    res.read()
    conn.close()
    location = res.headers.get("Location", "")
    if res.status >= 400 or "__err" in location or not location.startswith("/t/"):
        sys.exit(f"start_topic: {res.status} {location!r}")
    return location


# Memory -----------------------------------------------------------------------------------------

PID = None


def status_kb(field):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def mb(kb):
    return kb / 1024


class Sampler:
    """VmRSS every 50 ms, with the time of each sample."""

    def __init__(self):
        self.samples = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.monotonic(), status_kb("VmRSS")))
            time.sleep(0.05)

    def finish(self):
        self.stop.set()
        self.thread.join()
        return self.samples


# wrk ---------------------------------------------------------------------------------------------

def to_ms(text):
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def wrk(url, seconds, headers):
    args = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = " ".join(m.group(0).strip() for m in
                      re.finditer(r"^\s*(Non-2xx.*|Socket errors.*)$", out, re.M))
    return rps, p50, p99, errors


def serve_rows(label, url, seconds, headers):
    wrk(url, 2, headers)  # warm-up: fills the cache, opens the connections' buffers
    runs = [wrk(url, seconds, headers) for _ in range(3)]
    for rps, p50, p99, errors in runs:
        print(f"  {label:<32} {rps:10,.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms  {errors}")
    by_rps = sorted(runs)[1]
    print(f"  {label + ', median of 3':<32} {by_rps[0]:10,.0f} req/s   "
          f"p50 {by_rps[1]:6.2f} ms   p99 {by_rps[2]:6.2f} ms")
    return by_rps[:3]


# The run -----------------------------------------------------------------------------------------

def main():
    global BASE, PID
    if sys.argv[1] == "--make-photo":
        make_photo(sys.argv[2])
        return
    BASE = urlparse(sys.argv[1].rstrip("/"))
    PID = sys.argv[2]
    with open(sys.argv[3], "rb") as f:
        photo = f.read()
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    seconds = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    run_id = secrets.token_hex(4)  # a database reused across runs still gets new files

    cookie = log_in("sam", "demo-staff-pass")
    time.sleep(1)
    idle_kb = status_kb("VmRSS")
    print(f"Photo: 4000 x 3000 JPEG q90 with EXIF, {len(photo) / 1e6:.2f} MB; "
          f"server idle RSS {mb(idle_kb):.1f} MB")

    # 1. One at a time.
    first, answer = upload(cookie, "photo-warm-up.jpg", variant(photo, f"{run_id} warm-up"))
    print(f"\n1. Upload, one at a time (POST /uploads, sent to answered)")
    print(f"  first upload (cold)  {first:6.3f} s   -> {answer['width']} x {answer['height']}")
    times, uploaded = [], []
    for i in range(runs):
        took, answer = upload(cookie, f"photo-{i + 1:02}.jpg", variant(photo, f"{run_id} {i}"))
        times.append(took)
        uploaded.append(answer)
    print("  runs  " + "  ".join(f"{t:.3f}" for t in times))
    upload_median = statistics.median(times)
    print(f"  {runs} uploads: median {upload_median:.3f} s   min {min(times):.3f} s   "
          f"max {max(times):.3f} s")
    shown = uploaded[0]
    sizes = {}
    for what, path, accept in (("main JPEG", shown["url"], "image/jpeg"),
                               ("WebP copy", shown["url"], IMAGE_ACCEPT),
                               ("thumbnail", shown["url"].replace(f"/uploads/{shown['id']}/",
                                                                  f"/uploads/{shown['id']}/thumb/"),
                                IMAGE_ACCEPT)):
        status, headers, body = get(path, {"Cookie": cookie, "Accept": accept,
                                           "Sec-Fetch-Site": "same-origin"})
        sizes[what] = (status, headers.get("Content-Type"), len(body))
    print("  stored: " + ", ".join(f"{what} {ct} {n / 1024:.0f} KB" for what, (_, ct, n)
                                   in sizes.items()))

    # 2. Eight at once.
    time.sleep(2)
    before_kb = status_kb("VmRSS")
    # Linux: 5 resets VmHWM to the present RSS, so VmHWM after the burst is its exact peak,
    # whatever fell between two samples.
    try:
        with open(f"/proc/{PID}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # then VmHWM is the peak since the server started
    sampler = Sampler()
    barrier = threading.Barrier(CONCURRENT)
    results = [None] * CONCURRENT

    def one(n):
        data = variant(photo, f"{run_id} burst {n}")
        barrier.wait()
        results[n] = (upload(cookie, f"burst-{n + 1}.jpg", data)[0], time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(n,)) for n in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last = max(done for _, done in results)
    while time.monotonic() < last + SETTLE_SECONDS + 0.2:
        time.sleep(0.1)
    samples = sampler.finish()
    sampled_kb = max(kb for at, kb in samples if at <= last)
    hwm_kb = status_kb("VmHWM")
    peak_kb = max(sampled_kb, hwm_kb)

    def rss_at(offset):
        return min(((abs(at - (last + offset)), kb) for at, kb in samples))[1]

    after_kb = rss_at(SETTLE_SECONDS)
    # When the server was first back under the goal after the last answer.
    under = next((at - last for at, kb in samples if at >= last and mb(kb) < GOAL_AFTER_MB), None)
    print(f"\n2. Memory, {CONCURRENT} uploads at once (VmRSS every 50 ms)")
    each = sorted(t for t, _ in results)
    print(f"  all answered in {last - started:.2f} s; each: " + " ".join(f"{t:.2f}" for t in each))
    print(f"  RSS before {mb(before_kb):6.1f} MB   peak {mb(peak_kb):6.1f} MB "
          f"(VmHWM; the highest 50 ms sample {mb(sampled_kb):.1f} MB)")
    print("  after the last answer: " + "   ".join(
        f"+{s} s {mb(rss_at(s)):6.1f} MB" for s in (0, 1, 2, 5, SETTLE_SECONDS)))
    print("  back under {} MB: {}".format(
        GOAL_AFTER_MB, f"after {under:.2f} s" if under is not None else "not within 10 s"))

    # 3. Serving to visitors.
    markdown = shown["markdown"]
    location = start_topic(cookie, f"Uploads bench {run_id}", f"A photo from the bench.\n\n{markdown}")
    thumb = f"/uploads/{shown['id']}/thumb/{shown['url'].rsplit('/', 1)[1]}"
    visitor = {"Accept": IMAGE_ACCEPT, "Sec-Fetch-Site": "same-origin",
               "Sec-Fetch-Dest": "image"}
    for path in (thumb, shown["url"]):
        status, headers, body = get(path, visitor)
        if status != 200:
            sys.exit(f"a visitor got {status} for {path} (the post is {location})")
    _, _, thumb_body = get(thumb, visitor)
    _, _, image_body = get(shown["url"], visitor)
    headers = [f"{k}: {v}" for k, v in visitor.items()]
    print(f"\n3. Serving to a visitor (no cookie, Accept: image/webp...; wrk 32 connections, "
          f"2 threads on the same 2 cores, {seconds} s x 3)")
    print(f"  thumbnail {len(thumb_body) / 1024:.0f} KB WebP, image {len(image_body) / 1024:.0f} KB "
          f"WebP (the page cache keeps files up to {CACHED_FILE_KB} KB; larger ones are read "
          f"from the store every time)")
    thumb_rps, thumb_p50, thumb_p99 = serve_rows("thumbnail", BASE.geturl() + thumb, seconds, headers)
    image_rps, image_p50, image_p99 = serve_rows("image (WebP copy)", BASE.geturl() + shown["url"],
                                                 seconds, headers)
    print(f"  RSS after serving {mb(status_kb('VmRSS')):.1f} MB")

    def verdict(ok):
        return "ok" if ok else "MISSED"

    print("\nSummary (issue 18, point 8; 2 cores, load generator on the same machine)")
    rows = [
        ("upload, 3 MB 4000x3000 JPEG, median", f"{upload_median:.2f} s (max {max(times):.2f})",
         f"< {GOAL_UPLOAD_S} s", upload_median < GOAL_UPLOAD_S),
        ("thumbnail to visitors", f"{thumb_rps:,.0f} req/s (p99 {thumb_p99:.1f} ms)",
         f">= {GOAL_THUMB_RPS:,} req/s", thumb_rps >= GOAL_THUMB_RPS),
        ("  image (WebP copy), for comparison", f"{image_rps:,.0f} req/s (p99 {image_p99:.1f} ms)",
         "", None),
        (f"peak RSS, {CONCURRENT} uploads at once", f"{mb(peak_kb):.0f} MB (before {mb(before_kb):.0f})",
         f"< {GOAL_PEAK_MB} MB", mb(peak_kb) < GOAL_PEAK_MB),
        (f"RSS {SETTLE_SECONDS} s after the last", f"{mb(after_kb):.0f} MB",
         f"< {GOAL_AFTER_MB} MB", mb(after_kb) < GOAL_AFTER_MB),
    ]
    for label, measured, goal, ok in rows:
        print(f"  {label:<38} {measured:<28} {goal:<16} {'' if ok is None else verdict(ok)}")


if __name__ == "__main__":
    main()
