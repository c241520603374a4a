#!/usr/bin/python3
"""Integration test of ingotd's status page ("/") on the shipped demo.

Usage:
    python3 test_status_page.py --ingotd build/ingotd --source-dir . \
        [--chromium /usr/bin/chromium] [--update-screenshot] [--keep]

Python 3 standard library only, plus headless Chromium (Debian's
`chromium`, installed by scripts/install-deps.sh). Everything listens on
127.0.0.1 on free ports, every wait is bounded, and every process started
here is killed in a `finally`.

Setup: `python3 -m http.server` serves conf/demo/ on a free port; ingotd
runs on a temporary copy of conf/ingot.yaml whose feed URLs point at it,
with --time.now=2025-07-01T00:00:00Z, until every feed is up.

  (a) GET / answers 200 with Content-Type text/html; charset=utf-8,
      Cache-Control no-cache, the page's Content-Security-Policy and
      X-Content-Type-Options; HEAD / has the same length and no body; a
      second GET is byte-identical (the cached render). The page is
      self-contained (no http:// or https://, no script), under 64 KB, and
      escapes the demo plant name with a double quote. Every data-metric
      element's text is exactly the value string of the same series
      (name and labels) in /metrics, and the page shows the production,
      target and progress of every metal in 2025, every initiative and
      every feed.
  (b) Headless Chromium renders / to a 1280x2000 PNG (it must exist and be
      larger than 10 KB, and show the bars' colours, which only the inline
      stylesheet gives them, so the CSP did not block it) and dumps the DOM
      it parsed: the same data-metric elements, with the same values.
      Without Chromium these checks FAIL, naming what to install.
  (c) With --update-screenshot, the PNG is copied to docs/status-page.png.

The last line is "N passed, M failed"; the exit status is 1 when anything
failed.
"""

import argparse
import html.parser
import http.client
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

NOW = "2025-07-01T00:00:00Z"
WAIT = 20.0          # bound of every poll, seconds
CHROMIUM_TIMEOUT = 90.0
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
WINDOW = (1280, 2000)

passed = 0
failed = 0


