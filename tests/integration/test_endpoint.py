#!/usr/bin/python3
"""Integration test of ingotd's HTTP endpoint: negotiation, real Prometheus
scrapes, TLS and basic auth, connection limits, the lifecycle API, readiness
and the self-metrics.

Usage:
    python3 test_endpoint.py --ingotd build/ingotd --promtool /usr/bin/promtool \
        --prometheus /usr/bin/prometheus

Debian 12's /usr/bin/python3 standard library only, plus the openssl CLI for
certificates. Everything listens on 127.0.0.1 on free ports, every wait is
bounded, and every process started here is killed in a `finally`. The feed is
one JSON file (file://, 1s interval): plant kz-a made 1234.5 t of copper in
2025-01, and ingotd runs with --time.now=2025-07-15T00:00:00Z, so
ingot_national_production_tonnes{metal="copper",year="2025"} is exactly
1234.5 wherever it is read.

Covered:
  1. Negotiation over real HTTP, one row per Accept header (Prometheus 2.42's,
     an older Prometheus's, curl's */*, a browser's, OpenMetrics 2.0.0,
     garbage, none, and q-values that prefer either format): Content-Type;
     every text body passes `promtool check metrics`; every OpenMetrics body
     ends with "# EOF\\n", has no blank line, TYPE before UNIT before HELP,
     counters' TYPE without _total while their samples keep it, a UNIT for
     every _seconds/_bytes/_tonnes family and only units that are name
     suffixes; the copper production is the same 1234.5 in every body. gzip
     (text and OpenMetrics) decompresses to the same ingot_national_* lines
     as the plain body; Vary on every metrics answer; no Content-Encoding
     without, or refusing, gzip. Landing page, /-/healthy, /-/ready, HEAD,
     404, 405 with Allow, /-/reload 403 without --web.enable-lifecycle.
  2. A real Prometheus 2.42 scraping ingotd every second, plain here and over
     TLS with basic auth in 3: the query returns exactly 1234.5, the target is
     up with an empty lastError, the target metadata carries the OpenMetrics
     unit, and ingot's own metrics/200 counter grows with the scrapes.
  3. TLS + basic auth (CA, server and client certificates made with the
     openssl CLI, a bcrypt hash from crypt): right credentials 200; wrong
     password, unknown user, missing, "Basic !!!" and "Bearer x" 401 with
     WWW-Authenticate: Basic realm="ingot"; the http_server_config header on
     200 and 401 answers; TLS 1.2 and 1.3 accepted, TLS 1.1 refused (with a
     TLS 1.1 openssl s_server as control that the client can speak it) and
     counted as a tls_handshake drop; an answer's body not stalled after its
     headers (Nagle against delayed ACK); 50 authenticated scrapes all 200,
     and the median cached right-password request at least 5x faster than
     the median wrong-password one (each a bcrypt), from the client and in
     ingot's own duration histogram; certificate rotation (new key
     and serial, atomic renames) seen by a new connection without a restart;
     a user added to the web config accepted without a restart. mTLS
     (RequireAndVerifyClientCert): no client certificate and a certificate
     from another CA refused by TLS and counted as 2 tls_handshake drops,
     the CA's client certificate 200.
  4. Limits (max_connections 64, read_header_timeout 2s, max_header_bytes
     4096, max_request_body_bytes 1024): a 3000-byte header 200 and a 5000-byte
     one 431 and closed; a reload body over the limit 413 (Content-Length
     and chunked), a small one 200; 200 slowloris sockets dripping a byte a
     second for ~6 s while 10 normal scrapes each get 200 with the right
     value; drops by max_connections and read_header_timeout counted; open
     connections back to 1; a lone slow client gets 408 (or is closed)
     within read_header_timeout + 1 s; a malformed request 400; server
     answers (400, 408, 413, 431) counted as handler="none".
  5. Lifecycle: GET /-/reload 405 with Allow: POST, PUT; POST and PUT 200 and
     ingot_config_last_reload_successful 1; a broken config 500 naming
     path:line:column, the gauge 0, the old config still served; fixed again
     200. Readiness with a feed whose server accepts and never answers
     (timeout 3s): /-/ready 503 at first, 200 once the timeout has passed and
     from then on, /-/healthy 200 throughout.
  6. Self-metrics: every listed family present with samples and plausible
     values; ingot_series equals the domain sample lines (text and
     OpenMetrics); ingot_exposition_bytes{encoding="identity"} equals the
     domain render's size; the metrics/200 counter counts each scrape once;
     a 404 adds exactly one to {handler="not_found",code="404"}; for every
     handler the histogram's le="+Inf" bucket equals _count, buckets never
     decrease, and _count equals the handler's requests.
Each check prints "ok   ..." or "FAIL ...: detail"; the last line is
"N passed, M failed", and the exit status is 1 when anything failed.
"""

import argparse
import base64
import gzip
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # crypt, and ssl's TLS 1.1 control
import crypt  # noqa: E402  (deprecated in 3.11, still shipped by Debian 12)

NOW = "2025-07-15T00:00:00Z"
COPPER = {"metal": "copper", "year": "2025"}
COPPER_TONNES = 1234.5
TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS_242 = ("application/openmetrics-text;version=1.0.0,"
                  "application/openmetrics-text;version=0.0.1;q=0.75,"
                  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
PROMETHEUS_OLD = ("application/openmetrics-text; version=0.0.1,"
                  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
BROWSER = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
           "*/*;q=0.8")
DOMAIN_PREFIXES = ("ingot_national_", "ingot_target_", "ingot_benchmark_", "ingot_initiative_",
                   "ingot_plant_", "ingot_feed_", "ingot_build_info")
SELF_FAMILIES = (  # as named by the text format's TYPE lines
    "process_cpu_seconds_total", "process_resident_memory_bytes",
    "process_virtual_memory_bytes", "process_start_time_seconds", "process_open_fds",
    "process_max_fds", "ingot_http_requests_total", "ingot_http_request_duration_seconds",
    "ingot_exposition_render_seconds", "ingot_exposition_bytes", "ingot_series",
    "ingot_config_last_reload_successful", "ingot_config_last_reload_success_timestamp_seconds",
    "ingot_http_open_connections", "ingot_http_connections_dropped_total")
DROP_REASONS = ("max_connections", "read_header_timeout", "write_timeout", "tls_handshake")
PASSWORD = "correct horse battery staple"

from harness import check, free_port, results, wait_until


# ---------------------------------------------------------------------------
# HTTP clients


class Reply:
    """One HTTP answer; status None (and error set) when there was none."""

    def __init__(self, status=None, headers=None, body=b"", error=None):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.error = error

    def header(self, name):
        return self.headers.get(name.lower())

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        if self.status is None:
            return f"no answer ({self.error})"
        return f"{self.status} {self.headers} {self.body[:200]!r}"


def exchange(conn, method, path, headers=None, body=None):
    """Sends one request on conn exactly as given (http.client adds only Host,
    and Content-Length for a body) and reads the whole answer."""
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    r = conn.getresponse()
    data = r.read()
    return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data)


