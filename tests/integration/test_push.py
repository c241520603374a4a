#!/usr/bin/python3
"""Integration test of push ingestion (POST /api/v1/ingest) and the data
quality families.

Usage:
    python3 test_push.py --ingotd build/ingotd --source-dir .

Debian 12's /usr/bin/python3 standard library only, plus the openssl CLI for
one self-signed certificate. ingotd runs with two push sources and no feed,
state_dir in a temporary directory, on a free 127.0.0.1 port, with
--time.now=2025-07-01T00:00:00Z; every request goes through http.client.
push_a may write kz-a and kz-c, push_b kz-b. Covered:
  1. Before any push: the push sources in the feed families that are not
     about fetching (records accepted, every rejection reason at 0) and in
     none of the fetch ones; no last success; /-/ready 200 (no feed).
  2. A JSON push by push_a: 202 with exact counts and the rejections' indices
     and reasons (future_period, plant_not_allowed for kz-b, unknown_metal);
     national production, plants reporting, CO2 intensity and emissions
     coverage equal hand-computed values; counters per reason; last success.
  3. The same document again: 202, nothing counted twice in the totals (the
     accepted counter counts deliveries).
  4. A CSV push by push_b (charset parameter): 202, its foreign row rejected
     plant_not_allowed at index 2; totals and data quality follow.
  5. A restatement by push_a replaces the value (the merge keeps its CO2).
  6. 403: push_b sending only kz-a's records; nothing applied, its
     plant_not_allowed counter grows, its last success does not move.
  7. 400 (broken JSON, a valid document cut short, broken CSV): the parser's
     line in the body; values unchanged.
  8. 401 (no Authorization, unknown token, "Bearer", "Bearer a b", Basic)
     with WWW-Authenticate: Bearer realm="ingot"; 415 (text/plain, none);
     413 (a body over web.max_request_body_bytes, Content-Length and
     chunked); 405 with Allow: POST for GET, HEAD and PUT; values unchanged;
     ingot_http_requests_total{handler="ingest"} counts each answer.
  9. A token file rewritten: the old token 401, the new one 202, no reload.
 10. Staleness: ingot_plant_stale 0 for pushed plants; after a restart on
     the same state_dir, 1 for every restored plant until its source
     pushes again, then 0 for push_a's plants and still 1 for kz-b (push_b
     never pushed since the restart); restored totals unchanged.
 11. With a web config (TLS and basic_auth_users): /metrics needs the
     password (401 Basic without), the push needs its bearer token only
     (202 over TLS without the password; 401 Bearer with the password but no
     token).
The last line is "N passed, M failed".
"""

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import crypt  # noqa: E402  (deprecated in 3.11, still shipped by Debian 12)

from harness import check, free_port, results, summary, wait_until  # noqa: E402

NOW = "2025-07-01T00:00:00Z"
TOKEN_A = "token-aaaa-0123456789"
TOKEN_B = "token-bbbb-9876543210"
JSON_CT = "application/json"
CSV_CT = "text/csv; charset=utf-8"
BODY_LIMIT = 4096
REASONS = ("invalid_plant", "plant_not_allowed", "unknown_metal", "invalid_period",
           "future_period", "invalid_value", "negative_value", "recycled_exceeds_waste",
           "granularity_conflict")


# ---------------------------------------------------------------------------
# HTTP


class Reply:
    def __init__(self, status=None, headers=None, body=b"", error=None):
        self.status, self.headers, self.body, self.error = status, headers or {}, body, error

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def __repr__(self):
        if self.status is None:
            return f"no answer ({self.error})"
        return f"{self.status} {self.body[:300]!r}"


def request(port, method, path, headers=None, body=None, tls=None):
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=tls, timeout=10)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
        else:
            conn.endheaders()
        r = conn.getresponse()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    except (OSError, http.client.HTTPException) as e:
        return Reply(error=repr(e))
    finally:
        conn.close()


