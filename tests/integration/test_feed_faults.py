#!/usr/bin/python3
"""ingotd against a misbehaving feed server, scraped throughout.

Usage:
    python3 test_feed_faults.py --ingotd build/ingotd --source-dir .

Standard library only, plus the openssl CLI for certificates. Everything
listens on 127.0.0.1 on free ports, every wait is bounded, every process and
thread started here is stopped in a `finally`. ingotd runs with one feed per
case (1-2 s intervals and timeouts, backoffs from 200 ms), `state_dir` in a
temporary directory and --time.now=2025-07-01T00:00:00Z.

The feed server plays, one URL path per feed:
  good      a JSON v1 document (plant kz-good, 1000 t of copper in 2025-01)
  cond      ETag and Last-Modified; 304 when If-None-Match or
            If-Modified-Since matches exactly
  e500      500 with an error page          e404    404
  biglen    200 announcing Content-Length 1 GB, then a few bytes
  endless   200, chunked, 64 KiB chunks without end
  bomb      gzip of 1 GB of zeros made on the fly (when gzip is accepted)
  trickle   200, Content-Length 100, one byte per second
  hang      (its own listener) accepts and never reads nor answers
  reset     200, Content-Length 10000, 100 bytes, then a TCP reset
  gopher    302 to gopher://
  empty     200 with an empty body
  flaky     a document, then six 503s, then the document again
  bearer    the document only for "Authorization: Bearer <token>" (the
            token file is rotated while ingotd runs)
  basic     the document only for the exact Basic credentials
  tls, tls_name, tls_untrusted, insecure, mtls, mtls_nocert: HTTPS servers
            (python ssl) with an openssl-made CA: a certificate for
            127.0.0.1; one for plant.example only (tls_config.server_name);
            a self-signed one (refused by default, taken with
            insecure_skip_verify); one requiring a client certificate
  token_missing  bearer_token_file names a file that does not exist

Checked: each feed's ingot_feed_fetches_total grows for exactly the expected
result and no other failure result; ingot_feed_up; the documents' values; a
304 does not re-ingest; the conditional headers are exactly the validators
of the last 200; the flaky feed's retries follow the doubling backoff
(bounded, beyond its interval) and it recovers by itself with its data kept
throughout; the secrets appear neither in ingotd's log nor in /metrics;
ingotd's peak RSS (VmHWM) stays bounded through the bomb and the endless
body; and a thread scrapes /metrics all along: every scrape answers 200,
every line parses, counters and the good feed's values never go back.
The last line is "N passed, M failed".
"""

import argparse
import base64
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import zlib

from harness import check, free_port, summary, wait_until

NOW = "2025-07-01T00:00:00Z"
MIB = 1 << 20
RESULTS = ("ok", "not_modified", "timeout", "connect_error", "http_4xx", "http_5xx",
           "tls_error", "body_too_large", "parse_error")
FLAKY_FAILURES = 6
FLAKY_MIN_BACKOFF, FLAKY_MAX_BACKOFF = 0.2, 1.6
RSS_LIMIT_MB = 100
# Feeds fetched every second; the others every 2 s with 2 s timeouts.
FAST = {"interval": "1s", "timeout": "1s", "connect_timeout": "1s"}