def check(desc, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {desc}", flush=True)
    else:
        failed += 1
        print(f"FAIL  {desc}" + (f": {detail}" if detail else ""), flush=True)
    return ok


class Abort(Exception):
    """A check the rest of the test depends on failed."""


def require(desc, ok, detail=""):
    if not check(desc, ok, detail):
        raise Abort(desc)


# --------------------------------------------------------------------------
# /metrics, parsed: {(name, frozenset(labels)): raw value string}

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def unescape_label(value):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_metrics(text):
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise ValueError(f"unparsable sample line {line!r}")
        labels = {}
        if m.group(2):
            body = m.group(2)[1:-1]
            pos = 0
            while pos < len(body):
                lm = LABEL_RE.match(body, pos)
                if not lm:
                    raise ValueError(f"unparsable labels in {line!r}")
                labels[lm.group(1)] = unescape_label(lm.group(2))
                pos = lm.end()
        samples[(m.group(1), frozenset(labels.items()))] = m.group(3)
    return samples


# --------------------------------------------------------------------------
# The page, parsed: its data-metric elements and its visible text


class PageParser(html.parser.HTMLParser):
    """Collects every data-metric element as (name, labels, text)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.text = []
        self.open = None   # [tag, name, labels, text parts, depth]
        self.tags = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if self.open is not None:
            if tag == self.open[0]:
                self.open[4] += 1
            return
        if "data-metric" in attrs:
            labels = {k[5:]: v for k, v in attrs.items()
                      if k.startswith("data-") and k != "data-metric"}
            self.open = [tag, attrs["data-metric"], labels, [], 1]

    def handle_endtag(self, tag):
        if self.open is not None and tag == self.open[0]:
            self.open[4] -= 1
            if self.open[4] == 0:
                _, name, labels, parts, _ = self.open
                self.elements.append((name, labels, "".join(parts)))
                self.open = None

    def handle_data(self, data):
        self.text.append(data)
        if self.open is not None:
            self.open[3].append(data)


def parse_page(text):
    p = PageParser()
    p.feed(text)
    p.close()
    return p


def compare_elements(elements, metrics):
    """Elements whose value differs from /metrics or that /metrics lacks."""
    wrong = []
    for name, labels, value in elements:
        want = metrics.get((name, frozenset(labels.items())))
        if want != value:
            wrong.append(f"{name}{labels}: page {value!r}, /metrics {want!r}")
    return wrong


# --------------------------------------------------------------------------
# Processes and HTTP


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, timeout=5.0):
    """(status, {lower-case header: value}, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def wait_for(pred, timeout=WAIT, proc=None):
    """Polls pred() every 0.2 s until it returns a true value, timeout passes
    or proc exits. Returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = pred()
        except (OSError, http.client.HTTPException, ValueError):
            value = None
        if value or time.monotonic() >= deadline or (proc and proc.poll() is not None):
            return value
        time.sleep(0.2)


def start(argv, log_path):
    with open(log_path, "wb") as log:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc):
    """Ends proc and whatever it started (its own process group)."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(5)
    except (ProcessLookupError, PermissionError):
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def run_bounded(argv, timeout):
    """Runs argv in its own process group: (exit status or None on timeout,
    stdout bytes, stderr bytes). The group is killed afterwards either way,
    so no helper process of a browser outlives the call."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        status = None
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return status, out, err


def log_tail(path, lines=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------
# PNG: size and a count of the pixels in given colours


def png_pixels(data):
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif f == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = prev[i]
                c = prev[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def count_colour(rows, channels, rgb):
    needle = bytes(rgb) + (b"\xff" if channels == 4 else b"")
    total = 0
    for row in rows:
        start = row.find(needle)
        while start >= 0:
            if start % channels == 0:
                total += 1
            start = row.find(needle, start + 1)
    return total


# --------------------------------------------------------------------------


def consistent_fetch(port, path):
    """GET path between two scrapes of /metrics that agree on everything the
    page shows (a feed fetch in between changes counters and times): the
    body, its headers and the metrics. Three tries."""
    for _ in range(3):
        _, _, before = request(port, "GET", "/metrics")
        status, headers, body = request(port, "GET", path)
        _, _, after = request(port, "GET", "/metrics")
        m1, m2 = parse_metrics(before.decode()), parse_metrics(after.decode())
        page = parse_page(body.decode("utf-8"))
        keys = {(n, frozenset(l.items())) for n, l, _ in page.elements}
        if all(m1.get(k) == m2.get(k) for k in keys):
            return status, headers, body, m1, page
    return status, headers, body, m1, page


def check_page(port, feeds, metals, initiatives):
    status, headers, body, metrics, page = consistent_fetch(port, "/")
    require("GET / is 200", status == 200, f"status {status}")
    check("Content-Type is text/html; charset=utf-8",
          headers.get("content-type") == "text/html; charset=utf-8", headers.get("content-type"))
    cc = headers.get("cache-control", "")
    m = re.search(r"max-age=(\d+)", cc)
    check("Cache-Control: no-cache (or a short max-age)",
          "no-cache" in cc or (m is not None and int(m.group(1)) <= 60), cc)
    check("Content-Security-Policy of the page", headers.get("content-security-policy") == CSP,
          headers.get("content-security-policy"))
    check("X-Content-Type-Options: nosniff", headers.get("x-content-type-options") == "nosniff")
    h_status, h_headers, h_body = request(port, "HEAD", "/")
    check("HEAD / is 200 with the same Content-Length and no body",
          h_status == 200 and h_body == b"" and
          h_headers.get("content-length") == str(len(body)),
          f"{h_status} {h_headers.get('content-length')} vs {len(body)}")
    _, _, again = request(port, "GET", "/")
    check("a second GET / is byte-identical (one render per data change)", again == body)
    p_status, p_headers, _ = request(port, "POST", "/")
    check("POST / is 405 with Allow: GET, HEAD",
          p_status == 405 and p_headers.get("allow") == "GET, HEAD", f"{p_status}")

    text = body.decode("utf-8")
    check("page under 64 KB", len(body) < 64 * 1024, f"{len(body)} bytes")
    check("no external URL in the page", "http://" not in text and "https://" not in text)
    check("no script, no external stylesheet or image",
          not ({"script", "link", "img", "iframe"} & page.tags), sorted(page.tags))
    check("viewport meta for phones", '<meta name="viewport"' in text)
    check("links to /metrics, /snapshot, /-/healthy and the docs",
          'href="/metrics"' in text and 'href="/snapshot"' in text and
          'href="/-/healthy"' in text and "README.md" in text)
    check('the demo plant name with a double quote is escaped (Kazzinc "Ridder")',
          "Kazzinc &quot;Ridder&quot; complex" in text and 'Kazzinc "Ridder"' not in text and
          'Kazzinc "Ridder" complex' in "".join(page.text))

    wrong = compare_elements(page.elements, metrics)
    check(f"all {len(page.elements)} data-metric values equal /metrics exactly",
          page.elements and not wrong, "; ".join(wrong[:5]))
    shown = {(n, frozenset(l.items())) for n, l, _ in page.elements}
    missing = []
    for metal in metals:
        for name in ("ingot_national_production_tonnes", "ingot_target_production_tonnes",
                     "ingot_target_progress_ratio", "ingot_national_production_projected_tonnes"):
            if (name, frozenset({"metal": metal, "year": "2025"}.items())) not in shown:
                missing.append(f"{name} {metal}")
    for name in ("ingot_national_output_vs_baseline_ratio", "ingot_target_output_vs_baseline_ratio",
                 "ingot_national_co2_intensity_tonnes_per_tonne",
                 "ingot_target_energy_intensity_mwh_per_tonne",
                 "ingot_national_waste_recycling_ratio"):
        if (name, frozenset({"year": "2025"}.items())) not in shown:
            missing.append(name)
    for name in ("ingot_benchmark_co2_intensity_tonnes_per_tonne",
                 "ingot_benchmark_waste_recycling_ratio"):
        if (name, frozenset({"benchmark": "global_leader_avg"}.items())) not in shown:
            missing.append(name)
    for i in initiatives:
        for name in ("ingot_initiative_value", "ingot_initiative_target",
                     "ingot_initiative_progress_ratio", "ingot_initiative_on_track",
                     "ingot_initiative_deadline_timestamp_seconds"):
            if (name, frozenset({"initiative": i}.items())) not in shown:
                missing.append(f"{name} {i}")
    for f in feeds:
        for name in ("ingot_feed_up", "ingot_feed_last_success_timestamp_seconds",
                     "ingot_feed_records_accepted_total"):
            if (name, frozenset({"feed": f}.items())) not in shown:
                missing.append(f"{name} {f}")
    check("the page shows 2025 per metal, output, intensities, benchmarks, initiatives, feeds",
          not missing, ", ".join(missing))
    return text, len(page.elements)


def check_chromium(args, port, workdir, n_elements):
    chromium = args.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not os.access(chromium, os.X_OK):
        check("headless Chromium available", False,
              f"{args.chromium or 'chromium'} not found: install Debian's chromium package "
              "(scripts/install-deps.sh does) or pass --chromium PATH")
        check("Chromium screenshot and DOM checks", False, "skipped: no Chromium")
        return None
    url = f"http://127.0.0.1:{port}/"
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run", "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}"]
    png = os.path.join(workdir, "status-page.png")
    status, _, err = run_bounded(common + [f"--user-data-dir={os.path.join(workdir, 'c1')}",
                                           f"--screenshot={png}", url], CHROMIUM_TIMEOUT)
    size = os.path.getsize(png) if os.path.exists(png) else 0
    check(f"Chromium screenshot written within {CHROMIUM_TIMEOUT:.0f} s, larger than 10 KB",
          status == 0 and size > 10 * 1024,
          f"status {status}, {size} bytes; stderr: {err.decode(errors='replace')[-400:]}")
    if size:
        try:
            width, height, channels, rows = png_pixels(open(png, "rb").read())
            check(f"screenshot is {WINDOW[0]}x{WINDOW[1]}", (width, height) == WINDOW,
                  f"{width}x{height}")
            # The bars' fills (#1a7f37 ahead, #bc4c00 behind) come from the
            # inline stylesheet only: without it (CSP) they would be black.
            ok_px = count_colour(rows, channels, (0x1a, 0x7f, 0x37))
            lag_px = count_colour(rows, channels, (0xbc, 0x4c, 0x00))
            check("screenshot shows the styled bars (inline CSS applied under the CSP)",
                  ok_px > 500 and lag_px > 500, f"{ok_px} green, {lag_px} orange pixels")
        except (ValueError, zlib.error, struct.error, TypeError) as e:
            check("screenshot decodes as a PNG", False, str(e))

    # As in consistent_fetch: retried when a feed fetch changed what the
    # page shows while Chromium loaded it.
    for _ in range(3):
        metrics = parse_metrics(request(port, "GET", "/metrics")[2].decode())
        status, out, err = run_bounded(common + [f"--user-data-dir={os.path.join(workdir, 'c2')}",
                                                 "--dump-dom", url], CHROMIUM_TIMEOUT)
        after = parse_metrics(request(port, "GET", "/metrics")[2].decode())
        dom = parse_page(out.decode("utf-8", errors="replace"))
        if all(metrics.get(k) == after.get(k)
               for k in ((n, frozenset(l.items())) for n, l, _ in dom.elements)):
            break
    wrong = compare_elements(dom.elements, metrics)
    check("Chromium --dump-dom: the same data-metric elements as the served page",
          status == 0 and len(dom.elements) == n_elements,
          f"status {status}, {len(dom.elements)} vs {n_elements}; "
          f"stderr: {err.decode(errors='replace')[-300:]}")
    check("Chromium --dump-dom: every value equals /metrics exactly",
          dom.elements and not wrong, "; ".join(wrong[:5]))
    return png if size > 10 * 1024 else None


def yaml_names(text, section_key):
    """The `- name: X` entries of one top-level or nested list (demo config)."""
    names, inside = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if re.match(rf"^\s*{section_key}:\s*$", line):
            inside = True
            continue
        if inside and re.match(r"^\S", line) and not line.startswith("#"):
            break
        m = re.match(r"^-\s+name:\s*(\S+)", stripped)
        if inside and m:
            names.append(m.group(1))
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ingotd", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--chromium", help="the Chromium binary (default: chromium on PATH)")
    parser.add_argument("--update-screenshot", action="store_true",
                        help="copy the screenshot to docs/status-page.png")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="ingot-status-page-")
    feed_server = daemon = None
    try:
        shipped = os.path.join(args.source_dir, "conf", "ingot.yaml")
        demo_dir = os.path.join(args.source_dir, "conf", "demo")
        with open(shipped, encoding="utf-8") as f:
            text = f.read()
        feeds = yaml_names(text, "feeds")
        initiatives = yaml_names(text, "initiatives")
        metals = re.search(r"^metals:\s*\[(.*)\]", text, re.M).group(1).replace(" ", "").split(",")

        feed_port = free_port()
        feed_server = start([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                             "--directory", demo_dir, str(feed_port)],
                            os.path.join(workdir, "feeds.log"))
        first = os.listdir(demo_dir)[0]
        require("demo feed server answers",
                wait_for(lambda: request(feed_port, "GET", "/" + first)[0] == 200,
                         proc=feed_server),
                log_tail(os.path.join(workdir, "feeds.log")))

        config, n = re.subn(r"http://127\.0\.0\.1:8468/", f"http://127.0.0.1:{feed_port}/", text)
        require("demo config: feed URLs rewritten", n == len(feeds) and n > 0, f"{n} URLs")
        config_path = os.path.join(workdir, "ingot.yaml")
        with open(config_path, "w", encoding="utf-8") as f:
            f.write(config + "state_dir: state\n")  # beside the config, never /var/lib/ingot
        port = free_port()
        log = os.path.join(workdir, "ingotd.log")
        daemon = start([args.ingotd, f"--config.file={config_path}",
                        f"--web.listen-address=127.0.0.1:{port}", f"--time.now={NOW}"], log)

        def all_up():
            _, _, body = request(port, "GET", "/metrics")
            m = parse_metrics(body.decode())
            return all(m.get(("ingot_feed_up", frozenset({"feed": f}.items()))) == "1"
                       for f in feeds)
        require(f"all {len(feeds)} demo feeds up within {WAIT:.0f} s",
                wait_for(all_up, proc=daemon), log_tail(log))

        _, n_elements = check_page(port, feeds, metals, initiatives)
        png = check_chromium(args, port, workdir, n_elements)
        if args.update_screenshot:
            target = os.path.join(args.source_dir, "docs", "status-page.png")
            if png:
                shutil.copyfile(png, target)
            check(f"screenshot copied to {target}", png is not None and os.path.exists(target))
        check("ingotd still running", daemon.poll() is None, log_tail(log))
    except Abort:
        pass
    except Exception as e:  # noqa: BLE001 (any crash is a failure, reported)
        check("test ran without an exception", False, f"{type(e).__name__}: {e}")
    finally:
        stop(daemon)
        stop(feed_server)
        if args.keep:
            print(f"# kept {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