def raw_status(port, data):
    """Sends data on a plain socket (the server may stop reading it early)
    and returns the status of the answer, or None."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    got = b""
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
    return int(m.group(1)) if m else None


def push(port, token, content_type, body, tls=None, headers=None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if content_type is not None:
        h["Content-Type"] = content_type
    if isinstance(body, str):
        body = body.encode()
    return request(port, "POST", "/api/v1/ingest", h, body, tls)


def scrape(port, tls=None, headers=None):
    r = request(port, "GET", "/metrics", headers, tls=tls)
    return r.body.decode() if r.status == 200 else None


SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def value(text, name, **labels):
    """The value of name{labels} (exactly these labels), or None."""
    for line in (text or "").splitlines():
        m = SAMPLE_RE.match(line)
        if m and m.group(1) == name and dict(LABEL_RE.findall(m.group(2) or "")) == labels:
            return float(m.group(3))
    return None


def close(a, b):
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1, abs(b))


# ---------------------------------------------------------------------------
# The daemon


class Ingotd:
    def __init__(self, binary, tmp, config_path, extra=()):
        self.port = free_port()
        self.log_path = os.path.join(tmp, f"ingotd-{self.port}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={config_path}", f"--web.listen-address=127.0.0.1:{self.port}",
             f"--time.now={NOW}", "--log.level=debug", *extra], stderr=self.log)

    def listening(self):
        def connects():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return self.proc.poll() is not None and None
        return wait_until(connects, 10) is True

    def stop(self):
        """SIGTERM, and the exit status (the first one when already stopped)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def tail(self):
        with open(self.log_path) as f:
            return f.read()[-3000:]


def write_config(tmp, token_dir, state_dir):
    path = os.path.join(tmp, "ingot.yaml")
    with open(path, "w") as f:
        f.write(f"""web:
  max_request_body_bytes: {BODY_LIMIT}
state_dir: {state_dir}
snapshot: {{interval: 1s}}
metals: [copper, zinc, aluminum]
push_sources:
  - name: push_a
    token_file: {token_dir}/a.token
    plants: [kz-a, kz-c]
  - name: push_b
    token_file: {token_dir}/b.token
    plants: [kz-b]
targets:
  baseline_year: 2023
  years:
    - year: 2025
      production_tonnes: {{copper: 280000, zinc: 150000, aluminum: 320000}}
""")
    return path