def bomb_blocks():
    """The gzip header with the first compressed MiB of zeros, and the
    compressed MiB that follows it, identical for every later MiB."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MIB)
    first = z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH)
    return first, again


BOMB = bomb_blocks()


def document(plant, tonnes):
    return json.dumps({"schema": "ingot.feed.v1", "plants": [{"id": plant, "records": [
        {"metal": "copper", "period": "2025-01", "production_tonnes": tonnes}]}]}).encode()


# Each feed serving a document: its plant and tonnes.
DOCS = {"good": ("kz-good", 1000), "cond": ("kz-cond", 500), "flaky": ("kz-flaky", 300),
        "bearer": ("kz-bearer", 11), "basic": ("kz-basic", 12), "tls": ("kz-tls", 21),
        "tls_name": ("kz-tls-name", 22), "insecure": ("kz-insecure", 23),
        "mtls": ("kz-mtls", 24)}


# --------------------------------------------------------------------------
# The misbehaving feed server


class Faults:
    """What the handlers share with the test: secrets, counters, what was seen."""

    def __init__(self, token, username, password):
        self.lock = threading.Lock()
        self.tokens = {token}
        self.basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.etag = '"cond-v1"'
        self.last_modified = "Tue, 01 Jul 2025 00:00:00 GMT"
        self.requests = {}       # path -> count
        self.cond_headers = []   # (If-None-Match, If-Modified-Since) per /cond request
        self.flaky_times = []    # monotonic time of each /flaky request
        self.bomb_encodings = [] # Accept-Encoding of each /bomb request
        self.bad_auth = []       # Authorization headers refused
        self.sni = []            # server names the TLS servers saw
        self.hosts = []          # Host headers on tls_name

    def count(self, path):
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            return self.requests[path]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    faults = None  # set per server class

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def doc(self, feed):
        self.send(200, document(*DOCS[feed]), [("Content-Type", "application/json")])

    def do_GET(self):
        f = self.faults
        path = self.path.split("?")[0].strip("/")
        n = f.count(path)
        try:
            getattr(self, "play_" + path, self.play_missing)(n)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def play_missing(self, n):
        self.send(404, b"no such case\n")

    def play_good(self, n):
        self.doc("good")

    def play_cond(self, n):
        f = self.faults
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        with f.lock:
            f.cond_headers.append((inm, ims))
        validators = [("ETag", f.etag), ("Last-Modified", f.last_modified)]
        if inm == f.etag or ims == f.last_modified:
            self.send_response(304)
            for name, value in validators:
                self.send_header(name, value)
            self.end_headers()
        else:
            self.send(200, document(*DOCS["cond"]), validators)

    def play_e500(self, n):
        self.send(500, b"<html>internal error</html>\n" * 100)

    def play_e404(self, n):
        self.send(404, b"not found\n")

    def play_biglen(self, n):
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 30))
        self.end_headers()
        self.wfile.write(b"{" * 1000)
        self.wfile.flush()
        time.sleep(1)
        self.close_connection = True

    def play_endless(self, n):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"[" * 65536
        frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.wfile.write(frame)
        self.close_connection = True

    def play_bomb(self, n):
        f = self.faults
        accept = self.headers.get("Accept-Encoding", "")
        with f.lock:
            f.bomb_encodings.append(accept)
        if "gzip" not in accept:
            self.send(406, b"gzip only\n")
            return
        # 1 GiB of zeros as gzip, about 1 MiB on the wire: the first MiB, then
        # the same (full-flushed, so byte-identical) compressed MiB again.
        first, again = BOMB
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(first)
        for _ in range(1023):
            self.wfile.write(again)
        # Reached only by a client that inflates it all: an empty final
        # block, then the CRC-32 and size of 1 GiB of zeros.
        crc, zeros = 0, bytes(MIB)
        for _ in range(1024):
            crc = zlib.crc32(zeros, crc)
        self.wfile.write(b"\x03\x00" + struct.pack("<II", crc, (1024 * MIB) & 0xffffffff))
        self.close_connection = True

    def play_trickle(self, n):
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(100):
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(1)

    def play_reset(self, n):
        self.send_response(200)
        self.send_header("Content-Length", "10000")
        self.end_headers()
        self.wfile.write(b"{" * 100)
        self.wfile.flush()
        time.sleep(0.05)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def play_gopher(self, n):
        self.send(302, b"", [("Location", "gopher://127.0.0.1:70/1feed")])

    def play_empty(self, n):
        self.send(200, b"", [("Content-Type", "application/json")])

    def play_flaky(self, n):
        with self.faults.lock:
            self.faults.flaky_times.append(time.monotonic())
        if 2 <= n <= 1 + FLAKY_FAILURES:
            self.send(503, b"maintenance\n")
        else:
            self.doc("flaky")

    def authorized(self, want):
        got = self.headers.get("Authorization")
        if got in want:
            return True
        with self.faults.lock:
            self.faults.bad_auth.append(got)
        self.send(401, b"unauthorized\n", [("WWW-Authenticate", 'Bearer realm="plant"')])
        return False

    def play_bearer(self, n):
        with self.faults.lock:
            want = {f"Bearer {t}" for t in self.faults.tokens}
        if self.authorized(want):
            self.doc("bearer")

    def play_basic(self, n):
        if self.authorized({self.faults.basic}):
            self.doc("basic")

    def play_tls(self, n):
        self.doc("tls")

    def play_tls_name(self, n):
        with self.faults.lock:
            self.faults.hosts.append(self.headers.get("Host"))
        self.doc("tls_name")

    def play_insecure(self, n):
        self.doc("insecure")

    def play_mtls(self, n):
        self.doc("mtls")


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # resets, broken pipes and refused handshakes are the point here


def serve(faults, context=None):
    """A threaded server on a free port (TLS with context); returns it, serving."""
    handler = type("H", (Handler,), {"faults": faults})
    server = QuietServer(("127.0.0.1", 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                     daemon=True).start()
    return server


class Hang:
    """Accepts connections and never reads from nor writes to them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stopped = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.stopped = True
        self.sock.close()
        for c in self.held:
            c.close()