def fetch(port, path="/metrics", method="GET", headers=None, body=None, tls=None, timeout=10):
    """One request on a new connection (HTTPS when tls is an SSLContext)."""
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=tls, timeout=timeout)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return exchange(conn, method, path, headers, body)
    except (OSError, http.client.HTTPException) as e:
        return Reply(error=repr(e))
    finally:
        conn.close()


def raw_exchange(port, data, timeout=5):
    """Sends data on a plain socket and reads until EOF, reset or timeout.
    Returns (bytes read, how it ended: "eof", "reset" or "timeout")."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    chunks, ended = [], "timeout"
    try:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                ended = "reset"
                break
            if not chunk:
                ended = "eof"
                break
            chunks.append(chunk)
    finally:
        s.close()
    return b"".join(chunks), ended


def status_line(data):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# ---------------------------------------------------------------------------
# The exposition formats


SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$")
LABEL_PAIR_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text):
    """[(name, {label: value}, float)] of every sample line."""
    out = []
    for line in (text or "").splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            continue
        labels = dict(LABEL_PAIR_RE.findall(m.group(2) or ""))
        try:
            out.append((m.group(1), labels, float(m.group(3))))
        except ValueError:
            pass
    return out


def value(text, name, **labels):
    """The value of the sample name{labels} (exactly these labels), or None."""
    for n, ls, v in samples(text):
        if n == name and ls == labels:
            return v
    return None


def line_family(line):
    """The metric name a line is about (sample or # HELP/TYPE/UNIT), or None."""
    m = re.match(r"# (?:HELP|TYPE|UNIT) (\S+)", line) if line.startswith("#") else \
        re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
    return m.group(1) if m else None


def is_domain(line):
    name = line_family(line)
    return name is not None and name.startswith(DOMAIN_PREFIXES)


def domain_sample_lines(text):
    return [ln for ln in text.splitlines() if ln and not ln.startswith("#") and is_domain(ln)]


def national_lines(text):
    return [ln for ln in text.splitlines() if ln.startswith("ingot_national_")]


def openmetrics_problems(body):
    """What is wrong with an OpenMetrics body, as a list of strings."""
    problems = []
    if not body.endswith("# EOF\n"):
        problems.append(f"does not end with '# EOF\\n': {body[-40:]!r}")
    if body.count("# EOF") != 1:
        problems.append("'# EOF' is not there exactly once")
    lines = body.split("\n")[:-1]
    if "" in lines:
        problems.append(f"blank line at line {lines.index('') + 1}")
    meta, types = {}, {}
    for i, line in enumerate(lines):
        m = re.match(r"# (TYPE|UNIT|HELP) (\S+)(?: (.*))?$", line)
        if m:
            meta.setdefault(m.group(2), []).append(m.group(1))
            if m.group(1) == "TYPE":
                types[m.group(2)] = m.group(3)
            if m.group(1) == "UNIT" and not m.group(2).endswith("_" + (m.group(3) or "?")):
                problems.append(f"UNIT {m.group(3)} is not a suffix of {m.group(2)}")
    for family, kinds in meta.items():
        if kinds not in (["TYPE", "HELP"], ["TYPE", "UNIT", "HELP"], ["TYPE"], ["TYPE", "UNIT"]):
            problems.append(f"{family}: metadata order {kinds}")
        unit = next((u for u in ("seconds", "bytes", "tonnes") if family.endswith("_" + u)), None)
        if unit and f"# UNIT {family} {unit}" not in lines:
            problems.append(f"{family}: no '# UNIT {family} {unit}'")
    names = {n for n, _, _ in samples(body)}
    for family, kind in types.items():
        if kind == "counter":
            if family.endswith("_total"):
                problems.append(f"counter TYPE names {family} with _total")
            if family in names:
                problems.append(f"counter sample {family} without _total")
    return problems


# ---------------------------------------------------------------------------
# Processes


class Ingotd:
    """ingotd on 127.0.0.1:port with its own config and log file."""

    def __init__(self, binary, tmp, name, config_text, extra=()):
        self.port = free_port()
        self.config = os.path.join(tmp, f"{name}.yaml")
        self.write_config(config_text)
        self.log_path = os.path.join(tmp, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.started = time.time()
        self.proc = subprocess.Popen(
            [binary, f"--config.file={self.config}", f"--web.listen-address=127.0.0.1:{self.port}",
             f"--time.now={NOW}", "--log.level=debug", *extra],
            stdout=self.log, stderr=self.log)

    def write_config(self, text):
        with open(self.config + ".tmp", "w") as f:
            f.write(text)
        os.replace(self.config + ".tmp", self.config)

    def listening(self, timeout=10):
        def connects():
            if self.proc.poll() is not None:
                return "exited"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return "up"
            except OSError:
                return None
        return wait_until(connects, timeout) == "up"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def tail(self, n=3000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""


class Prometheus:
    """prometheus on its own free port scraping one ingotd every second."""

    def __init__(self, binary, tmp, name, job):
        self.port = free_port()
        home = os.path.join(tmp, name)
        os.makedirs(home)
        config = os.path.join(home, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\nscrape_configs:\n" + job)
        self.log_path = os.path.join(home, "prometheus.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={home}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=self.log)

    def api(self, path):
        r = fetch(self.port, path, timeout=5)
        if r.status != 200:
            return None
        try:
            return json.loads(r.body)
        except ValueError:
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def tail(self, n=3000):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-n:]


def config_text(feed_url, web=None, timeout=None, interval="1s"):
    lines = ["state_dir: state"]  # beside the config, never /var/lib/ingot
    if web:
        lines.append("web:")
        lines += [f"  {k}: {v}" for k, v in web.items()]
    lines += ["metals: [copper]", "feeds:", "  - name: copper_feed", f"    url: {feed_url}",
              "    format: json", f"    interval: {interval}"]
    if timeout:
        lines.append(f"    timeout: {timeout}")
    lines.append("    plants: [kz-a]")
    return "\n".join(lines) + "\n"


def wait_for_data(port, tls=None, headers=None, timeout=15):
    """The first scrape carrying the copper production, or None."""
    def got():
        r = fetch(port, tls=tls, headers=headers, timeout=5)
        return r.text() if r.status == 200 and value(r.text(), "ingot_national_production_tonnes",
                                                      **COPPER) is not None else None
    return wait_until(got, timeout)


def prometheus_checks(prom_binary, tmp, name, ingot_port, job, scrape):
    """A real Prometheus scraping ingot: the value, the target, the unit, the counter."""
    prom = Prometheus(prom_binary, tmp, name, job)
    failed_before = results.count(False)
    try:
        ready = wait_until(lambda: fetch(prom.port, "/-/ready", timeout=2).status == 200, 30, 0.25)
        check(f"{name}: prometheus ready", ready, prom.tail())
        query = "/api/v1/query?query=" + urllib.parse.quote(
            'ingot_national_production_tonnes{metal="copper",year="2025"}')

        def copper():
            doc = prom.api(query)
            res = (doc or {}).get("data", {}).get("result", [])
            return res[0]["value"][1] if len(res) == 1 else None
        got = wait_until(copper, 30, 0.25)
        check(f"{name}: prometheus query returns exactly 1234.5", got == "1234.5", got)

        def target():
            doc = prom.api("/api/v1/targets") or {}
            ts = [t for t in doc.get("data", {}).get("activeTargets", [])
                  if f"127.0.0.1:{ingot_port}" in t.get("scrapeUrl", "")]
            if ts and ts[0].get("health") == "up" and ts[0].get("lastError") == "":
                return ts[0]
            return None
        up = wait_until(target, 10, 0.25)
        last = (prom.api("/api/v1/targets") or {}).get("data", {}).get("activeTargets")
        check(f"{name}: target health up, lastError empty", up is not None, last)

        meta = prom.api("/api/v1/targets/metadata?metric=ingot_national_production_tonnes")
        units = [m.get("unit") for m in (meta or {}).get("data", [])]
        check(f"{name}: prometheus read the OpenMetrics UNIT (it negotiated OpenMetrics)",
              units and all(u == "tonnes" for u in units), meta)

        first = scrape()
        r1 = value(first, "ingot_http_requests_total", handler="metrics", code="200")
        time.sleep(3.5)
        r2 = value(scrape(), "ingot_http_requests_total", handler="metrics", code="200")
        # r2 counts our first scrape plus Prometheus's ~3.
        check(f"{name}: ingot_http_requests_total{{handler=\"metrics\",code=\"200\"}} grows "
              "with Prometheus's scrapes",
              r1 is not None and r2 is not None and r2 - r1 >= 3, f"{r1} -> {r2}")
    finally:
        prom.stop()
        if results.count(False) > failed_before:
            print("# prometheus log:\n" + prom.tail(), flush=True)


# ---------------------------------------------------------------------------
# Scenario 1, 2 (plain) and 6: negotiation, endpoints, self-metrics


def scenario_plain(args, tmp, feed_url):
    d = Ingotd(args.ingotd, tmp, "plain", config_text(feed_url))
    failed_before = results.count(False)
    try:
        if not check("plain: ingotd listens", d.listening(), d.tail()):
            return
        text = wait_for_data(d.port)
        check("plain: the feed's copper production is served", text is not None, d.tail())
        ready = wait_until(lambda: fetch(d.port, "/-/ready").status == 200, 10)
        check("plain: /-/ready 200 once the feed was fetched", ready)
        endpoints(d.port)
        negotiation(d.port, args.promtool)
        self_metrics(d)
        prometheus_checks(
            args.prometheus, tmp, "prometheus plain", d.port,
            "  - job_name: ingot\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{d.port}']\n",
            lambda: fetch(d.port).text())
        check("plain: ingotd still running", d.proc.poll() is None, d.proc.returncode)
    finally:
        d.stop()
        if results.count(False) > failed_before:
            print("# ingotd log (plain):\n" + d.tail(), flush=True)


def endpoints(port):
    r = fetch(port, "/")
    check("GET / is the landing page linking /metrics",
          r.status == 200 and (r.header("content-type") or "").startswith("text/html") and
          'href="/metrics"' in r.text(), r)
    for method in ("GET", "HEAD"):
        r = fetch(port, "/-/healthy", method)
        check(f"{method} /-/healthy 200", r.status == 200, r)
        r = fetch(port, "/-/ready", method)
        check(f"{method} /-/ready 200", r.status == 200, r)
    r = fetch(port, "/metrics", "HEAD")
    check("HEAD /metrics 200, text Content-Type, Vary, no body",
          r.status == 200 and r.header("content-type") == TEXT and r.body == b"" and
          r.header("vary") == "Accept, Accept-Encoding", r)
    r = fetch(port, "/no/such/path")
    check("GET /no/such/path 404", r.status == 404, r)
    for method, path in (("POST", "/metrics"), ("PUT", "/metrics"), ("DELETE", "/-/healthy"),
                         ("POST", "/-/ready"), ("OPTIONS", "/")):
        r = fetch(port, path, method, body=b"" if method in ("POST", "PUT") else None)
        check(f"{method} {path} 405 with Allow: GET, HEAD",
              r.status == 405 and r.header("allow") == "GET, HEAD", r)
    r = fetch(port, "/-/reload")
    check("GET /-/reload 405 with Allow: POST, PUT",
          r.status == 405 and r.header("allow") == "POST, PUT", r)
    for method in ("POST", "PUT"):
        r = fetch(port, "/-/reload", method, body=b"")
        check(f"{method} /-/reload 403 without --web.enable-lifecycle", r.status == 403, r)


NEGOTIATION = (
    ("Prometheus 2.42", PROMETHEUS_242, OPENMETRICS),
    ("older Prometheus (OpenMetrics 0.0.1)", PROMETHEUS_OLD, OPENMETRICS),
    ("curl */*", "*/*", TEXT),
    ("browser", BROWSER, TEXT),
    ("OpenMetrics 2.0.0 only", "application/openmetrics-text;version=2.0.0", TEXT),
    ("garbage ;;;,", ";;;,", TEXT),
    ("no Accept", None, TEXT),
    ("q prefers text", "application/openmetrics-text;version=1.0.0;q=0.2,"
                       "text/plain;version=0.0.4;q=0.9", TEXT),
    ("q prefers OpenMetrics", "text/plain;version=0.0.4;q=0.3,"
                              "application/openmetrics-text;version=1.0.0;q=0.8", OPENMETRICS),
)


def promtool_ok(promtool, text):
    try:
        p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=30)
        return p.returncode == 0, (p.stdout + p.stderr).decode(errors="replace")[:1500]
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, repr(e)


def negotiation(port, promtool):
    bodies = {}
    for label, accept, want in NEGOTIATION:
        r = fetch(port, headers={"Accept": accept} if accept is not None else {})
        check(f"negotiation [{label}]: 200 {want}",
              r.status == 200 and r.header("content-type") == want, r)
        check(f"negotiation [{label}]: Vary: Accept, Accept-Encoding; no Content-Encoding",
              r.header("vary") == "Accept, Accept-Encoding" and
              r.header("content-encoding") is None,
              r.headers)
        body = r.text()
        if want == TEXT:
            ok, out = promtool_ok(promtool, body)
            check(f"negotiation [{label}]: promtool check metrics exits 0", ok, out)
        else:
            problems = openmetrics_problems(body)
            check(f"negotiation [{label}]: OpenMetrics structure (EOF, no blank line, "
                  "TYPE/UNIT/HELP order, counters, units)", not problems, problems[:10])
        v = value(body, "ingot_national_production_tonnes", **COPPER)
        check(f"negotiation [{label}]: copper production 1234.5", v == COPPER_TONNES, v)
        bodies[want] = body

    om = bodies.get(OPENMETRICS, "")
    check("OpenMetrics: '# TYPE ingot_feed_records_accepted counter' with _total samples",
          "\n# TYPE ingot_feed_records_accepted counter\n" in om and
          re.search(r"^ingot_feed_records_accepted_total\{", om, re.M) is not None)
    check("OpenMetrics: '# UNIT ingot_national_production_tonnes tonnes'",
          "\n# UNIT ingot_national_production_tonnes tonnes\n" in om)
    check("text: counters keep _total in TYPE",
          "\n# TYPE ingot_feed_records_accepted_total counter\n" in bodies.get(TEXT, ""))
    check("copper production identical in text and OpenMetrics",
          value(bodies.get(TEXT), "ingot_national_production_tonnes", **COPPER) ==
          value(om, "ingot_national_production_tonnes", **COPPER) == COPPER_TONNES)

    # gzip, in both formats, against the plain body of the same format.
    for label, accept, plain in (("text", None, bodies.get(TEXT, "")),
                                 ("OpenMetrics", PROMETHEUS_242, om)):
        headers = {"Accept-Encoding": "gzip"}
        if accept:
            headers["Accept"] = accept
        r = fetch(port, headers=headers)
        try:
            unpacked = gzip.decompress(r.body).decode()
        except (OSError, EOFError, ValueError) as e:
            unpacked = None
            r.error = repr(e)
        check(f"gzip [{label}]: Content-Encoding gzip, Vary, body decompresses",
              r.status == 200 and r.header("content-encoding") == "gzip" and
              r.header("vary") == "Accept, Accept-Encoding" and unpacked is not None, r)
        unpacked = unpacked or ""
        check(f"gzip [{label}]: same ingot_national_* lines as the plain body",
              national_lines(unpacked) == national_lines(plain) and national_lines(plain),
              (national_lines(unpacked)[:5], national_lines(plain)[:5]))
        if accept:
            check("gzip [OpenMetrics]: decompressed body is valid OpenMetrics",
                  not openmetrics_problems(unpacked), openmetrics_problems(unpacked)[:10])
        else:
            ok, out = promtool_ok(promtool, unpacked)
            check("gzip [text]: decompressed body passes promtool check metrics", ok, out)
    for encoding, gzipped in (("gzip;q=0", False), ("identity", False), ("br, gzip;q=0.5", True),
                              ("*", True)):
        r = fetch(port, headers={"Accept-Encoding": encoding})
        got = r.header("content-encoding")
        check(f"Accept-Encoding: {encoding} -> " + ("gzip" if gzipped else "no Content-Encoding"),
              r.status == 200 and got == ("gzip" if gzipped else None), r.headers)


def self_metrics(d):
    port = d.port
    text = fetch(port).text()
    missing = [f for f in SELF_FAMILIES if not re.search(rf"^# TYPE {f} ", text, re.M)]
    check("self-metrics: every family has a TYPE line", not missing, missing)
    names = {n for n, _, _ in samples(text)}
    empty = [f for f in SELF_FAMILIES if not any(n == f or n.startswith(f + "_") for n in names)]
    check("self-metrics: every family has samples", not empty, empty)

    now = time.time()
    start = value(text, "process_start_time_seconds")
    check("process_start_time_seconds is when ingotd started",
          start is not None and d.started - 5 <= start <= now + 1, (start, d.started))
    fds, max_fds = value(text, "process_open_fds"), value(text, "process_max_fds")
    check("process_open_fds in [3, process_max_fds]",
          fds is not None and max_fds is not None and 3 <= fds <= max_fds, (fds, max_fds))
    rss = value(text, "process_resident_memory_bytes")
    vsz = value(text, "process_virtual_memory_bytes")
    check("process memory: 0 < resident <= virtual",
          rss is not None and vsz is not None and 0 < rss <= vsz, (rss, vsz))
    cpu = value(text, "process_cpu_seconds_total")
    check("process_cpu_seconds_total >= 0", cpu is not None and cpu >= 0, cpu)
    check("ingot_config_last_reload_successful 1",
          value(text, "ingot_config_last_reload_successful") == 1)
    ts = value(text, "ingot_config_last_reload_success_timestamp_seconds")
    check("ingot_config_last_reload_success_timestamp_seconds is the start",
          ts is not None and d.started - 5 <= ts <= now + 1, (ts, d.started))
    open_conns = value(text, "ingot_http_open_connections")
    check("ingot_http_open_connections >= 1 (this scrape)", open_conns is not None and
          open_conns >= 1, open_conns)
    drops = {r: value(text, "ingot_http_connections_dropped_total", reason=r) for r in DROP_REASONS}
    check("ingot_http_connections_dropped_total: every reason, 0 on a calm daemon",
          all(v == 0 for v in drops.values()), drops)
    render = value(text, "ingot_exposition_render_seconds")
    check("ingot_exposition_render_seconds >= 0", render is not None and render >= 0, render)

    for label, accept in (("text", None), ("OpenMetrics", PROMETHEUS_242)):
        body = fetch(port, headers={"Accept": accept} if accept else {}).text()
        series = value(body, "ingot_series")
        counted = len(domain_sample_lines(body))
        check(f"ingot_series equals the domain sample lines [{label}]",
              series is not None and series == counted, f"ingot_series {series}, counted {counted}")
        size = sum(len(ln.encode()) + 1 for ln in body.splitlines() if is_domain(ln))
        got = value(body, "ingot_exposition_bytes", encoding="identity")
        check("ingot_exposition_bytes{encoding=\"identity\"} is the domain render's size "
              f"[{label}]",
              got == size, f"exported {got}, measured {size}")

    before = fetch(port).text()
    for _ in range(3):
        fetch(port)
    after = fetch(port).text()
    a = value(before, "ingot_http_requests_total", handler="metrics", code="200")
    b = value(after, "ingot_http_requests_total", handler="metrics", code="200")
    check("metrics/200 counter counts each scrape once (+4 over 4 scrapes)",
          a is not None and b is not None and b - a == 4, f"{a} -> {b}")

    n1 = value(after, "ingot_http_requests_total", handler="not_found", code="404") or 0
    r = fetch(port, "/missing")
    later = fetch(port).text()
    n2 = value(later, "ingot_http_requests_total", handler="not_found", code="404")
    check("a 404 adds exactly 1 to ingot_http_requests_total{handler=\"not_found\",code=\"404\"}",
          r.status == 404 and n2 == n1 + 1, f"{n1} -> {n2}")
    for handler, code in (("landing", "200"), ("healthy", "200"), ("ready", "200"),
                          ("reload", "405"), ("reload", "403"), ("metrics", "405")):
        v = value(later, "ingot_http_requests_total", handler=handler, code=code)
        check(f"ingot_http_requests_total{{handler=\"{handler}\",code=\"{code}\"}} counted",
              v is not None and v >= 1, v)

    hist = histogram_problems(later)
    check("histogram: le=+Inf == _count, buckets non-decreasing, _count == requests per handler",
          not hist, hist)


def histogram_problems(text):
    problems = []
    ss = samples(text)
    handlers = {ls.get("handler") for n, ls, _ in ss
                if n == "ingot_http_request_duration_seconds_count"}
    if not handlers:
        return ["no ingot_http_request_duration_seconds_count"]
    for h in sorted(handlers):
        count = value(text, "ingot_http_request_duration_seconds_count", handler=h)
        buckets = [(ls["le"], v) for n, ls, v in ss
                   if n == "ingot_http_request_duration_seconds_bucket" and ls.get("handler") == h]
        inf = [v for le, v in buckets if le == "+Inf"]
        if inf != [count]:
            problems.append(f"{h}: +Inf {inf} vs _count {count}")
        values = [v for _, v in sorted(buckets, key=lambda b: float(b[0]))]
        if values != sorted(values):
            problems.append(f"{h}: buckets decrease {buckets}")
        if value(text, "ingot_http_request_duration_seconds_sum", handler=h) is None:
            problems.append(f"{h}: no _sum")
        requests = sum(v for n, ls, v in ss
                       if n == "ingot_http_requests_total" and ls.get("handler") == h)
        if requests != count:
            problems.append(f"{h}: _count {count} vs requests {requests}")
    return problems


# ---------------------------------------------------------------------------
# Scenario 4 and 5: limits and the lifecycle API


def slow_client(port, budget):
    """Sends a request line, then a byte a second; returns (seconds until the
    server answered or closed, what it sent, how it ended)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        start = time.monotonic()
        s.sendall(b"GET /metrics HTTP/1.1\r\n")
        drip = b"X-Slow: " + b"a" * 64
        sent, next_byte, got = 0, start + 1, b""
        while time.monotonic() - start < budget:
            r, _, _ = select.select([s], [], [], 0.05)
            if r:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    return time.monotonic() - start, got, "reset"
                if not chunk:
                    return time.monotonic() - start, got, "eof"
                got += chunk
                if b"\r\n\r\n" in got:
                    return time.monotonic() - start, got, "answer"
            if time.monotonic() >= next_byte and sent < len(drip):
                try:
                    s.send(drip[sent:sent + 1])
                except OSError:
                    return time.monotonic() - start, got, "send failed"
                sent += 1
                next_byte += 1
        return time.monotonic() - start, got, "timeout"
    finally:
        s.close()


def scenario_limits(args, tmp, feed_url):
    web = {"max_connections": 64, "read_header_timeout": "2s", "max_header_bytes": 4096,
           "max_request_body_bytes": 1024}
    d = Ingotd(args.ingotd, tmp, "limits", config_text(feed_url, web), ["--web.enable-lifecycle"])
    failed_before = results.count(False)
    try:
        if not check("limits: ingotd listens", d.listening(), d.tail()):
            return
        check("limits: data served", wait_for_data(d.port) is not None)

        # Headers: 3000 bytes pass, 5000 bytes (limit 4096) are refused and closed.
        ok = raw_exchange(d.port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 3000 +
                          b"\r\nConnection: close\r\n\r\n")
        check("3000-byte header (limit 4096) -> 200", status_line(ok[0]) == 200, ok[0][:200])
        big = raw_exchange(d.port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 5000 +
                           b"\r\n\r\n")
        check("5000-byte header -> 431 and the connection closed",
              status_line(big[0]) == 431 and big[1] == "eof", big)

        # Bodies (limit 1024) on /-/reload.
        small = fetch(d.port, "/-/reload", "POST", body=b"x" * 100)
        check("POST /-/reload with a 100-byte body -> 200", small.status == 200, small)
        over = raw_exchange(d.port, b"POST /-/reload HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 2000\r\n\r\n" + b"x" * 2000)
        check("POST /-/reload with Content-Length 2000 -> 413",
              status_line(over[0]) == 413, over)
        chunked = b"".join(b"190\r\n" + b"y" * 400 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"
        over = raw_exchange(d.port, b"POST /-/reload HTTP/1.1\r\nHost: x\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
        check("POST /-/reload with a 2000-byte chunked body -> 413",
              status_line(over[0]) == 413, over)

        bad = raw_exchange(d.port, b"NOT A REQUEST\r\n\r\n")
        check("a malformed request -> 400 and the connection closed",
              status_line(bad[0]) == 400 and bad[1] == "eof", bad)

        slowloris(d.port)
        text = fetch(d.port).text()
        for reason in ("max_connections", "read_header_timeout"):
            v = value(text, "ingot_http_connections_dropped_total", reason=reason)
            check(f"ingot_http_connections_dropped_total{{reason=\"{reason}\"}} > 0",
                  v is not None and v > 0, v)
        back = wait_until(
            lambda: value(fetch(d.port).text(), "ingot_http_open_connections") == 1, 10)
        check("ingot_http_open_connections back to 1 after the slowloris",
              back, value(fetch(d.port).text(), "ingot_http_open_connections"))

        seconds, got, ended = slow_client(d.port, 8)
        check("a lone slow client: 408 or closed within read_header_timeout + 1 s",
              seconds <= 3.0 and
              (status_line(got) == 408 or (not got and ended in ("eof", "reset"))),
              f"after {seconds:.2f}s: {ended} {got[:120]!r}")
        check("a lone slow client is not cut before read_header_timeout", seconds >= 1.8,
              f"{seconds:.2f}s")

        text = fetch(d.port).text()
        for code in ("400", "408", "413", "431"):
            v = value(text, "ingot_http_requests_total", handler="none", code=code)
            check(f"ingot_http_requests_total{{handler=\"none\",code=\"{code}\"}} counted",
                  v is not None and v >= 1, v)

        lifecycle(d)
        check("limits: ingotd still running", d.proc.poll() is None, d.proc.returncode)
    finally:
        d.stop()
        if results.count(False) > failed_before:
            print("# ingotd log (limits):\n" + d.tail(), flush=True)


def slowloris(port, n=200, seconds=6):
    socks = []
    stop = threading.Event()

    def drip():
        for _ in range(seconds):
            if stop.wait(1):
                return
            for s in socks:
                try:
                    s.send(b"X")
                except OSError:
                    pass
    try:
        for _ in range(n):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", port))
                s.sendall(b"GET /metrics HTTP/1.1\r\n")
            except OSError:
                s.close()
                continue
            socks.append(s)
        check(f"slowloris: {n} sockets opened", len(socks) == n, len(socks))
        thread = threading.Thread(target=drip, daemon=True)
        thread.start()
        bad = []
        for i in range(10):
            r = fetch(port, timeout=5)
            copper = value(r.text(), "ingot_national_production_tonnes", **COPPER)
            if r.status != 200 or copper != COPPER_TONNES or "ingot_series" not in r.text():
                bad.append((i, repr(r)[:200]))
        check("slowloris: 10 normal scrapes all 200 with the right value", not bad, bad)
        thread.join(seconds + 5)
        check("slowloris: dripping ended", not thread.is_alive())
    finally:
        stop.set()
        for s in socks:
            s.close()


def lifecycle(d):
    r = fetch(d.port, "/-/reload")
    check("lifecycle on: GET /-/reload 405 with Allow: POST, PUT",
          r.status == 405 and r.header("allow") == "POST, PUT", r)
    for method in ("POST", "PUT"):
        r = fetch(d.port, "/-/reload", method, body=b"")
        check(f"lifecycle on: {method} /-/reload 200", r.status == 200, r)
    text = fetch(d.port).text()
    check("after a good reload: ingot_config_last_reload_successful 1",
          value(text, "ingot_config_last_reload_successful") == 1)

    good = open(d.config).read()
    d.write_config(good.replace("metals:", "metalz:", 1))
    r = fetch(d.port, "/-/reload", "POST", body=b"")
    check("broken config: POST /-/reload 500 naming path:line:column",
          r.status == 500 and re.search(re.escape(d.config) + r":\d+:\d+", r.text()) is not None, r)
    text = fetch(d.port).text()
    check("broken config: ingot_config_last_reload_successful 0",
          value(text, "ingot_config_last_reload_successful") == 0)
    check("broken config: the running config is still served",
          value(text, "ingot_national_production_tonnes", **COPPER) == COPPER_TONNES)
    check("broken config: /-/healthy 200", fetch(d.port, "/-/healthy").status == 200)
    d.write_config(good)
    r = fetch(d.port, "/-/reload", "POST", body=b"")
    text = fetch(d.port).text()
    check("fixed config: POST /-/reload 200 and the gauge back to 1",
          r.status == 200 and value(text, "ingot_config_last_reload_successful") == 1, r)


def scenario_readiness(args, tmp):
    """A feed whose server accepts and never answers, timeout 3s."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)
    hole.settimeout(0.2)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(hole.accept()[0])
            except OSError:
                pass
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{hole.getsockname()[1]}/feed.json"
    d = Ingotd(args.ingotd, tmp, "readiness", config_text(url, timeout="3s", interval="10s"))
    start = time.monotonic()
    failed_before = results.count(False)
    try:
        if not check("readiness: ingotd listens", d.listening(), d.tail()):
            return
        early = time.monotonic() - start
        r, h = fetch(d.port, "/-/ready"), fetch(d.port, "/-/ready", "HEAD")
        check("readiness: /-/ready 503 (GET and HEAD) while the feed hangs",
              r.status == 503 and h.status == 503 and early < 2.5, (r, h, f"{early:.2f}s"))
        healthy = []

        def ready():
            healthy.append(fetch(d.port, "/-/healthy", timeout=3).status)
            return fetch(d.port, "/-/ready", timeout=3).status == 200
        became = wait_until(ready, 15, 0.2)
        at = time.monotonic() - start
        check("readiness: /-/ready 200 once the 3 s timeout has passed",
              became and 2.8 <= at <= 10, f"ready={became} after {at:.2f}s")
        later = []
        for _ in range(3):
            time.sleep(0.3)
            later.append(fetch(d.port, "/-/ready").status)
            healthy.append(fetch(d.port, "/-/healthy").status)
        check("readiness: /-/ready stays 200", later == [200, 200, 200], later)
        check("readiness: /-/healthy 200 throughout", healthy and set(healthy) == {200}, healthy)
        check("readiness: the feed did connect to the silent server", len(held) >= 1, len(held))
        text = fetch(d.port).text()
        check("readiness: the timed-out fetch counted as a timeout",
              value(text, "ingot_feed_fetches_total", feed="copper_feed", result="timeout") == 1 and
              value(text, "ingot_feed_up", feed="copper_feed") == 0,
              [ln for ln in text.splitlines() if ln.startswith("ingot_feed_")])
    finally:
        d.stop()
        stop.set()
        thread.join(2)
        for s in held:
            s.close()
        hole.close()
        if results.count(False) > failed_before:
            print("# ingotd log (readiness):\n" + d.tail(), flush=True)


# ---------------------------------------------------------------------------
# Scenario 3: TLS, basic auth, mTLS, rotation


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


class Pki:
    """A CA, server certificates for 127.0.0.1 and client certificates."""

    def __init__(self, home):
        self.home = home
        os.makedirs(home)
        self.ca_key, self.ca = self.path("ca.key"), self.path("ca.crt")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
                "-subj", "/CN=ingot test CA")

    def path(self, name):
        return os.path.join(self.home, name)

    def issue(self, name, serial, usage, san=None, ca=True):
        key, csr, crt, ext = (self.path(f"{name}.{x}") for x in ("key", "csr", "crt", "ext"))
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
        with open(ext, "w") as f:
            f.write(f"extendedKeyUsage={usage}\n" + (f"subjectAltName={san}\n" if san else ""))
        if ca:
            openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                    "-set_serial", serial, "-days", "2", "-out", crt, "-extfile", ext)
        else:  # signed by its own key: from no CA ingot trusts
            openssl("x509", "-req", "-in", csr, "-signkey", key, "-set_serial", serial,
                    "-days", "2", "-out", crt, "-extfile", ext)
        return crt, key


def client_context(ca, cert=None, key=None, maximum=None, legacy=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    if legacy:  # TLS 1.1 needs SHA-1 and the old ciphers: security level 0
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    if maximum:
        ctx.maximum_version = maximum
    return ctx


def handshake(port, ctx):
    """(negotiated version, peer serial as int), or (None, "connect: error")
    when there was no TCP connection, or (None, "tls: error") when the TLS
    handshake failed on an established one."""
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        return None, f"connect: {e!r}"
    try:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.version(), int(s.getpeercert()["serialNumber"], 16)
    except (OSError, ValueError, KeyError) as e:
        return None, f"tls: {e!r}"
    finally:
        raw.close()


def refused_by_tls(reply):
    """True when a request got no HTTP answer because TLS failed, not
    because nothing listened or the server hung."""
    return reply.status is None and not any(
        s in (reply.error or "") for s in ("ConnectionRefused", "timed out", "timeout"))


def web_config(pki, cert, key, users=None, client_auth=None, headers=None):
    lines = ["tls_server_config:", f"  cert_file: {cert}", f"  key_file: {key}",
             "  min_version: TLS12"]
    if client_auth:
        lines += [f"  client_auth_type: {client_auth}", f"  client_ca_file: {pki.ca}"]
    if users:
        lines.append("basic_auth_users:")
        lines += [f'  {u}: "{h}"' for u, h in users.items()]
    if headers:
        lines += ["http_server_config:", "  headers:"]
        lines += [f"    {k}: {v}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def write_atomically(path, text_or_bytes):
    mode = "wb" if isinstance(text_or_bytes, bytes) else "w"
    with open(path + ".new", mode) as f:
        f.write(text_or_bytes)
    os.replace(path + ".new", path)


def bcrypt(password):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))


HSTS = ("Strict-Transport-Security", "max-age=31536000")


def scenario_tls(args, tmp, feed_url):
    pki = Pki(os.path.join(tmp, "pki"))
    cert, key = pki.issue("server", "0x1001", "serverAuth", "IP:127.0.0.1")
    live_cert, live_key = pki.path("live.crt"), pki.path("live.key")
    write_atomically(live_cert, open(cert).read())
    write_atomically(live_key, open(key).read())
    web = os.path.join(tmp, "web-tls.yml")
    users = {"alice": bcrypt(PASSWORD)}
    write_atomically(web, web_config(pki, live_cert, live_key, users, headers=dict([HSTS])))
    d = Ingotd(args.ingotd, tmp, "tls", config_text(feed_url), [f"--web.config.file={web}"])
    ctx = client_context(pki.ca)
    failed_before = results.count(False)
    try:
        if check("tls: ingotd listens", d.listening(), d.tail()):
            tls_checks(args, tmp, pki, d, ctx, web, users, cert, key)
    finally:
        d.stop()
        if results.count(False) > failed_before:
            print("# ingotd log (tls):\n" + d.tail(), flush=True)
    scenario_mtls(args, tmp, feed_url, pki, cert, key)


def tls_checks(args, tmp, pki, d, ctx, web, users, cert, key):
    """Scenario 3 against the running TLS + basic auth ingotd d."""
    live_cert, live_key = pki.path("live.crt"), pki.path("live.key")
    alice = basic("alice", PASSWORD)
    text = wait_for_data(d.port, ctx, alice)
    check("tls: right credentials 200 with the copper production", text is not None, d.tail())
    r = fetch(d.port, tls=ctx, headers=alice)
    check("tls: right credentials answer carries the configured header",
          r.status == 200 and r.header(HSTS[0]) == HSTS[1], r.headers)

    for label, headers in (("wrong password", basic("alice", "wrong")),
                           ("unknown user", basic("mallory", PASSWORD)),
                           ("missing", {}),
                           ("Basic !!!", {"Authorization": "Basic !!!"}),
                           ("Bearer x", {"Authorization": "Bearer x"}),
                           ("no colon", {"Authorization": "Basic " +
                                         base64.b64encode(b"alice").decode()})):
        r = fetch(d.port, tls=ctx, headers=headers)
        check(f"tls: {label} -> 401 with WWW-Authenticate: Basic realm=\"ingot\"",
              r.status == 401 and r.header("www-authenticate") == 'Basic realm="ingot"', r)
    check("tls: the configured header is on 401 answers too", r.header(HSTS[0]) == HSTS[1],
          r.headers)
    r = fetch(d.port, "/-/healthy", tls=ctx)
    check("tls: /-/healthy without credentials is 401 too", r.status == 401, r)

    for label, maximum, want in (("1.2", ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                                 ("1.3", None, "TLSv1.3")):
        version, serial = handshake(d.port, client_context(pki.ca, maximum=maximum))
        check(f"tls: TLS {label} accepted", version == want, (version, serial))
    tls11(pki, d, cert, key)

    no_stall(d.port, ctx)
    timing(d.port, ctx)
    rotation(pki, d, ctx, live_cert, live_key)

    users["bob"] = bcrypt("hunter2")
    write_atomically(web, web_config(pki, live_cert, live_key, users, headers=dict([HSTS])))
    bob = wait_until(lambda: fetch(d.port, tls=ctx, headers=basic("bob", "hunter2")).status
                     == 200, 10, 0.2)
    check("tls: a user added to the web config is accepted without a restart", bob)
    check("tls: alice still accepted after the web config changed",
          fetch(d.port, tls=ctx, headers=alice).status == 200)

    text = fetch(d.port, tls=ctx, headers=alice).text()
    v = value(text, "ingot_http_requests_total", handler="none", code="401")
    check("tls: 401 answers counted as handler=\"none\"", v is not None and v >= 6, v)

    job = ("  - job_name: ingot\n    scheme: https\n"
           f"    tls_config:\n      ca_file: {pki.ca}\n"
           f"    basic_auth:\n      username: alice\n      password: '{PASSWORD}'\n"
           f"    static_configs:\n      - targets: ['127.0.0.1:{d.port}']\n")
    prometheus_checks(args.prometheus, tmp, "prometheus tls", d.port, job,
                      lambda: fetch(d.port, tls=ctx, headers=alice).text())
    check("tls: ingotd still running", d.proc.poll() is None, d.proc.returncode)


def tls11(pki, d, cert, key):
    """TLS 1.1 refused by ingot (min_version TLS12), with a control server
    showing that this client can speak TLS 1.1 at all."""
    ctx11 = client_context(pki.ca, maximum=ssl.TLSVersion.TLSv1_1, legacy=True)
    port = free_port()
    control = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key,
         "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-www"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        version = wait_until(lambda: handshake(port, ctx11)[0], 10, 0.2)
        check("tls: control: this client speaks TLS 1.1 to openssl s_server", version == "TLSv1.1",
              handshake(port, ctx11))
    finally:
        control.kill()
        control.wait()
    before = value(fetch(d.port, tls=client_context(pki.ca), headers=basic("alice", PASSWORD))
                   .text(), "ingot_http_connections_dropped_total", reason="tls_handshake")
    version, detail = handshake(d.port, ctx11)
    check("tls: TLS 1.1 refused in the handshake (min_version TLS12)",
          version is None and str(detail).startswith("tls:"), (version, detail))
    after = value(fetch(d.port, tls=client_context(pki.ca), headers=basic("alice", PASSWORD))
                  .text(), "ingot_http_connections_dropped_total", reason="tls_handshake")
    check("tls: the refused handshake counted as a tls_handshake drop",
          before is not None and after is not None and after == before + 1, f"{before} -> {after}")


def timing(port, ctx):
    """Cached right passwords versus wrong ones (a bcrypt each), on one
    kept-alive connection so the TLS handshake is out of the picture; seen
    from the client and through ingot's own duration histogram (which ends
    when the answer is queued, so network stalls are out of it)."""
    alice = basic("alice", PASSWORD)

    def durations():
        text = fetch(port, tls=ctx, headers=alice).text()
        return {h: (value(text, "ingot_http_request_duration_seconds_sum", handler=h),
                    value(text, "ingot_http_request_duration_seconds_count", handler=h))
                for h in ("metrics", "none")}
    before = durations()
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    right, wrong, statuses = [], [], []
    try:
        for i in range(50):
            t = time.perf_counter()
            r = exchange(conn, "GET", "/metrics", alice)
            right.append(time.perf_counter() - t)
            statuses.append(r.status)
        for i in range(7):
            t = time.perf_counter()
            r = exchange(conn, "GET", "/metrics", basic("alice", f"wrong-{i}"))
            wrong.append(time.perf_counter() - t)
            statuses.append(r.status)
    except (OSError, http.client.HTTPException) as e:
        check("tls timing: requests completed", False, repr(e))
        return
    finally:
        conn.close()
    after = durations()
    check("tls timing: 50 authenticated scrapes 200, 7 wrong passwords 401",
          statuses == [200] * 50 + [401] * 7, statuses)
    cached, bad = statistics.median(right[1:]), statistics.median(wrong)
    check("tls timing: median cached right-password request >= 5x faster than a wrong one "
          "(client side)", cached * 5 <= bad,
          f"right {cached * 1000:.2f} ms, wrong {bad * 1000:.2f} ms")
    try:
        (ms0, mc0), (ns0, nc0) = before["metrics"], before["none"]
        (ms1, mc1), (ns1, nc1) = after["metrics"], after["none"]
        nc0, ns0 = nc0 or 0, ns0 or 0  # no 401 before: no series yet
        per_right, per_wrong = (ms1 - ms0) / (mc1 - mc0), (ns1 - ns0) / (nc1 - nc0)
        ok = mc1 - mc0 == 51 and nc1 - nc0 == 7 and per_right * 5 <= per_wrong
        detail = (f"{mc1 - mc0} right in {per_right * 1000:.3f} ms each, "
                  f"{nc1 - nc0} wrong in {per_wrong * 1000:.3f} ms each")
    except (TypeError, ZeroDivisionError) as e:
        ok, detail = False, f"{before} -> {after}: {e!r}"
    check("tls timing: ingot's histogram: a cached right password >= 5x cheaper than a wrong one "
          "(server side)", ok, detail)


def read_answer(s):
    """Reads one HTTP answer with a Content-Length from socket s; returns
    (seconds to its first byte, seconds from the first byte to the last)."""
    start = time.perf_counter()
    data, first, need = b"", None, None
    while need is None or len(data) < need:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-answer")
        if first is None:
            first = time.perf_counter()
        data += chunk
        if need is None and b"\r\n\r\n" in data:
            head = data.split(b"\r\n\r\n", 1)[0]
            m = re.search(rb"(?im)^content-length: *(\d+)", head)
            need = len(head) + 4 + int(m.group(1)) if m else len(data)
    return first - start, time.perf_counter() - first


def no_stall(port, ctx):
    """An HTTPS answer's body must follow its headers at once. Without
    TCP_NODELAY, a body written after the headers waits for the client's
    delayed ACK (~40 ms): the gap then dwarfs the time to the first byte."""
    request = b"GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\n" + \
        b"".join(f"{k}: {v}\r\n".encode() for k, v in basic("alice", PASSWORD).items()) + b"\r\n"
    firsts, gaps = [], []
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                for _ in range(12):
                    s.sendall(request)
                    first, gap = read_answer(s)
                    firsts.append(first)
                    gaps.append(gap)
    except OSError as e:
        check("tls: answers on a kept-alive connection", False, repr(e))
        return
    first, gap = statistics.median(firsts[2:]), statistics.median(gaps[2:])
    check("tls: an answer's body is not held back after its headers (no Nagle/delayed-ACK "
          "stall): median gap <= 3x median time to first byte", gap <= 3 * first,
          f"first byte after {first * 1000:.3f} ms, rest {gap * 1000:.3f} ms later")


def rotation(pki, d, ctx, live_cert, live_key):
    version, serial = handshake(d.port, ctx)
    check("tls rotation: the first certificate (serial 0x1001) is served", serial == 0x1001, serial)
    cert2, key2 = pki.issue("server2", "0x2002", "serverAuth", "IP:127.0.0.1")
    pid = d.proc.pid
    write_atomically(live_key, open(key2).read())
    write_atomically(live_cert, open(cert2).read())
    seen = wait_until(lambda: handshake(d.port, ctx)[1] == 0x2002, 10, 0.2)
    check("tls rotation: a new connection gets the new certificate (serial 0x2002)", seen,
          handshake(d.port, ctx))
    r = fetch(d.port, tls=ctx, headers=basic("alice", PASSWORD))
    check("tls rotation: scrapes work on the new certificate", r.status == 200, r)
    check("tls rotation: without a restart", d.proc.poll() is None and d.proc.pid == pid)


def scenario_mtls(args, tmp, feed_url, pki, cert, key):
    client_cert, client_key = pki.issue("scraper", "0x3003", "clientAuth")
    rogue_cert, rogue_key = pki.issue("rogue", "0x4004", "clientAuth", ca=False)
    web = os.path.join(tmp, "web-mtls.yml")
    write_atomically(web, web_config(pki, cert, key, client_auth="RequireAndVerifyClientCert"))
    d = Ingotd(args.ingotd, tmp, "mtls", config_text(feed_url), [f"--web.config.file={web}"])
    with_cert = client_context(pki.ca, client_cert, client_key)
    failed_before = results.count(False)
    try:
        if not check("mtls: ingotd listens", d.listening(), d.tail()):
            return
        text = wait_for_data(d.port, with_cert)
        check("mtls: with the CA's client certificate 200 and the copper production",
              text is not None)
        before = value(fetch(d.port, tls=with_cert).text(), "ingot_http_connections_dropped_total",
                       reason="tls_handshake")
        for label, ctx in (("without a client certificate", client_context(pki.ca)),
                           ("with a certificate from another CA",
                            client_context(pki.ca, rogue_cert, rogue_key))):
            r = fetch(d.port, tls=ctx, timeout=5)
            check(f"mtls: {label}: refused by TLS (no HTTP answer)", refused_by_tls(r), r)
        after = value(fetch(d.port, tls=with_cert).text(), "ingot_http_connections_dropped_total",
                      reason="tls_handshake")
        check("mtls: the 2 refused handshakes counted as 2 tls_handshake drops",
              before is not None and after == before + 2, f"{before} -> {after}")
    finally:
        d.stop()
        if results.count(False) > failed_before:
            print("# ingotd log (mtls):\n" + d.tail(), flush=True)


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingotd", required=True)
    ap.add_argument("--promtool", required=True)
    ap.add_argument("--prometheus", required=True)
    args = ap.parse_args()
    args.ingotd = os.path.abspath(args.ingotd)

    tmp = tempfile.mkdtemp(prefix="ingot-endpoint-")
    feed = os.path.join(tmp, "copper.json")
    with open(feed, "w") as f:
        json.dump({"schema": "ingot.feed.v1", "plants": [{"id": "kz-a", "records": [
            {"metal": "copper", "period": "2025-01", "production_tonnes": COPPER_TONNES}]}]}, f)
    feed_url = "file://" + feed

    for scenario, scenario_args in ((scenario_plain, (feed_url,)),
                                    (scenario_limits, (feed_url,)),
                                    (scenario_readiness, ()),
                                    (scenario_tls, (feed_url,))):
        try:
            scenario(args, tmp, *scenario_args)
        except Exception:  # a scenario that crashes is a failure, not an abort
            check(f"{scenario.__name__} ran to the end", False, traceback.format_exc())
    failed = results.count(False)
    if failed:
        print(f"# configs, logs and certificates kept in {tmp}", flush=True)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