def write_token(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", 0o600)
    os.replace(path + ".new", path)


def rec(metal, period, production=None, co2=None):
    r = {"metal": metal, "period": period}
    if production is not None:
        r["production_tonnes"] = production
    if co2 is not None:
        r["co2_tonnes"] = co2
    return r


def doc(plants):
    return json.dumps({"schema": "ingot.feed.v1",
                       "plants": [{"id": p, "records": rs} for p, rs in plants]})


# push_a's first document: records 0..6 across three plants.
DOC_A = doc([
    ("kz-a", [rec("copper", "2025-01", 1000, 900),     # 0
              rec("copper", "2025-02", 500),           # 1
              rec("zinc", "2025-01", 200, 100),        # 2
              rec("copper", "2025-08", 10)]),          # 3 future_period
    ("kz-b", [rec("copper", "2025-01", 50)]),          # 4 plant_not_allowed
    ("kz-c", [rec("aluminum", "2025-03", 300, 250),    # 5
              rec("tin", "2025-03", 1)]),              # 6 unknown_metal
])
CSV_B = ("plant,metal,period,production_tonnes,co2_tonnes\r\n"
         "kz-b,copper,2025-01,800,400\r\n"
         "kz-b,copper,2025-02,100,\r\n"
         "kz-a,copper,2025-03,5,\r\n")


def national(text):
    """The national figures the test follows, as a tuple."""
    return tuple(value(text, n, **l) for n, l in (
        ("ingot_national_production_tonnes", {"metal": "copper", "year": "2025"}),
        ("ingot_national_production_tonnes", {"metal": "zinc", "year": "2025"}),
        ("ingot_national_production_tonnes", {"metal": "aluminum", "year": "2025"}),
        ("ingot_national_plants_reporting", {"metal": "copper", "year": "2025"}),
        ("ingot_national_emissions_coverage_ratio", {"year": "2025"}),
        ("ingot_national_co2_intensity_tonnes_per_tonne", {"year": "2025"})))


def expect_national(label, text, copper, zinc, aluminum, copper_plants, co2_production,
                    co2):
    production = copper + zinc + aluminum
    got = national(text)
    want = (copper, zinc, aluminum, copper_plants, co2_production / production,
            co2 / co2_production)
    check(f"{label}: production {copper}/{zinc}/{aluminum}, {copper_plants} copper plants, "
          f"coverage {co2_production}/{production}",
          all(close(g, w) for g, w in zip(got, want)), f"{got} != {want}")


def ingest_requests(text, code):
    return value(text, "ingot_http_requests_total", handler="ingest", code=str(code)) or 0


# ---------------------------------------------------------------------------
# Scenarios


def scenario_push(args, tmp):
    token_dir = os.path.join(tmp, "tokens")
    os.mkdir(token_dir)
    write_token(os.path.join(token_dir, "a.token"), TOKEN_A + "\n")
    write_token(os.path.join(token_dir, "b.token"), "  " + TOKEN_B + "  \r\nsecond line\n")
    state_dir = os.path.join(tmp, "state")
    config = write_config(tmp, token_dir, state_dir)
    d = Ingotd(args.ingotd, tmp, config)
    try:
        if not check("ingotd listens", d.listening(), d.tail()):
            return
        before_any(d)
        pushes(d, token_dir)
        # Restart on the same state_dir: the pushed records come back.
        check("SIGTERM exits 0", d.stop() == 0, d.tail())
        d = Ingotd(args.ingotd, tmp, config)
        if check("ingotd listens again", d.listening(), d.tail()):
            after_restart(d)
            check("SIGTERM exits 0 after the restart (no sanitizer report)", d.stop() == 0,
                  d.tail())
    finally:
        d.stop()


def before_any(d):
    text = scrape(d.port)
    check("/-/ready 200 without feeds", request(d.port, "GET", "/-/ready").status == 200)
    for name in ("push_a", "push_b"):
        check(f"{name}: records accepted 0 before any push",
              value(text, "ingot_feed_records_accepted_total", feed=name) == 0)
        check(f"{name}: every rejection reason pre-initialised to 0",
              all(value(text, "ingot_feed_records_rejected_total", feed=name, reason=r) == 0
                  for r in REASONS))
        for family in ("ingot_feed_up", "ingot_feed_fetches_total",
                       "ingot_feed_interval_seconds", "ingot_feed_fetch_duration_seconds",
                       "ingot_feed_last_success_timestamp_seconds"):
            check(f"{name}: not in {family} before any push", f'feed="{name}"' not in "\n".join(
                l for l in text.splitlines() if l.startswith(family + "{")))
    check("data quality families with no data: plants reporting 0, no coverage",
          value(text, "ingot_national_plants_reporting", metal="copper", year="2025") == 0 and
          "ingot_national_emissions_coverage_ratio{" not in text)


def pushes(d, token_dir):
    port = d.port
    started = time.time()
    r = push(port, TOKEN_A, JSON_CT, DOC_A)
    want = {"accepted": 4, "rejected": 3, "truncated": False,
            "rejections": [{"index": 3, "reason": "future_period"},
                           {"index": 4, "reason": "plant_not_allowed"},
                           {"index": 6, "reason": "unknown_metal"}]}
    check("JSON push: 202", r.status == 202, r)
    check("JSON push: exact counts, indices and reasons", r.json() == want, r)
    check("JSON push: Content-Type application/json",
          r.header("content-type") == "application/json", r.headers)
    text = scrape(port)
    # copper 1000 + 500, zinc 200, aluminum 300; CO2 on 1000 + 200 + 300 t.
    expect_national("after the JSON push", text, 1500, 200, 300, 1, 1500, 900 + 100 + 250)
    check("plants reporting zinc 2025 = 1, aluminum 2025 = 1, copper 2024 = 0",
          value(text, "ingot_national_plants_reporting", metal="zinc", year="2025") == 1 and
          value(text, "ingot_national_plants_reporting", metal="aluminum", year="2025") == 1 and
          value(text, "ingot_national_plants_reporting", metal="copper", year="2024") == 0)
    check("push_a: 4 accepted", value(text, "ingot_feed_records_accepted_total",
                                      feed="push_a") == 4)
    check("push_a: one rejection each of future_period, plant_not_allowed, unknown_metal",
          [value(text, "ingot_feed_records_rejected_total", feed="push_a", reason=x)
           for x in REASONS] == [0, 1, 1, 0, 1, 0, 0, 0, 0])
    last = value(text, "ingot_feed_last_success_timestamp_seconds", feed="push_a")
    check("push_a: last success is the push's time",
          last is not None and started - 1 <= last <= time.time() + 1, last)
    check("push_b: no last success yet",
          value(text, "ingot_feed_last_success_timestamp_seconds", feed="push_b") is None)
    check("stale: kz-a 0 and kz-c 0 after push_a's push",
          value(text, "ingot_plant_stale", plant="kz-a") == 0 and
          value(text, "ingot_plant_stale", plant="kz-c") == 0)
    check("last period of kz-a copper is 2025-02 (2025-02-01T00:00:00Z)",
          value(text, "ingot_plant_last_period_timestamp_seconds", plant="kz-a",
                metal="copper") == 1738368000)

    r = push(port, TOKEN_A, "application/json; charset=UTF-8", DOC_A)
    check("the same document again: 202 with the same answer", r.status == 202 and
          r.json() == want, r)
    text = scrape(port)
    expect_national("same document twice: nothing counted twice", text, 1500, 200, 300, 1, 1500,
                    1250)
    check("push_a: accepted counts deliveries (8)",
          value(text, "ingot_feed_records_accepted_total", feed="push_a") == 8)

    r = push(port, TOKEN_B, CSV_CT, CSV_B)
    check("CSV push by push_b: 202, kz-a's row rejected at index 2",
          r.status == 202 and r.json() == {
              "accepted": 2, "rejected": 1, "truncated": False,
              "rejections": [{"index": 2, "reason": "plant_not_allowed"}]}, r)
    text = scrape(port)
    # copper 1500 + 800 + 100; CO2 now also on kz-b's 800 t (400 t CO2).
    expect_national("after the CSV push", text, 2400, 200, 300, 2, 2300, 1250 + 400)
    check("stale: kz-b 0 after push_b's push", value(text, "ingot_plant_stale", plant="kz-b") == 0)

    r = push(port, TOKEN_A, JSON_CT, doc([("kz-a", [rec("copper", "2025-01", 1200)])]))
    check("restatement: 202, 1 accepted", r.status == 202 and r.json()["accepted"] == 1, r)
    text = scrape(port)
    # kz-a 2025-01: 1200 t, CO2 900 kept by the merge.
    expect_national("restatement replaces", text, 2600, 200, 300, 2, 2500, 1650)
    check("ingot_plant_production_tonnes{kz-a, copper, 2025} = 1700", value(
        text, "ingot_plant_production_tonnes", plant="kz-a", metal="copper", year="2025") == 1700)
    settled = text

    b_last = value(text, "ingot_feed_last_success_timestamp_seconds", feed="push_b")
    r = push(port, TOKEN_B, JSON_CT, doc([("kz-a", [rec("copper", "2025-01", 1),
                                                    rec("copper", "2025-04", 7)])]))
    check("403: push_b's token with only kz-a's records", r.status == 403, r)
    check("403: the body says why", r.json() is not None and "push_b" in r.json().get("error", ""),
          r)
    text = scrape(port)
    check("403: nothing applied", national(text) == national(settled))
    check("403: push_b's plant_not_allowed counter counts both records (1 + 2)",
          value(text, "ingot_feed_records_rejected_total", feed="push_b",
                reason="plant_not_allowed") == 3)
    check("403: push_b's last success unchanged",
          value(text, "ingot_feed_last_success_timestamp_seconds", feed="push_b") == b_last)

    for what, ct, body, needle in (
            ("broken JSON", JSON_CT, '{"schema": "ingot.feed.v1", "plants": [}', "line 1"),
            ("a valid JSON document cut short", JSON_CT,
             doc([("kz-a", [rec("copper", "2025-05", 99999)])])[:-3], "line 1"),
            ("a JSON document without schema", JSON_CT, '{"plants": []}', "schema"),
            ("a CSV without the period column", CSV_CT, "plant,metal\nkz-a,copper\n", "period"),
            ("an empty CSV", CSV_CT, "", "empty")):
        r = push(port, TOKEN_A, ct, body)
        err = (r.json() or {}).get("error", "")
        check(f"400: {what}, the parser's reason in the body", r.status == 400 and
              err.startswith("document rejected, nothing applied: ") and needle in err, r)
    check("400: nothing applied", national(scrape(port)) == national(settled))

    small = doc([("kz-a", [rec("copper", "2025-05", 1)])])
    for what, token, header in (
            ("no Authorization", None, None),
            ("an unknown token", "not-a-token", None),
            ("another source's token with a suffix", TOKEN_A + "x", None),
            ("'Bearer' alone", None, "Bearer"),
            ("'Bearer a b'", None, "Bearer a b"),
            ("Basic credentials", None, "Basic cHVzaF9hOnRva2Vu")):
        r = push(port, token, JSON_CT, small,
                 headers={"Authorization": header} if header else None)
        check(f"401: {what}, with WWW-Authenticate: Bearer realm=\"ingot\"",
              r.status == 401 and (r.header("www-authenticate") or "").startswith(
                  'Bearer realm="ingot"'), r)
    for what, ct in (("text/plain", "text/plain"), ("no Content-Type", None),
                     ("a charset other than UTF-8", "text/csv; charset=latin1")):
        r = push(port, TOKEN_A, ct, small)
        check(f"415: {what}", r.status == 415 and "error" in (r.json() or {}), r)
    big = doc([("kz-a", [rec("copper", "2025-05", i) for i in range(200)])]).encode()
    r = push(port, TOKEN_A, JSON_CT, big)
    check(f"413: a {len(big)}-byte body (limit {BODY_LIMIT})", r.status == 413, r)
    status = raw_status(port, b"POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\n"
                        b"Authorization: Bearer " + TOKEN_A.encode() + b"\r\n"
                        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        b"".join(b"%x\r\n" % len(big[i:i + 1000]) + big[i:i + 1000] + b"\r\n"
                                 for i in range(0, len(big), 1000)) + b"0\r\n\r\n")
    check("413: the same body chunked", status == 413, status)
    for method in ("GET", "HEAD", "PUT"):
        r = request(port, method, "/api/v1/ingest", {"Authorization": "Bearer " + TOKEN_A})
        check(f"405 for {method} with Allow: POST", r.status == 405 and
              r.header("allow") == "POST", r)
    text = scrape(port)
    check("refused requests change nothing", national(text) == national(settled))
    counts = {c: ingest_requests(text, c) for c in (202, 400, 401, 403, 405, 415)}
    check("ingot_http_requests_total{handler=\"ingest\"} counts each answer",
          counts == {202: 4, 400: 5, 401: 6, 403: 1, 405: 3, 415: 3}, counts)
    check("413 counted as the server's own answer (handler none)",
          (value(text, "ingot_http_requests_total", handler="none", code="413") or 0) >= 2)

    # Token rotation: rewriting the file is enough.
    write_token(os.path.join(token_dir, "b.token"), "token-bbbb-rotated\n")
    r = push(port, TOKEN_B, CSV_CT, "plant,metal,period\n")
    check("rotated token file: the old token 401", r.status == 401, r)
    r = push(port, "token-bbbb-rotated", CSV_CT, "plant,metal,period\n")
    check("rotated token file: the new token 202 without a reload", r.status == 202, r)
    write_token(os.path.join(token_dir, "b.token"), TOKEN_B + "\n")
    # The snapshot (written every second) holds the settled state.
    time.sleep(1.5)


def after_restart(d):
    text = scrape(d.port)
    expect_national("after a restart: the pushed records restored", text, 2600, 200, 300, 2, 2500,
                    1650)
    check("after a restart: every restored plant stale until its source pushes",
          [value(text, "ingot_plant_stale", plant=p) for p in ("kz-a", "kz-b", "kz-c")] ==
          [1, 1, 1])
    r = push(d.port, TOKEN_A, JSON_CT, doc([]))
    check("an empty document is a heartbeat: 202, 0 and 0", r.status == 202 and r.json() == {
        "accepted": 0, "rejected": 0, "rejections": [], "truncated": False}, r)
    text = scrape(d.port)
    check("stale after push_a's push: kz-a 0, kz-c 0, kz-b 1 (push_b never pushed)",
          [value(text, "ingot_plant_stale", plant=p) for p in ("kz-a", "kz-b", "kz-c")] ==
          [0, 1, 0], text and [l for l in text.splitlines() if "stale" in l])


def openssl_cert(tmp):
    crt, key = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return crt, key


def scenario_web_config(args, tmp):
    tmp = os.path.join(tmp, "web")
    os.mkdir(tmp)
    token_dir = os.path.join(tmp, "tokens")
    os.mkdir(token_dir)
    write_token(os.path.join(token_dir, "a.token"), TOKEN_A)
    write_token(os.path.join(token_dir, "b.token"), TOKEN_B)
    config = write_config(tmp, token_dir, os.path.join(tmp, "state"))
    crt, key = openssl_cert(tmp)
    password = "scrape secret"
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))
    web = os.path.join(tmp, "web.yml")
    with open(web, "w") as f:
        f.write(f"tls_server_config:\n  cert_file: {crt}\n  key_file: {key}\n"
                f"basic_auth_users:\n  prometheus: \"{hashed}\"\n")
    tls = ssl.create_default_context(cafile=crt)
    basic = {"Authorization": "Basic " + base64.b64encode(
        f"prometheus:{password}".encode()).decode()}
    d = Ingotd(args.ingotd, tmp, config, [f"--web.config.file={web}"])
    try:
        if not check("web config: ingotd listens", d.listening(), d.tail()):
            return
        r = request(d.port, "GET", "/metrics", tls=tls)
        check("web config: /metrics without the password 401 Basic",
              r.status == 401 and (r.header("www-authenticate") or "").startswith("Basic"), r)
        r = push(d.port, TOKEN_A, JSON_CT, doc([("kz-a", [rec("copper", "2025-01", 10)])]),
                 tls=tls)
        check("web config: a push with its bearer token only, over TLS: 202", r.status == 202, r)
        r = push(d.port, None, JSON_CT, doc([]), tls=tls, headers=basic)
        check("web config: a push with the scrape password and no token: 401 Bearer",
              r.status == 401 and (r.header("www-authenticate") or "").startswith("Bearer"), r)
        text = scrape(d.port, tls=tls, headers=basic)
        check("web config: /metrics with the password shows the push",
              value(text, "ingot_national_production_tonnes", metal="copper", year="2025") == 10)
        check("web config: SIGTERM exits 0", d.stop() == 0, d.tail())
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingotd", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ingot-push-")
    for scenario in (scenario_push, scenario_web_config):
        try:
            scenario(args, tmp)
        except Exception as e:  # a crash in one scenario is a failure, not an abort
            import traceback
            traceback.print_exc()
            check(f"{scenario.__name__} ran to the end", False, repr(e))
    if not results.count(False):
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