# --------------------------------------------------------------------------
# Certificates


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


class Pki:
    """A CA, server certificates and a client certificate, made by openssl."""

    def __init__(self, home):
        self.home = home
        os.makedirs(home)
        self.ca_key, self.ca = self.path("ca.key"), self.path("ca.crt")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
                "-subj", "/CN=ingot feed test CA")

    def path(self, name):
        return os.path.join(self.home, name)

    def issue(self, name, usage, san=None, self_signed=False):
        key, csr, crt, ext = (self.path(f"{name}.{x}") for x in ("key", "csr", "crt", "ext"))
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
        with open(ext, "w") as f:
            f.write(f"extendedKeyUsage={usage}\n" + (f"subjectAltName={san}\n" if san else ""))
        if self_signed:
            openssl("x509", "-req", "-in", csr, "-signkey", key, "-days", "2", "-out", crt,
                    "-extfile", ext)
        else:
            openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                    "-set_serial", str(abs(hash(name)) % 100000 + 2), "-days", "2", "-out", crt,
                    "-extfile", ext)
        return crt, key


def server_context(faults, cert, key, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)

    def sni(sock, name, context):
        with faults.lock:
            faults.sni.append(name)
    ctx.sni_callback = sni
    return ctx


# --------------------------------------------------------------------------
# Scraping


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (\S+)$')


def parse(text):
    """{(name, labels): value} of a text exposition, or a str saying what is wrong."""
    out = {}
    if not text.endswith("\n"):
        return "no final newline"
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = SAMPLE.match(line)
        if not m:
            return f"bad line: {line!r}"
        try:
            value = float(m.group(3))
        except ValueError:
            return f"bad value: {line!r}"
        out[(m.group(1), m.group(2) or "")] = value
    return out


def fetch_metrics(port):
    """(status, text) of one scrape; status 0 when it did not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError as e:
        return 0, str(e)


def key(name, **labels):
    return (name, "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
            if labels else "")


class Scraper:
    """Scrapes /metrics all along; remembers the first problems and the last
    parsed scrape. Counters (..._total) never go back, and a watched series,
    once it showed its expected value, keeps it in every later scrape."""

    def __init__(self, port, watched):
        self.port = port
        self.scrapes = 0
        self.problems = []
        self.last = {}
        self.texts = []  # the distinct scrapes, searched for secrets at the end
        self.stop = threading.Event()
        self.watched = watched  # key -> expected value
        self.armed = set()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def problem(self, what):
        if len(self.problems) < 10:
            self.problems.append(what)

    def run(self):
        while not self.stop.is_set():
            status, text = fetch_metrics(self.port)
            self.scrapes += 1
            if status != 200:
                self.problem(f"scrape {self.scrapes}: status {status} {text[:100]}")
                time.sleep(0.1)
                continue
            parsed = parse(text)
            if isinstance(parsed, str):
                self.problem(f"scrape {self.scrapes}: {parsed}")
                continue
            for k, v in parsed.items():
                before = self.last.get(k)
                if before is not None and k[0].endswith("_total") and v < before:
                    self.problem(f"{k} went back from {before} to {v}")
            for k, want in self.watched.items():
                if parsed.get(k) == want:
                    self.armed.add(k)
                elif k in self.armed:
                    self.problem(f"scrape {self.scrapes}: {k} = {parsed.get(k)}, was {want}")
            self.last = parsed
            if not self.texts or self.texts[-1] != text:
                self.texts.append(text)
                del self.texts[:-200]
            time.sleep(0.05)

    def value(self, name, **labels):
        return self.last.get(key(name, **labels))

    def fetches(self, feed):
        return {r: self.value("ingot_feed_fetches_total", feed=feed, result=r) or 0
                for r in RESULTS}


# --------------------------------------------------------------------------
# The test


def feed_yaml(name, url, interval="2s", timeout="2s", connect_timeout="2s", min_backoff="1s",
              max_backoff="2s", max_body=None, extra=()):
    plant = DOCS.get(name, (f"kz-{name.replace('_', '-')}", 0))[0]
    lines = [f"  - name: {name}", f"    url: {url}", "    format: json",
             f"    interval: {interval}", f"    timeout: {timeout}",
             f"    connect_timeout: {connect_timeout}", f"    min_backoff: {min_backoff}",
             f"    max_backoff: {max_backoff}", f"    plants: [{plant}]"]
    if max_body:
        lines.append(f"    max_body_bytes: {max_body}")
    return lines + [f"    {x}" for x in extra]


def vm_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1)) / 1024 if m else None


def run(args, tmp):
    token = "tok-" + secrets.token_hex(16)
    token2 = "tok-" + secrets.token_hex(16)
    password = "pw-" + secrets.token_hex(16)
    faults = Faults(token, "ingot", password)
    secrets_list = [token, token2, password, faults.basic.split()[1]]

    pki = Pki(os.path.join(tmp, "pki"))
    srv_crt, srv_key = pki.issue("server", "serverAuth", "IP:127.0.0.1")
    named_crt, named_key = pki.issue("named", "serverAuth", "DNS:plant.example")
    self_crt, self_key = pki.issue("selfsigned", "serverAuth", "IP:127.0.0.1", self_signed=True)
    cli_crt, cli_key = pki.issue("client", "clientAuth")

    token_file = os.path.join(tmp, "bearer.token")
    with open(token_file, "w") as f:
        f.write(token + "\n")
    password_file = os.path.join(tmp, "basic.password")
    with open(password_file, "w") as f:
        f.write(password + "\n")

    servers = [serve(faults)]
    plain = servers[0].server_address[1]
    tls_ports = {}
    for name, ctx in (("tls", server_context(faults, srv_crt, srv_key)),
                      ("named", server_context(faults, named_crt, named_key)),
                      ("self", server_context(faults, self_crt, self_key)),
                      ("mtls", server_context(faults, srv_crt, srv_key, client_ca=pki.ca))):
        servers.append(serve(faults, ctx))
        tls_ports[name] = servers[-1].server_address[1]
    hang = Hang()

    base = f"http://127.0.0.1:{plain}"
    ca = [f"tls_config: {{ca_file: {pki.ca}}}"]
    feeds = (
        feed_yaml("good", f"{base}/good", **FAST)
        + feed_yaml("cond", f"{base}/cond", **FAST)
        + feed_yaml("e500", f"{base}/e500")
        + feed_yaml("e404", f"{base}/e404")
        + feed_yaml("biglen", f"{base}/biglen", max_body=MIB)
        + feed_yaml("endless", f"{base}/endless", max_body=MIB)
        + feed_yaml("bomb", f"{base}/bomb", max_body=MIB)
        + feed_yaml("trickle", f"{base}/trickle", connect_timeout="1s")
        + feed_yaml("hang", f"http://127.0.0.1:{hang.port}/hang", connect_timeout="1s")
        + feed_yaml("reset", f"{base}/reset")
        + feed_yaml("gopher", f"{base}/gopher")
        + feed_yaml("empty", f"{base}/empty")
        + feed_yaml("flaky", f"{base}/flaky", min_backoff=f"{int(FLAKY_MIN_BACKOFF * 1000)}ms",
                    max_backoff=f"{int(FLAKY_MAX_BACKOFF * 1000)}ms", **FAST)
        + feed_yaml("bearer", f"{base}/bearer", extra=[f"bearer_token_file: {token_file}",
                                                       "headers: {X-Api-Version: \"2\"}"])
        + feed_yaml("basic", f"{base}/basic",
                    extra=[f"basic_auth: {{username: ingot, password_file: {password_file}}}"])
        + feed_yaml("tls", f"https://127.0.0.1:{tls_ports['tls']}/tls", extra=ca)
        + feed_yaml("tls_name", f"https://127.0.0.1:{tls_ports['named']}/tls_name",
                    extra=[f"tls_config: {{ca_file: {pki.ca}, server_name: plant.example}}"])
        + feed_yaml("tls_untrusted", f"https://127.0.0.1:{tls_ports['self']}/tls")
        + feed_yaml("insecure", f"https://127.0.0.1:{tls_ports['self']}/insecure",
                    extra=["tls_config: {insecure_skip_verify: true}"])
        + feed_yaml("mtls", f"https://127.0.0.1:{tls_ports['mtls']}/mtls",
                    extra=[f"tls_config: {{ca_file: {pki.ca}, cert_file: {cli_crt}, "
                           f"key_file: {cli_key}}}"])
        + feed_yaml("mtls_nocert", f"https://127.0.0.1:{tls_ports['mtls']}/mtls", extra=ca)
        + feed_yaml("token_missing", f"{base}/bearer",
                    extra=[f"bearer_token_file: {os.path.join(tmp, 'no-such.token')}"])
    )
    port = free_port()
    config = os.path.join(tmp, "ingot.yaml")
    with open(config, "w") as f:
        f.write("\n".join([f"state_dir: {os.path.join(tmp, 'state')}", "metals: [copper]",
                           "feeds:"] + feeds) + "\n")
    log_path = os.path.join(tmp, "ingotd.log")
    log = open(log_path, "w")
    started = time.monotonic()
    # Under AddressSanitizer freed blocks sit in a quarantine (256 MB by
    # default) that would count in the peak RSS; keep it small here.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                 "quarantine_size_mb=16"]))
    daemon = subprocess.Popen([args.ingotd, f"--config.file={config}",
                               f"--web.listen-address=127.0.0.1:{port}", f"--time.now={NOW}",
                               "--log.level=debug"], stderr=log, env=env)
    scraper = None
    try:
        up = wait_until(lambda: fetch_metrics(port)[0] == 200, 10)
        check("ingotd serves /metrics", up, open(log_path).read()[-2000:])
        production = "ingot_plant_production_tonnes"
        scraper = Scraper(port, {
            key(production, plant="kz-good", metal="copper", year="2025"): 1000,
            key("ingot_feed_up", feed="good"): 1,
            # Data accepted before the flaky feed's failures stays through them.
            key(production, plant="kz-flaky", metal="copper", year="2025"): 300,
            key(production, plant="kz-cond", metal="copper", year="2025"): 500,
        })

        expected = {"good": "ok", "e500": "http_5xx", "e404": "http_4xx",
                    "biglen": "body_too_large", "endless": "body_too_large",
                    "bomb": "body_too_large", "trickle": "timeout", "hang": "timeout",
                    "reset": "connect_error", "gopher": "http_4xx", "empty": "parse_error",
                    "bearer": "ok", "basic": "ok", "tls": "ok", "tls_name": "ok",
                    "tls_untrusted": "tls_error", "insecure": "ok", "mtls": "ok",
                    "mtls_nocert": "tls_error", "token_missing": "connect_error"}

        # Every feed's expected result counted at least twice (so it keeps
        # being retried), the flaky feed recovered, the conditional feed had
        # its 304s.
        def settled():
            if not all(scraper.fetches(f)[r] >= 2 for f, r in expected.items()):
                return False
            flaky = scraper.fetches("flaky")
            return flaky["ok"] >= 2 and scraper.fetches("cond")["not_modified"] >= 3
        done = wait_until(settled, 40, 0.2)
        elapsed = time.monotonic() - started
        print(f"     settled after {elapsed:.1f}s, {scraper.scrapes} scrapes", flush=True)
        check("every feed reached its expected result twice (and flaky and cond theirs)", done,
              {f: {r: v for r, v in scraper.fetches(f).items() if v}
               for f in list(expected) + ["flaky", "cond"]})

        for feed, result in expected.items():
            counts = scraper.fetches(feed)
            others = {r: v for r, v in counts.items() if v and r != result}
            # A feed that succeeds may count a first failure only if nothing
            # else is expected; none is tolerated here.
            check(f"{feed}: ingot_feed_fetches_total{{result=\"{result}\"}} = "
                  f"{counts[result]:.0f} >= 2, no other result", counts[result] >= 2 and not others,
                  counts)
            up_value = scraper.value("ingot_feed_up", feed=feed)
            want_up = 1 if result == "ok" else 0
            check(f"{feed}: ingot_feed_up = {want_up}", up_value == want_up, up_value)

        # Documents read through plain HTTP, auth and TLS, with their values.
        for feed, (plant, tonnes) in DOCS.items():
            got = scraper.value("ingot_plant_production_tonnes", plant=plant, metal="copper",
                                year="2025")
            check(f"{feed}: {plant} production 2025 = {tonnes}", got == tonnes, got)

        # Conditional requests.
        cond = scraper.fetches("cond")
        accepted = scraper.value("ingot_feed_records_accepted_total", feed="cond")
        check(f"cond: 304s counted as not_modified ({cond['not_modified']:.0f}), one ok",
              cond["ok"] == 1 and cond["not_modified"] >= 3, cond)
        check("cond: a 304 does not re-ingest (records accepted = 1, the one 200's record)",
              accepted == 1, accepted)
        check("cond: up and last_success moved on with the 304s",
              scraper.value("ingot_feed_up", feed="cond") == 1 and
              (scraper.value("ingot_feed_last_success_timestamp_seconds", feed="cond") or 0) >
              time.time() - 3)
        with faults.lock:
            headers = list(faults.cond_headers)
        check("cond: the first request is unconditional", headers and headers[0] == (None, None),
              headers[:2])
        check("cond: every later request sends exactly the ETag and Last-Modified of the 200",
              len(headers) >= 4 and all(h == (faults.etag, faults.last_modified)
                                        for h in headers[1:]), headers[:5])

        # Backoff of the flaky feed: one success, six failures, then back
        # (and one more fetch an interval later).
        wait_until(lambda: len(faults.flaky_times) >= FLAKY_FAILURES + 3, 4)
        with faults.lock:
            times = list(faults.flaky_times)
        gaps = [b - a for a, b in zip(times, times[1:])]
        print("     flaky request gaps: " + " ".join(f"{g:.2f}" for g in gaps[:9]), flush=True)
        want = [min(FLAKY_MAX_BACKOFF, FLAKY_MIN_BACKOFF * 2 ** k) for k in range(FLAKY_FAILURES)]
        # gaps[0]: interval after the first success; gaps[1..6]: after each failure.
        backoff_ok = len(gaps) >= 1 + FLAKY_FAILURES and all(
            0.9 * w - 0.05 <= g <= 1.1 * w + 0.35 for g, w in zip(gaps[1:], want))
        check("flaky: retries after 0.2, 0.4, 0.8, 1.6, 1.6, 1.6 s (+-10 %: doubling, capped "
              "at max_backoff, beyond the 1 s interval)", backoff_ok,
              [f"{g:.2f}" for g in gaps[1:1 + FLAKY_FAILURES]])
        check("flaky: after recovering, back to the 1 s interval (+ up to 10 %)",
              len(gaps) >= 2 + FLAKY_FAILURES and 0.95 <= gaps[1 + FLAKY_FAILURES] <= 1.45,
              [f"{g:.2f}" for g in gaps[1 + FLAKY_FAILURES:]])
        flaky = scraper.fetches("flaky")
        check(f"flaky: {FLAKY_FAILURES} http_5xx, up again, consecutive failures 0",
              flaky["http_5xx"] == FLAKY_FAILURES and
              scraper.value("ingot_feed_up", feed="flaky") == 1 and
              scraper.value("ingot_feed_consecutive_failures", feed="flaky") == 0, flaky)
        e500 = scraper.value("ingot_feed_consecutive_failures", feed="e500")
        check("e500: ingot_feed_consecutive_failures counts its failures in a row",
              e500 is not None and e500 == scraper.fetches("e500")["http_5xx"], e500)

        # Rotate the bearer token: the new file is read at the next fetch.
        with faults.lock:
            faults.tokens.add(token2)
        with open(token_file + ".new", "w") as f:
            f.write(token2 + "\n")
        os.rename(token_file + ".new", token_file)
        time.sleep(1.5)
        with faults.lock:
            faults.tokens.discard(token)
        before = scraper.fetches("bearer")["ok"]
        rotated = wait_until(lambda: scraper.fetches("bearer")["ok"] >= before + 2, 6)
        check("bearer: a rotated token file is used from the next fetch on",
              rotated and scraper.fetches("bearer")["http_4xx"] == 0, scraper.fetches("bearer"))
        with faults.lock:
            bad_auth = list(faults.bad_auth)
        check("bearer, basic: the server never saw a wrong Authorization (token_missing "
              "sends none)", all(a is None for a in bad_auth), bad_auth[:3])

        # TLS server_name: SNI and verification by plant.example, Host the URL's.
        with faults.lock:
            sni, hosts = list(faults.sni), list(faults.hosts)
        check("tls_name: SNI plant.example", "plant.example" in sni, sni[:5])
        check("tls_name: Host header is the URL's host and port",
              hosts and all(h == f"127.0.0.1:{tls_ports['named']}" for h in hosts), hosts[:3])
        with faults.lock:
            encodings = list(faults.bomb_encodings)
        check("bomb: ingotd asks for gzip", encodings and all("gzip" in e for e in encodings),
              encodings[:2])

        # Memory through the bomb and the endless body.
        hwm = vm_hwm_mb(daemon.pid)
        check(f"peak RSS (VmHWM) {hwm:.0f} MB < {RSS_LIMIT_MB} MB", hwm and hwm < RSS_LIMIT_MB,
              hwm)

        # The scraper's verdict.
        scraper.stop.set()
        scraper.thread.join(10)
        check(f"{scraper.scrapes} scrapes: every one 200 and every line sane, counters never "
              f"back; good, flaky and cond values kept once seen",
              scraper.scrapes > 50 and not scraper.problems and
              len(scraper.armed) == len(scraper.watched), scraper.problems)

        text = open(log_path).read()
        leaked = [s for s in secrets_list if s in text or any(s in t for t in scraper.texts)]
        check("no token, password or Basic credential in the log or in any scrape",
              not leaked, leaked)
        check("log: a failure line names the result and the retry",
              re.search(r"feed down \(http_5xx\): HTTP 500; failure 1 in a row, retry in", text),
              text[-1500:])
        check("log: the missing token file is named, with the reason",
              re.search(r"bearer_token_file \S*no-such\.token: No such file or directory", text))
        check("log: a server sending nothing, or a byte a second, is dropped as stalled",
              re.search(r"feed=trickle .*stalled: under 100 bytes/s for 1s", text) and
              re.search(r"feed=hang .*stalled: under 100 bytes/s for 1s", text))
        check("log: body_too_large says the limit",
              "body exceeds max_body_bytes (1048576 bytes)" in text)
        check("log: the flaky feed's recovery", "feed up again after 6 failed fetches" in text)

        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        check("SIGTERM exits 0 with fetches in flight", rc == 0, rc)
    finally:
        if scraper:
            scraper.stop.set()
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        log.close()
        for s in servers:
            s.shutdown()
            s.server_close()
        hang.close()
    print(f"     ran {time.monotonic() - started:.1f}s", flush=True)
    return log_path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingotd", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    args.ingotd = os.path.abspath(args.ingotd)
    tmp = tempfile.mkdtemp(prefix="ingot-feed-faults-")
    log_path = None
    try:
        log_path = run(args, tmp)
    except Exception:
        check("the scenario ran to the end", False, traceback.format_exc())
    rc = summary()
    if rc:
        if log_path and os.path.exists(log_path):
            print(open(log_path).read()[-4000:])
        print(f"# config, log and certificates kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
