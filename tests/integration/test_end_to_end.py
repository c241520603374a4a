#!/usr/bin/python3
"""End-to-end integration test of ingotd.

Usage:
    python3 test_end_to_end.py --ingotd build/ingotd --promtool /usr/bin/promtool \
        [--source-dir .] [--keep]

Python 3.11 standard library only. Everything runs on 127.0.0.1: a feed server
(a ThreadingHTTPServer in this process) serves files from a temporary
directory, ingotd is started as a subprocess on a free port, and every wait is
bounded. Each check prints one line ("ok" or "FAIL"); the last line is
"N passed, M failed" and the exit status is 1 when anything failed.

Scenario 1, the test fleet (its own small fleet, not the demo; every expected
number below is computed by hand, the arithmetic in a comment beside it),
ingotd run with --time.now=2025-07-15T00:00:00Z --log.level=debug:
  - feeds: prod_json (JSON, 1s: production + plant attributes), emis_json
    (JSON, 1s: emissions only, merged into records the production feeds
    report), prod_csv (CSV, 1h: BOM, CRLF, quoted cells, shuffled and unknown
    columns, day records), rejects (JSON, 1h: every rejection reason, the
    order in which reasons apply, merge-judged recycled_exceeds_waste,
    granularity conflicts both ways, an invalid plant attribute, JSON null,
    unknown fields) and dead (a 404: down, never succeeded);
  - national production over plants and periods (months and days, a record
    outside the exported years), like-for-like growth with months missing in
    either year, projection over the reported months, output against the
    baseline, intensities and recycling over matched records only, targets
    and target progress (including a target year without data), benchmarks,
    initiatives (on_track after and before the deadline, both ways), plant
    series only where the plant reported the field, plant attributes with
    quotes, backslashes and UTF-8 in label values;
  - feed counters (accepted per fetch, each rejection reason, fetches by
    result, up, last success on the real clock) and the absence of the
    series that must not exist (zero denominators, non-current projections,
    years that are not exported, NaN or Inf anywhere);
  - the scrape passes `promtool check metrics` and the test's own parser
    (HELP and TYPE for every family, no duplicate series);
  - a restatement (one record's value rewritten in a feed file): exactly the
    dependent series change, to hand-computed values, nothing counted twice;
  - a broken feed (truncated JSON): feed down, error counted, every data series
    exactly as before; then the feed recovers;
  - HTTP: GET / links to /metrics, /-/healthy is 200, an unknown path is 404,
    POST /metrics is 405;
  - SIGTERM: exit status 0 within 5 s.
Scenario 2, --check-config: the shipped conf/ingot.yaml validates (exit 0) and
the summary names its feeds; a config with an unknown key and a bad value
exits 1 naming both as file:line:column in one pass. --version, --help.
Scenario 3, the shipped demo: conf/ingot.yaml with its feed URLs pointed at a
server of conf/demo/ on a free port loads, every feed comes up without a
rejected record, the article's targets are exported, and the scrape passes
promtool.
"""

import argparse
import functools
import http.client
import http.server
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

NOW = "2025-07-15T00:00:00Z"      # --time.now of scenario 1
DEMO_NOW = "2025-07-01T00:00:00Z"  # --time.now of scenario 3 (demo data ends in June 2025)
WAIT = 15.0                        # bound of every poll, seconds

REASONS = ("invalid_plant", "plant_not_allowed", "unknown_metal", "invalid_period",
           "future_period", "invalid_value", "negative_value", "recycled_exceeds_waste",
           "granularity_conflict")

# --------------------------------------------------------------------------
# Reporting


class Abort(Exception):
    """A check the rest of a scenario depends on failed."""


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, desc, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {desc}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL  {desc}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def require(self, desc, ok, detail=""):
        if not self.check(desc, ok, detail):
            raise Abort(desc)


def close(got, want):
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)


# --------------------------------------------------------------------------
# The text exposition format, parsed by hand

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class ParseError(Exception):
    pass


def parse_labels(line, i):
    """Parses {name="value",...} starting at line[i] == '{'. Returns (dict, next index)."""
    labels = {}
    i += 1
    while True:
        while i < len(line) and line[i] == " ":
            i += 1
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        m = LABEL_RE.match(line, i)
        if not m:
            raise ParseError(f"label name expected at column {i + 1}")
        name = m.group(0)
        i = m.end()
        if line[i:i + 2] != '="':
            raise ParseError(f'="  expected after label {name}')
        i += 2
        value = []
        while True:
            if i >= len(line):
                raise ParseError(f"unterminated value of label {name}")
            ch = line[i]
            if ch == "\\":
                nxt = line[i + 1:i + 2]
                if nxt == "\\":
                    value.append("\\")
                elif nxt == '"':
                    value.append('"')
                elif nxt == "n":
                    value.append("\n")
                else:
                    raise ParseError(f"bad escape \\{nxt} in label {name}")
                i += 2
            elif ch == '"':
                i += 1
                break
            elif ch == "\n":
                raise ParseError("raw newline in a label value")
            else:
                value.append(ch)
                i += 1
        if name in labels:
            raise ParseError(f"label {name} repeated")
        labels[name] = "".join(value)
        if i < len(line) and line[i] == ",":
            i += 1
        elif i < len(line) and line[i] == "}":
            pass
        else:
            raise ParseError(f"',' or '}}' expected after label {name}")


class Scrape:
    def __init__(self, text):
        self.text = text
        self.help = {}
        self.type = {}
        self.samples = []          # (name, labels, value, raw)
        self.errors = []
        self.index = {}            # name -> {frozenset(labels.items()): (value, raw)}
        self.duplicates = []
        for lineno, line in enumerate(text.split("\n"), 1):
            if not line:
                continue
            if line.startswith("#"):
                parts = line.split(" ", 3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                    target = self.help if parts[1] == "HELP" else self.type
                    target[parts[2]] = parts[3] if len(parts) > 3 else ""
                continue
            try:
                m = NAME_RE.match(line)
                if not m:
                    raise ParseError("metric name expected")
                name = m.group(0)
                i = m.end()
                labels = {}
                if i < len(line) and line[i] == "{":
                    labels, i = parse_labels(line, i)
                rest = line[i:].split()
                if len(rest) not in (1, 2) or line[i:i + 1] != " ":
                    raise ParseError("' value [timestamp]' expected")
                raw = rest[0]
                value = float(raw)
            except (ParseError, ValueError, IndexError) as e:
                self.errors.append(f"line {lineno}: {e}: {line!r}")
                continue
            key = frozenset(labels.items())
            series = self.index.setdefault(name, {})
            if key in series:
                self.duplicates.append(line)
            series[key] = (value, raw)
            self.samples.append((name, labels, value, raw))

    def get(self, name, **labels):
        v = self.index.get(name, {}).get(frozenset(labels.items()))
        return None if v is None else v[0]

    def raw(self, name, **labels):
        v = self.index.get(name, {}).get(frozenset(labels.items()))
        return None if v is None else v[1]

    def series(self, name, keys):
        """{tuple of the keys' label values: value} for every sample of name."""
        out = {}
        for labelset, (value, _) in self.index.get(name, {}).items():
            d = dict(labelset)
            out[tuple(d.get(k) for k in keys)] = value
        return out

    def family_of(self, name):
        if name in self.type:
            return name
        if name.endswith("_total") and self.type.get(name[:-6]) == "counter":
            return name[:-6]
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and self.type.get(base) == "histogram":
                return base
        return None

    def data(self):
        """Every sample of the national, target, benchmark, initiative and plant families."""
        prefixes = ("ingot_national_", "ingot_target_", "ingot_benchmark_",
                    "ingot_initiative_", "ingot_plant_")
        return {(n, frozenset(l.items())): v for n, l, v, _ in self.samples
                if n.startswith(prefixes)}


def fmt_labels(labels):
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


# --------------------------------------------------------------------------
# Processes, HTTP and waiting


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


class FeedServer:
    """Serves a directory on 127.0.0.1, on a free port, from a thread."""

    def __init__(self, directory):
        handler = functools.partial(QuietHandler, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_atomic(path, data):
    """Replaces path in one step, so the feed server never serves half a file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def request(port, method, path, timeout=5.0):
    """Returns (status, headers dict with lower-case names, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", errors="replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


class Daemon:
    """ingotd as a subprocess; its stdout and stderr go to files in workdir."""

    def __init__(self, binary, args, workdir, name):
        self.stdout_path = os.path.join(workdir, f"{name}.stdout.log")
        self.stderr_path = os.path.join(workdir, f"{name}.stderr.log")
        self.argv = [binary] + list(args)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)

    def alive(self):
        return self.proc.poll() is None

    def log_tail(self, lines=30):
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def log(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass


def wait_for(pred, timeout=WAIT, interval=0.2, daemon=None):
    """Polls pred() until it returns a true value or timeout passes.
    Returns the last value. Stops early if daemon died."""
    deadline = time.monotonic() + timeout
    value = None
    while True:
        try:
            value = pred()
        except (OSError, http.client.HTTPException):
            value = None
        if value:
            return value
        if daemon is not None and not daemon.alive():
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def scrape(port, path="/metrics"):
    status, headers, body = request(port, "GET", path)
    if status != 200:
        raise OSError(f"GET {path}: status {status}")
    return Scrape(body), headers


def start_and_wait_healthy(c, daemon, port, what):
    ok = wait_for(lambda: request(port, "GET", "/-/healthy", 1.0)[0] == 200,
                  timeout=10.0, daemon=daemon)
    c.require(f"{what}: ingotd serves on 127.0.0.1:{port}", ok,
              f"exit status {daemon.proc.poll()}; log tail:\n{daemon.log_tail()}")


def promtool_check(c, promtool, text, what):
    try:
        p = subprocess.run([promtool, "check", "metrics"], input=text.encode("utf-8"),
                           capture_output=True, timeout=30)
        out = (p.stdout + p.stderr).decode("utf-8", errors="replace").strip()
        c.check(f"{what}: promtool check metrics exits 0", p.returncode == 0,
                f"exit {p.returncode}: {out[:2000]}")
    except (OSError, subprocess.TimeoutExpired) as e:
        c.check(f"{what}: promtool check metrics exits 0", False, str(e))


def check_format(c, s, what):
    """The test's own reading of the exposition: it parses, every family has
    HELP and TYPE, no series twice, no NaN or Inf."""
    c.check(f"{what}: exposition parses", not s.errors, "; ".join(s.errors[:5]))
    missing = sorted({n for n, _, _, _ in s.samples
                      if s.family_of(n) is None or s.family_of(n) not in s.help})
    c.check(f"{what}: every family has HELP and TYPE", not missing, ", ".join(missing[:10]))
    c.check(f"{what}: no series exported twice", not s.duplicates, "; ".join(s.duplicates[:5]))
    bad = [f"{n}{fmt_labels(l)} {r}" for n, l, v, r in s.samples if not math.isfinite(v)]
    c.check(f"{what}: no NaN or Inf value", not bad, "; ".join(bad[:5]))
    bad = sorted({n for n, _, _, _ in s.samples
                  if s.type.get(s.family_of(n) or "") == "counter" and not n.endswith("_total")})
    c.check(f"{what}: counter samples end in _total", not bad, ", ".join(bad))
    bare = sorted({n for n, l, _, _ in s.samples if "region" in l})
    c.check(f"{what}: no bare 'region' label", not bare, ", ".join(bare))


# --------------------------------------------------------------------------
# Scenario 1: the test fleet

# Plant kz-alpha-cu's name: a double quote and a backslash, as in real life.
ALPHA_NAME = 'Alpha "Old" copper \\ smelter'
BETA_REGION = "East Kazakhstan (Шығыс Қазақстан)"


def months(year, first, last, value, metal, extra=None):
    """Monthly records of year, months first..last, all equal to value."""
    out = []
    for m in range(first, last + 1):
        r = {"metal": metal, "period": f"{year}-{m:02d}", "production_tonnes": value}
        if extra:
            r.update(extra)
        out.append(r)
    return out


def prod_json_doc(alpha_feb_2025=1250):
    """prod_json: 30 + 24 + 2 = 56 records, all accepted."""
    alpha = (months(2023, 1, 12, 1000, "copper") +           # 12 x 1000 = 12000
             months(2024, 1, 12, 1100, "copper") +           # 12 x 1100 = 13200
             months(2025, 1, 6, 1250, "copper"))             # 6 x 1250 = 7500
    for r in alpha:
        if r["period"] == "2025-02":
            r["production_tonnes"] = alpha_feb_2025           # the restatement target
    beta = ([{"metal": "zinc", "period": "2022-12", "production_tonnes": 777}] +  # not exported
            months(2023, 1, 6, 800, "zinc") +                # 6 x 800 = 4800
            months(2024, 1, 12, 900, "zinc") +               # 12 x 900 = 10800
            months(2025, 1, 5, 1000, "zinc"))                # 5 x 1000 = 5000
    eta = [{"metal": "aluminum", "period": "2025-02", "production_tonnes": 0.1},
           {"metal": "aluminum", "period": "2025-03", "production_tonnes": 0.2}]
    return {
        "schema": "ingot.feed.v1",
        "generated_at": "2025-07-14T23:00:00Z",              # unknown: ignored
        "plants": [
            {"id": "kz-alpha-cu", "name": ALPHA_NAME, "region": "Karaganda",
             "capacity_tonnes_per_year": 150000, "green_operational": True,
             "workers_certified": 2500, "operator": "ignored", "records": alpha},
            {"id": "kz-beta-zn", "name": "Beta zinc works", "region": BETA_REGION,
             "capacity_tonnes_per_year": 50000, "green_operational": False,
             "workers_certified": 1500, "records": beta},
            {"id": "kz-eta-al", "name": "Eta aluminium", "region": "Pavlodar",
             "capacity_tonnes_per_year": 200000, "green_operational": True,
             "workers_certified": 4000, "records": eta},
        ],
    }


def emissions_doc():
    """emis_json: 5 records, no production; merged with prod_json's and prod_csv's."""
    return {
        "schema": "ingot.feed.v1",
        "plants": [
            {"id": "kz-alpha-cu", "records": [
                {"metal": "copper", "period": "2024-06", "co2_tonnes": 990, "energy_mwh": 4400},
                {"metal": "copper", "period": "2025-01", "co2_tonnes": 1000, "energy_mwh": 5000,
                 "waste_tonnes": 400, "waste_recycled_tonnes": 300},
                {"metal": "copper", "period": "2025-02", "co2_tonnes": 1100.5, "energy_mwh": 5200,
                 "waste_tonnes": 500, "waste_recycled_tonnes": 450},
            ]},
            {"id": "kz-gamma-al", "records": [
                # production null = absent: the CSV feed's 2200 t stays.
                {"metal": "aluminum", "period": "2025-01", "production_tonnes": None,
                 "co2_tonnes": 4000, "waste_tonnes": 1000, "waste_recycled_tonnes": 900},
            ]},
            {"id": "kz-beta-zn", "records": [
                # beta reported no zinc production for June 2025: unmatched everywhere.
                {"metal": "zinc", "period": "2025-06", "co2_tonnes": 999, "energy_mwh": 888,
                 "waste_tonnes": 50},
            ]},
        ],
    }


def production_csv():
    """prod_csv: UTF-8 BOM, CRLF, shuffled columns, an unknown column ("note"),
    quoted cells. 52 accepted records and 10 rejected."""
    header = "metal,note,period,production_tonnes,plant,waste_tonnes,waste_recycled_tonnes"
    rows = []

    def row(metal, period, production, plant="kz-delta-cu", note="", waste="", recycled=""):
        rows.append(",".join([metal, note, period, production, plant, waste, recycled]))

    for m in range(1, 13):
        row("copper", f"2023-{m:02d}", "500")                  # 12 x 500 = 6000
    for m in range(1, 7):
        row("copper", f"2024-{m:02d}", "520")                  # 6 x 520 = 3120
    row("copper", "2025-01", '"550.5"', plant='"kz-delta-cu"', note='"restated, ""final"""')
    row("copper", "2025-02", "549.5")
    row("copper", "2025-03-01", "10.25")                      # March 2025 by days
    row("copper", "2025-03-02", "20.75")
    row("copper", "2025-07-01", "30")                         # July 2025: a day only
    for m in range(1, 13):
        row("aluminum", f"2023-{m:02d}", "2000", plant="kz-gamma-al")   # 24000
    for m in range(1, 13):
        row("aluminum", f"2024-{m:02d}", "2100", plant="kz-gamma-al")   # 25200
    for m in (1, 2, 3, 5, 6):                                            # no April
        row("aluminum", f"2025-{m:02d}", "2200", plant="kz-gamma-al")   # 11000
    # Rejected, one reason each:
    row("copper", "2025-01", "5", plant="KZ Delta")           # invalid_plant
    row("copper", "2025-01", "5", plant="kz-alpha-cu")        # plant_not_allowed
    row("nickel", "2025-01", "5")                             # unknown_metal
    row("copper", "2025-02-29", "5")                          # invalid_period (2025 is not leap)
    row("copper", "2026-01", "5")                             # future_period
    row("copper", "2025-04", "NaN")                           # invalid_value
    row("copper", "2025-04", "12abc")                         # invalid_value
    row("copper", "2025-04", "-1")                            # negative_value
    row("copper", "2024-07", "", waste="5", recycled="6")     # recycled_exceeds_waste
    row("copper", "2025-03", "40")                            # granularity_conflict (days exist)
    return ("\ufeff" + "\r\n".join([header] + rows) + "\r\n").encode("utf-8")


def rejects_doc():
    """rejects: 6 accepted records; rejected: invalid_plant 2, plant_not_allowed 2,
    unknown_metal 2, invalid_period 3, future_period 2, invalid_value 4 (3 records
    and the negative capacity), negative_value 3, recycled_exceeds_waste 3,
    granularity_conflict 2."""
    def z(period, **fields):
        return {"metal": "zinc", "period": period, **fields}
    theta = [
        z("2024-03", production_tonnes=100),                               # accepted
        z("2024-04", waste_tonnes=100, waste_recycled_tonnes=80),          # accepted
        z("2024-04", waste_recycled_tonnes=150),       # recycled_exceeds_waste (150 > stored 100)
        z("2024-04", waste_tonnes=50),                 # recycled_exceeds_waste (stored 80 > 50)
        z("2024-05", waste_tonnes=10, waste_recycled_tonnes=20),  # recycled_exceeds_waste
        z("2025-04-01", production_tonnes=10),                             # accepted
        z("2025-04-02", production_tonnes=20),                             # accepted
        z("2025-04", production_tonnes=999),           # granularity_conflict (days exist)
        z("2025-05", production_tonnes=40),                                # accepted
        z("2025-05-03", production_tonnes=7),          # granularity_conflict (month exists)
        z("2025-06", production_tonnes=300, co2_tonnes=None,
          comment="co2 not measured"),                 # accepted; null co2 = absent
        {"metal": "nickel", "period": "2025-01", "production_tonnes": 5},  # unknown_metal
        {"metal": "nickel", "period": "2025-13", "production_tonnes": 5},  # unknown_metal first
        z("2025-13", production_tonnes=5),             # invalid_period
        z("2025-02-30", production_tonnes=5),          # invalid_period
        z("2025-1", production_tonnes=5),              # invalid_period
        z("2025-08", production_tonnes=1),             # future_period (starts 2025-08-01)
        z("2025-07-16", production_tonnes=-1),         # future_period before negative_value
        z("2025-01", production_tonnes="12"),          # invalid_value (a string)
        z("2025-02", production_tonnes=5, co2_tonnes=True),        # invalid_value (a boolean)
        z("2025-03", production_tonnes="x", co2_tonnes=-1),        # invalid_value first
        z("2025-03", production_tonnes=-1),            # negative_value
        z("2025-03", energy_mwh=-0.5),                 # negative_value
        z("2025-04", production_tonnes=-2),            # negative_value before granularity
    ]
    return {
        "schema": "ingot.feed.v1",
        "plants": [
            {"id": "kz-theta-zn", "name": "Theta zinc", "region": "Ulytau",
             "capacity_tonnes_per_year": -5,            # invalid attribute: invalid_value
             "green_operational": False, "workers_certified": 500, "records": theta},
            {"id": "kz-zeta-cu", "records": [           # not in this feed's plants
                {"metal": "copper", "period": "2025-01", "production_tonnes": 5},
                {"metal": "nickel", "period": "2025-13", "production_tonnes": 5},
            ]},
            {"id": "KZ-Upper", "records": [             # invalid_plant (upper case)
                {"metal": "copper", "period": "2025-01", "production_tonnes": 5}]},
            {"id": "-kz-dash", "records": [             # invalid_plant (leading dash)
                {"metal": "copper", "period": "2025-01", "production_tonnes": 5}]},
        ],
    }


FLEET_CONFIG = """\
# ingotd integration test fleet, written by test_end_to_end.py
state_dir: state
web:
  listen_address: "127.0.0.1:{port}"
metals: [copper, zinc, aluminum]
feeds:
  - name: prod_json
    url: http://127.0.0.1:{fp}/prod.json
    format: json
    interval: 1s
    timeout: 1s
    plants: [kz-alpha-cu, kz-beta-zn, kz-eta-al]
  - name: emis_json
    url: http://127.0.0.1:{fp}/emissions.json
    format: json
    interval: 1s
    timeout: 1s
    plants: [kz-alpha-cu, kz-beta-zn, kz-gamma-al]
  - name: prod_csv
    url: http://127.0.0.1:{fp}/production.csv
    format: csv
    interval: 1h
    timeout: 10s
    plants: [kz-delta-cu, kz-gamma-al]
  - name: rejects
    url: http://127.0.0.1:{fp}/rejects.json
    format: json
    interval: 1h
    timeout: 10s
    plants: [kz-theta-zn]
  - name: dead
    url: http://127.0.0.1:{fp}/missing.json
    format: json
    interval: 1s
    timeout: 1s
    plants: [kz-nobody]
targets:
  baseline_year: 2023
  years:
    - year: 2025
      output_vs_baseline: 2.0
      production_tonnes: {{copper: 20000, zinc: 10000, aluminum: 26400}}
      growth: {{copper: 0.085, zinc: 0.068, aluminum: 0.072}}
      co2_intensity_tonnes_per_tonne: 0.9
      energy_intensity_mwh_per_tonne: 4.2
      waste_recycling_ratio: 0.85
    - year: 2026
      production_tonnes: {{copper: 100}}
  benchmarks:
    global_leader_avg: {{co2_intensity_tonnes_per_tonne: 1.2, energy_intensity_mwh_per_tonne: 5.0, waste_recycling_ratio: 0.75}}
  initiatives:
    - {{name: smelting_capacity, measure: capacity_increase_ratio, baseline: 250000, target: 0.40, start: 2023-01-01, deadline: 2024-09-30}}
    - {{name: green_plants, measure: green_plants_operational, target: 5, start: 2023-01-01, deadline: 2025-03-31}}
    - {{name: workforce_certification, measure: workers_certified, target: 10000, start: 2023-01-01, deadline: 2025-12-31}}
    - {{name: workforce_stretch, measure: workers_certified, target: 20000, start: 2024-01-01, deadline: 2025-12-31}}
"""

# ---- Expected values, by hand (now = 2025-07-15; exported years 2023
# (baseline), 2024 (previous), 2025 (current and target), 2026 (target)).

# Exact sums: compared for exact equality.
NATIONAL_PRODUCTION = {
    ("copper", "2023"): 18000,     # alpha 12x1000 + delta 12x500
    ("copper", "2024"): 16320,     # alpha 12x1100 + delta 6x520
    ("copper", "2025"): 8661,      # alpha 6x1250 + delta 550.5+549.5+10.25+20.75+30
    ("copper", "2026"): 0,
    ("zinc", "2023"): 4800,        # beta 6x800 (beta's 777 t of 2022-12 is 2022's)
    ("zinc", "2024"): 10900,       # beta 12x900 + theta 100
    ("zinc", "2025"): 5370,        # beta 5x1000 + theta 10+20 (days) + 40 + 300
    ("zinc", "2026"): 0,
    ("aluminum", "2023"): 24000,   # gamma 12x2000
    ("aluminum", "2024"): 25200,   # gamma 12x2100
    ("aluminum", "2025"): 11000.3,  # gamma 5x2200 + eta 0.1+0.2 (exact, not 0.30000000000000004)
    ("aluminum", "2026"): 0,
}
# Like for like. S = months of Y with production reported for the metal.
NATIONAL_GROWTH = {
    # S(2024) = 1..12; 2023 months 1..12 = 18000: 16320/18000 - 1
    ("copper", "2024"): -0.09333333333333334,
    # S(2025) = 1..7 (July from delta's day record); 2024 months 1..7 =
    # alpha 7x1100 + delta 6x520 = 10820: 8661/10820 - 1
    ("copper", "2025"): -0.19953789279112755,
    # S(2024) = 1..12; 2023 has only months 1..6 = 4800: 10900/4800 - 1
    ("zinc", "2024"): 1.2708333333333333,
    # S(2025) = 1..6 (June from theta); 2024 months 1..6 = 6x900 + 100 = 5500: 5370/5500 - 1
    ("zinc", "2025"): -0.023636363636363636,
    # 25200/24000 - 1
    ("aluminum", "2024"): 0.05,
    # S(2025) = {1,2,3,5,6} (no April); 2024 those months = 5x2100 = 10500: 11000.3/10500 - 1
    ("aluminum", "2025"): 0.04764761904761905,
    # 2023: no 2022 data in S (zinc's 2022-12 is outside S(2023) = 1..6); 2026: S empty.
}
NATIONAL_PROJECTED = {
    ("copper", "2025"): 14847.42857142857,   # 8661 / 7 x 12
    ("zinc", "2025"): 10740,                 # 5370 / 6 x 12
    ("aluminum", "2025"): 26400.72,          # 11000.3 / 5 x 12
}
OUTPUT_VS_BASELINE = {                       # all metals / 46800 (2023: 18000+4800+24000)
    ("2023",): 1,
    ("2024",): 1.12008547008547,             # (16320+10900+25200) = 52420 / 46800
    ("2025",): 0.5348568376068376,           # (8661+5370+11000.3) = 25031.3 / 46800
    ("2026",): 0,
}
# Matched records only. 2025 co2: alpha 2025-01 (1250 t, 1000), alpha 2025-02
# (1250 t, 1100.5), gamma 2025-01 (2200 t, 4000); beta 2025-06 (co2 999, no
# production) and theta 2025-06 (co2 null) do not count.
CO2_INTENSITY = {
    ("2024",): 0.9,                          # alpha 2024-06: 990 / 1100
    ("2025",): 1.2979787234042552,           # 6100.5 / 4700
}
ENERGY_INTENSITY = {
    ("2024",): 4.0,                          # alpha 2024-06: 4400 / 1100
    ("2025",): 4.08,                         # (5000+5200) / (1250+1250); gamma has no energy
}
RECYCLING = {
    ("2024",): 0.8,                          # theta 2024-04: 80 / 100 (the rejected restatements left it)
    ("2025",): 0.868421052631579,            # (300+450+900) / (400+500+1000); beta's waste-only record out
}
TARGET_PRODUCTION = {
    ("copper", "2025"): 20000, ("zinc", "2025"): 10000, ("aluminum", "2025"): 26400,
    ("copper", "2026"): 100,
}
TARGET_GROWTH = {("copper", "2025"): 0.085, ("zinc", "2025"): 0.068, ("aluminum", "2025"): 0.072}
TARGET_PROGRESS = {
    ("copper", "2025"): 0.43305,             # 8661 / 20000
    ("zinc", "2025"): 0.537,                 # 5370 / 10000
    ("aluminum", "2025"): 0.4166780303030303,  # 11000.3 / 26400
    ("copper", "2026"): 0,                   # 0 / 100
}
TARGET_OVB = {("2025",): 2.0}
TARGET_CO2 = {("2025",): 0.9}
TARGET_ENERGY = {("2025",): 4.2}
TARGET_RECYCLING = {("2025",): 0.85}
BENCHMARK = {
    "ingot_benchmark_co2_intensity_tonnes_per_tonne": {("global_leader_avg",): 1.2},
    "ingot_benchmark_energy_intensity_mwh_per_tonne": {("global_leader_avg",): 5.0},
    "ingot_benchmark_waste_recycling_ratio": {("global_leader_avg",): 0.75},
}
# Capacity: alpha 150000 + beta 50000 + eta 200000 = 400000 (theta's -5 is
# ignored). Green: alpha, eta. Workers: 2500+1500+4000+500 = 8500.
INITIATIVE = {
    "ingot_initiative_value": {
        ("smelting_capacity",): 0.6,         # 400000 / 250000 - 1
        ("green_plants",): 2,
        ("workforce_certification",): 8500,
        ("workforce_stretch",): 8500,
    },
    "ingot_initiative_target": {
        ("smelting_capacity",): 0.4, ("green_plants",): 5,
        ("workforce_certification",): 10000, ("workforce_stretch",): 20000,
    },
    "ingot_initiative_progress_ratio": {
        ("smelting_capacity",): 1.5,         # 0.6 / 0.4
        ("green_plants",): 0.4,              # 2 / 5
        ("workforce_certification",): 0.85,  # 8500 / 10000
        ("workforce_stretch",): 0.425,       # 8500 / 20000
    },
    "ingot_initiative_on_track": {
        ("smelting_capacity",): 1,           # deadline passed, progress 1.5 >= 1
        ("green_plants",): 0,                # deadline passed, progress 0.4 < 1
        # before the deadline: elapsed (2025-07-15 - 2023-01-01) / (2025-12-31 -
        # 2023-01-01) = 926 / 1095 days = 0.8457; progress 0.85 >= 0.8457
        ("workforce_certification",): 1,
        # elapsed 561 / 730 days = 0.7685 (from 2024-01-01); progress 0.425 < 0.7685
        ("workforce_stretch",): 0,
    },
    "ingot_initiative_deadline_timestamp_seconds": {
        ("smelting_capacity",): 1727654400,  # 2024-09-30T00:00:00Z
        ("green_plants",): 1743379200,       # 2025-03-31T00:00:00Z
        ("workforce_certification",): 1767139200,  # 2025-12-31T00:00:00Z
        ("workforce_stretch",): 1767139200,
    },
}
# Plant series: exported years in which the plant has the field. Exact sums.
PLANT_PRODUCTION = {
    ("kz-alpha-cu", "copper", "2023"): 12000, ("kz-alpha-cu", "copper", "2024"): 13200,
    ("kz-alpha-cu", "copper", "2025"): 7500,
    ("kz-delta-cu", "copper", "2023"): 6000, ("kz-delta-cu", "copper", "2024"): 3120,
    ("kz-delta-cu", "copper", "2025"): 1161,  # 550.5+549.5+10.25+20.75+30
    ("kz-beta-zn", "zinc", "2023"): 4800, ("kz-beta-zn", "zinc", "2024"): 10800,
    ("kz-beta-zn", "zinc", "2025"): 5000,
    ("kz-theta-zn", "zinc", "2024"): 100, ("kz-theta-zn", "zinc", "2025"): 370,  # 10+20+40+300
    ("kz-gamma-al", "aluminum", "2023"): 24000, ("kz-gamma-al", "aluminum", "2024"): 25200,
    ("kz-gamma-al", "aluminum", "2025"): 11000,
    ("kz-eta-al", "aluminum", "2025"): 0.3,   # 0.1+0.2
}
PLANT_CO2 = {
    ("kz-alpha-cu", "copper", "2024"): 990,
    ("kz-alpha-cu", "copper", "2025"): 2100.5,  # 1000+1100.5
    ("kz-beta-zn", "zinc", "2025"): 999,
    ("kz-gamma-al", "aluminum", "2025"): 4000,
}
PLANT_ENERGY = {
    ("kz-alpha-cu", "copper", "2024"): 4400,
    ("kz-alpha-cu", "copper", "2025"): 10200,   # 5000+5200
    ("kz-beta-zn", "zinc", "2025"): 888,
}
PLANT_INFO = {  # plant: (plant_name, plant_region)
    "kz-alpha-cu": (ALPHA_NAME, "Karaganda"),
    "kz-beta-zn": ("Beta zinc works", BETA_REGION),
    "kz-eta-al": ("Eta aluminium", "Pavlodar"),
    "kz-theta-zn": ("Theta zinc", "Ulytau"),
}
PLANT_CAPACITY = {"kz-alpha-cu": 150000, "kz-beta-zn": 50000, "kz-eta-al": 200000}  # theta: none
PLANT_GREEN = {"kz-alpha-cu": 1, "kz-beta-zn": 0, "kz-eta-al": 1, "kz-theta-zn": 0}
PLANT_WORKERS = {"kz-alpha-cu": 2500, "kz-beta-zn": 1500, "kz-eta-al": 4000, "kz-theta-zn": 500}

ACCEPTED_PER_FETCH = {"prod_json": 56, "emis_json": 5}  # 1s feeds: accepted = n x ok fetches
ONE_FETCH = {  # 1h feeds: fetched once during the test
    "prod_csv": {"accepted": 52,  # delta 12+6+5 + gamma 12+12+5
                 "rejected": {"invalid_plant": 1, "plant_not_allowed": 1, "unknown_metal": 1,
                              "invalid_period": 1, "future_period": 1, "invalid_value": 2,
                              "negative_value": 1, "recycled_exceeds_waste": 1,
                              "granularity_conflict": 1}},
    "rejects": {"accepted": 6,
                "rejected": {"invalid_plant": 2, "plant_not_allowed": 2, "unknown_metal": 2,
                             "invalid_period": 3, "future_period": 2, "invalid_value": 4,
                             "negative_value": 3, "recycled_exceeds_waste": 3,
                             "granularity_conflict": 2}},
}

# After the restatement of alpha's 2025-02 copper from 1250 to 1300.75 t
# (+50.75): only these series change.
RESTATED = {
    ("ingot_national_production_tonnes", ("copper", "2025")): 8711.75,   # 8661 + 50.75, not 8661 + 1300.75
    ("ingot_national_production_growth_ratio", ("copper", "2025")): -0.1948475046210721,  # 8711.75/10820 - 1
    ("ingot_national_production_projected_tonnes", ("copper", "2025")): 14934.42857142857,  # 8711.75/7 x 12
    ("ingot_target_progress_ratio", ("copper", "2025")): 0.4355875,    # 8711.75 / 20000
    ("ingot_national_output_vs_baseline_ratio", ("2025",)): 0.5359412393162393,  # 25082.05 / 46800
    ("ingot_national_co2_intensity_tonnes_per_tonne", ("2025",)): 1.2841130347839815,  # 6100.5 / 4750.75
    ("ingot_national_energy_intensity_mwh_per_tonne", ("2025",)): 3.998823875330785,  # 10200 / 2550.75
    # production with CO2 / all production: 4750.75 / 25082.05 (the restated record carries CO2)
    ("ingot_national_emissions_coverage_ratio", ("2025",)): 0.18940836175671447,
    ("ingot_plant_production_tonnes", ("kz-alpha-cu", "copper", "2025")): 7550.75,  # 7500 + 50.75
}
RESTATED_KEYS = {
    "ingot_national_production_tonnes": ("metal", "year"),
    "ingot_national_production_growth_ratio": ("metal", "year"),
    "ingot_national_production_projected_tonnes": ("metal", "year"),
    "ingot_target_progress_ratio": ("metal", "year"),
    "ingot_national_output_vs_baseline_ratio": ("year",),
    "ingot_national_co2_intensity_tonnes_per_tonne": ("year",),
    "ingot_national_energy_intensity_mwh_per_tonne": ("year",),
    "ingot_national_emissions_coverage_ratio": ("year",),
    "ingot_plant_production_tonnes": ("plant", "metal", "year"),
}

MY = ("metal", "year")
Y = ("year",)
PMY = ("plant", "metal", "year")


def expect_family(c, s, name, keys, table, exact=False, what=""):
    """Asserts the family holds exactly the series of table, with its values."""
    got = s.series(name, keys)
    for key, want in table.items():
        labels = dict(zip(keys, key))
        desc = f"{what}{name}{fmt_labels(labels)} = {want!r}"
        if key not in got:
            c.check(desc, False, "absent")
            continue
        ok = got[key] == want if exact else close(got[key], want)
        c.check(desc, ok, f"got {s.raw(name, **labels)}")
    extra = sorted(set(got) - set(table), key=str)
    c.check(f"{what}{name}: no other series", not extra,
            "unexpected " + ", ".join(f"{fmt_labels(dict(zip(keys, k)))}={got[k]!r}" for k in extra))


def check_fleet_values(c, s):
    expect_family(c, s, "ingot_national_production_tonnes", MY, NATIONAL_PRODUCTION, exact=True)
    expect_family(c, s, "ingot_national_production_growth_ratio", MY, NATIONAL_GROWTH)
    expect_family(c, s, "ingot_national_production_projected_tonnes", MY, NATIONAL_PROJECTED)
    expect_family(c, s, "ingot_national_output_vs_baseline_ratio", Y, OUTPUT_VS_BASELINE)
    expect_family(c, s, "ingot_national_co2_intensity_tonnes_per_tonne", Y, CO2_INTENSITY)
    expect_family(c, s, "ingot_national_energy_intensity_mwh_per_tonne", Y, ENERGY_INTENSITY)
    expect_family(c, s, "ingot_national_waste_recycling_ratio", Y, RECYCLING)
    expect_family(c, s, "ingot_target_production_tonnes", MY, TARGET_PRODUCTION, exact=True)
    expect_family(c, s, "ingot_target_growth_ratio", MY, TARGET_GROWTH)
    expect_family(c, s, "ingot_target_progress_ratio", MY, TARGET_PROGRESS)
    expect_family(c, s, "ingot_target_output_vs_baseline_ratio", Y, TARGET_OVB)
    expect_family(c, s, "ingot_target_co2_intensity_tonnes_per_tonne", Y, TARGET_CO2)
    expect_family(c, s, "ingot_target_energy_intensity_mwh_per_tonne", Y, TARGET_ENERGY)
    expect_family(c, s, "ingot_target_waste_recycling_ratio", Y, TARGET_RECYCLING)
    for name, table in BENCHMARK.items():
        expect_family(c, s, name, ("benchmark",), table)
    for name, table in INITIATIVE.items():
        expect_family(c, s, name, ("initiative",), table,
                      exact=name in ("ingot_initiative_on_track",
                                     "ingot_initiative_deadline_timestamp_seconds"))
    expect_family(c, s, "ingot_plant_production_tonnes", PMY, PLANT_PRODUCTION, exact=True)
    expect_family(c, s, "ingot_plant_co2_tonnes", PMY, PLANT_CO2, exact=True)
    expect_family(c, s, "ingot_plant_energy_mwh", PMY, PLANT_ENERGY, exact=True)
    # Shortest round-trip formatting of exact decimal sums.
    for name, labels, text in (
            ("ingot_national_production_tonnes", {"metal": "aluminum", "year": "2025"}, "11000.3"),
            ("ingot_plant_production_tonnes",
             {"plant": "kz-eta-al", "metal": "aluminum", "year": "2025"}, "0.3"),
            ("ingot_plant_co2_tonnes", {"plant": "kz-alpha-cu", "metal": "copper", "year": "2025"},
             "2100.5")):
        c.check(f"{name}{fmt_labels(labels)} is printed as {text}",
                s.raw(name, **labels) == text, f"printed {s.raw(name, **labels)!r}")

    # Plant attributes.
    info = {}
    for _, labels, value, _ in [x for x in s.samples if x[0] == "ingot_plant_info"]:
        info.setdefault(labels.get("plant"), []).append((labels, value))
    for plant, (pname, region) in PLANT_INFO.items():
        rows = info.get(plant, [])
        want = {"plant": plant, "plant_name": pname, "plant_region": region}
        c.check(f"ingot_plant_info{fmt_labels(want)} = 1",
                len(rows) == 1 and rows[0] == (want, 1.0), f"got {rows!r}")
    expected_line = 'plant_name="Alpha \\"Old\\" copper \\\\ smelter"'
    c.check(f"label value escaped on the wire as {expected_line}", expected_line in s.text)
    for name, table in (("ingot_plant_capacity_tonnes_per_year", PLANT_CAPACITY),
                        ("ingot_plant_green_operational", PLANT_GREEN),
                        ("ingot_plant_workers_certified", PLANT_WORKERS)):
        for plant, want in table.items():
            got = s.get(name, plant=plant)
            c.check(f"{name}{{plant=\"{plant}\"}} = {want}", got == want, f"got {got!r}")
    got = s.get("ingot_plant_capacity_tonnes_per_year", plant="kz-theta-zn")
    c.check('ingot_plant_capacity_tonnes_per_year{plant="kz-theta-zn"} absent (negative: ignored)',
            got is None, f"got {got!r}")
    for plant in ("KZ-Upper", "-kz-dash", "kz-zeta-cu", "KZ Delta", "kz-nobody"):
        found = [n for n, l, _, _ in s.samples if l.get("plant") == plant]
        c.check(f"nothing exported for rejected plant {plant!r}", not found, ", ".join(found))


# The failure results of ingot_feed_fetches_total (besides ok and not_modified).
FETCH_FAILURES = ("timeout", "connect_error", "http_4xx", "http_5xx", "tls_error",
                  "body_too_large", "parse_error")


def check_feed_counters(c, s, started_at, what=""):
    now = time.time()
    for feed in ("prod_json", "emis_json", "prod_csv", "rejects"):
        c.check(f"{what}ingot_feed_up{{feed=\"{feed}\"}} = 1", s.get("ingot_feed_up", feed=feed) == 1)
        ts = s.get("ingot_feed_last_success_timestamp_seconds", feed=feed)
        c.check(f"{what}last success of {feed} is on the real clock (now, not --time.now)",
                ts is not None and started_at - 5 <= ts <= now + 5, f"got {ts!r}")
        dur = s.get("ingot_feed_fetch_duration_seconds", feed=feed)
        c.check(f"{what}ingot_feed_fetch_duration_seconds{{feed=\"{feed}\"}} in [0, 5)",
                dur is not None and 0 <= dur < 5, f"got {dur!r}")
        err = {r: s.get("ingot_feed_fetches_total", feed=feed, result=r) for r in FETCH_FAILURES}
        c.check(f"{what}ingot_feed_fetches_total{{feed=\"{feed}\"}} = 0 for every failure result",
                all(v == 0 for v in err.values()), f"got {err!r}")
    for feed, per_fetch in ACCEPTED_PER_FETCH.items():
        ok = s.get("ingot_feed_fetches_total", feed=feed, result="ok")
        acc = s.get("ingot_feed_records_accepted_total", feed=feed)
        c.check(f"{what}{feed}: accepted_total = {per_fetch} x fetches ok (re-delivery counts again)",
                ok is not None and ok >= 1 and acc == per_fetch * ok, f"accepted {acc!r}, ok {ok!r}")
        for reason in REASONS:
            got = s.get("ingot_feed_records_rejected_total", feed=feed, reason=reason)
            c.check(f"{what}ingot_feed_records_rejected_total{{feed=\"{feed}\",reason=\"{reason}\"}} = 0",
                    got == 0, f"got {got!r}")
    for feed, want in ONE_FETCH.items():
        ok = s.get("ingot_feed_fetches_total", feed=feed, result="ok")
        c.check(f"{what}ingot_feed_fetches_total{{feed=\"{feed}\",result=\"ok\"}} = 1", ok == 1, f"got {ok!r}")
        acc = s.get("ingot_feed_records_accepted_total", feed=feed)
        c.check(f"{what}ingot_feed_records_accepted_total{{feed=\"{feed}\"}} = {want['accepted']}",
                acc == want["accepted"], f"got {acc!r}")
        for reason in REASONS:
            n = want["rejected"][reason]
            got = s.get("ingot_feed_records_rejected_total", feed=feed, reason=reason)
            c.check(f"{what}ingot_feed_records_rejected_total{{feed=\"{feed}\",reason=\"{reason}\"}} = {n}",
                    got == n, f"got {got!r}")
    # The dead feed (404): down, never succeeded.
    c.check(f"{what}ingot_feed_up{{feed=\"dead\"}} = 0", s.get("ingot_feed_up", feed="dead") == 0)
    err = s.get("ingot_feed_fetches_total", feed="dead", result="http_4xx")
    c.check(f"{what}dead: fetches_total{{result=\"http_4xx\"}} >= 1 (a 404)",
            err is not None and err >= 1, f"got {err!r}")
    ok = s.get("ingot_feed_fetches_total", feed="dead", result="ok")
    c.check(f"{what}dead: fetches_total{{result=\"ok\"}} = 0", ok == 0, f"got {ok!r}")
    ts = s.get("ingot_feed_last_success_timestamp_seconds", feed="dead")
    c.check(f"{what}dead: no last_success_timestamp before a first success", ts is None, f"got {ts!r}")
    acc = s.get("ingot_feed_records_accepted_total", feed="dead")
    c.check(f"{what}dead: records_accepted_total = 0", acc == 0, f"got {acc!r}")
    # Rejection reasons: all nine for every feed, and no other.
    feeds = ("prod_json", "emis_json", "prod_csv", "rejects", "dead")
    for feed in feeds:
        got = {l.get("reason") for n, l, _, _ in s.samples
               if n == "ingot_feed_records_rejected_total" and l.get("feed") == feed}
        c.check(f"{what}{feed}: rejected_total carries exactly the nine reasons",
                got == set(REASONS), f"got {sorted(map(str, got))}")
    got = {l.get("feed") for n, l, _, _ in s.samples if n == "ingot_feed_up"}
    c.check(f"{what}ingot_feed_up for exactly the configured feeds", got == set(feeds),
            f"got {sorted(map(str, got))}")
    bi = s.series("ingot_build_info", ("version", "revision"))
    c.check(f"{what}ingot_build_info: one series, value 1, version and revision set",
            len(bi) == 1 and all(v == 1 and k[0] and k[1] for k, v in bi.items()), f"got {bi!r}")


def scenario_fleet(c, args, workdir):
    print("== scenario 1: test fleet", flush=True)
    feeds_dir = os.path.join(workdir, "fleet-feeds")
    os.makedirs(feeds_dir)
    prod_path = os.path.join(feeds_dir, "prod.json")
    write_atomic(prod_path, json.dumps(prod_json_doc(), indent=1, ensure_ascii=False))
    write_atomic(os.path.join(feeds_dir, "emissions.json"), json.dumps(emissions_doc(), indent=1))
    write_atomic(os.path.join(feeds_dir, "production.csv"), production_csv())
    write_atomic(os.path.join(feeds_dir, "rejects.json"), json.dumps(rejects_doc(), indent=1))

    server = FeedServer(feeds_dir)
    daemon = None
    try:
        port = free_port()
        config = os.path.join(workdir, "fleet.yaml")
        with open(config, "w") as f:
            f.write(FLEET_CONFIG.format(port=port, fp=server.port))
        started_at = time.time()
        daemon = Daemon(args.ingotd, [f"--config.file={config}", f"--time.now={NOW}",
                                      "--log.level=debug"], workdir, "fleet")
        start_and_wait_healthy(c, daemon, port, "fleet")

        def all_fetched():
            s, _ = scrape(port)
            done = all(s.get("ingot_feed_last_success_timestamp_seconds", feed=f) is not None
                       for f in ("prod_json", "emis_json", "prod_csv", "rejects"))
            dead = (s.get("ingot_feed_fetches_total", feed="dead", result="http_4xx") or 0) >= 1
            return s if done and dead else None
        s = wait_for(all_fetched, daemon=daemon)
        c.require("fleet: every feed fetched (4 succeeded, dead failed) within 15 s", s is not None,
                  f"log tail:\n{daemon.log_tail()}")
        status, headers, body = request(port, "GET", "/metrics")
        ctype = headers.get("content-type", "")
        c.check("GET /metrics is text/plain; version=0.0.4",
                status == 200 and ctype.startswith("text/plain") and "version=0.0.4" in ctype,
                f"status {status}, content-type {ctype!r}")
        s = Scrape(body)
        check_format(c, s, "fleet")
        promtool_check(c, args.promtool, s.text, "fleet")
        check_fleet_values(c, s)
        check_feed_counters(c, s, started_at)
        log = daemon.log()
        line = next((ln for ln in log.splitlines()
                     if all(w in ln for w in ("rejects", "kz-zeta-cu", "2025-01", "plant_not_allowed"))),
                    None)
        c.check("a rejected record is logged at debug with feed, plant, period and reason",
                line is not None, "no line names rejects, kz-zeta-cu, 2025-01 and plant_not_allowed")
        base = s.data()

        # ---- Restatement: alpha's 2025-02 copper 1250 -> 1300.75.
        write_atomic(prod_path, json.dumps(prod_json_doc(alpha_feb_2025=1300.75), indent=1,
                                           ensure_ascii=False))

        def restated():
            s2, _ = scrape(port)
            v = s2.get("ingot_national_production_tonnes", metal="copper", year="2025")
            return s2 if v is not None and v != 8661 else None
        s2 = wait_for(restated, daemon=daemon)
        c.require("restatement: national copper 2025 changes within 15 s", s2 is not None)
        changed = {}
        for (name, key), want in RESTATED.items():
            labels = dict(zip(RESTATED_KEYS[name], key))
            got = s2.get(name, **labels)
            exact = name.endswith("_tonnes")
            ok = got is not None and (got == want if exact else close(got, want))
            c.check(f"restatement: {name}{fmt_labels(labels)} = {want!r}", ok,
                    f"got {s2.raw(name, **labels)}")
            changed[(name, frozenset(labels.items()))] = want
        after = s2.data()
        moved = sorted(f"{n}{fmt_labels(dict(l))}: {base.get((n, l))!r} -> {after.get((n, l))!r}"
                       for (n, l) in set(base) | set(after)
                       if (n, l) not in changed and base.get((n, l)) != after.get((n, l)))
        c.check("restatement: no other data series moved (nothing counted twice)", not moved,
                "; ".join(moved[:10]))
        raw = s2.raw("ingot_national_production_tonnes", metal="copper", year="2025")
        c.check("restatement: 8711.75 printed exactly", raw == "8711.75", f"printed {raw!r}")
        ok = s2.get("ingot_feed_fetches_total", feed="prod_json", result="ok")
        acc = s2.get("ingot_feed_records_accepted_total", feed="prod_json")
        c.check("restatement: prod_json accepted_total still 56 x fetches ok",
                ok is not None and acc == 56 * ok, f"accepted {acc!r}, ok {ok!r}")
        check_format(c, s2, "after restatement")

        # ---- A broken feed: truncated JSON.
        text = json.dumps(prod_json_doc(alpha_feb_2025=1300.75), indent=1, ensure_ascii=False)
        write_atomic(prod_path, text[:len(text) // 2])

        def broken():
            s3, _ = scrape(port)
            down = s3.get("ingot_feed_up", feed="prod_json") == 0
            err = (s3.get("ingot_feed_fetches_total", feed="prod_json", result="parse_error")
                   or 0) >= 1
            return s3 if down and err else None
        s3 = wait_for(broken, daemon=daemon)
        c.require("broken feed: ingot_feed_up{feed=\"prod_json\"} = 0 and a parse_error fetch "
                  "counted within 15 s", s3 is not None)
        after_break = s3.data()
        diff = sorted(f"{n}{fmt_labels(dict(l))}: {after.get((n, l))!r} -> {after_break.get((n, l))!r}"
                      for (n, l) in set(after) | set(after_break)
                      if after.get((n, l)) != after_break.get((n, l)))
        c.check(f"broken feed: all {len(after)} data series exported unchanged", not diff,
                "; ".join(diff[:10]))
        c.check("broken feed: the other feeds stay up",
                all(s3.get("ingot_feed_up", feed=f) == 1 for f in ("emis_json", "prod_csv", "rejects")))
        c.check("broken feed: the failure is logged (warn or error) with the feed's name",
                any("prod_json" in ln and re.search(r"\b(warn|warning|error)\b", ln, re.I)
                    for ln in daemon.log().splitlines()))
        check_format(c, s3, "broken feed")
        promtool_check(c, args.promtool, s3.text, "broken feed")

        # ---- The feed recovers.
        write_atomic(prod_path, text)
        s4 = wait_for(lambda: (lambda s: s if s.get("ingot_feed_up", feed="prod_json") == 1 else None)(
            scrape(port)[0]), daemon=daemon)
        c.check("recovered feed: ingot_feed_up{feed=\"prod_json\"} back to 1 within 15 s", s4 is not None)
        if s4 is not None:
            c.check("recovered feed: data still exactly as after the restatement", s4.data() == after)

        # ---- HTTP surface.
        status, _, body = request(port, "GET", "/")
        c.check("GET / is 200 and links to /metrics",
                status == 200 and re.search(r"href=[\"']?/metrics", body) is not None,
                f"status {status}, body {body[:200]!r}")
        status, _, _ = request(port, "GET", "/-/healthy")
        c.check("GET /-/healthy is 200", status == 200, f"status {status}")
        status, _, _ = request(port, "GET", "/no-such-page")
        c.check("GET /no-such-page is 404", status == 404, f"status {status}")
        status, _, _ = request(port, "POST", "/metrics")
        c.check("POST /metrics is 405", status == 405, f"status {status}")

        # ---- SIGTERM.
        daemon.proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        try:
            rc = daemon.proc.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        c.check("SIGTERM: exit status 0 within 5 s", rc == 0,
                f"status {rc!r} after {time.monotonic() - t0:.1f}s; log tail:\n{daemon.log_tail()}")
    finally:
        if daemon is not None:
            daemon.kill()
        server.stop()


# --------------------------------------------------------------------------
# Scenario 2: --check-config, --version, --help

BROKEN_CONFIG = """\
web:
  listen_address: 127.0.0.1:18467
metals: [copper, zinc]
feeds:
  - name: plant_a
    url: http://127.0.0.1:1/a.json
    format: json
    intervall: 5m
    plants: [kz-a]
  - name: plant_b
    url: http://127.0.0.1:1/b.json
    format: xml
    interval: 5m
    plants: [kz-b]
"""
# line 8 column 5: the unknown key "intervall"; line 12: format "xml".


def feed_names(config_path):
    """The feed names of a config, read from its top-level feeds: list."""
    names, inside = [], False
    with open(config_path, encoding="utf-8") as f:
        for line in f:
            if re.match(r"^[A-Za-z_]", line):
                inside = line.startswith("feeds:")
                continue
            m = re.match(r"^\s*-\s*name:\s*([A-Za-z0-9_]+)", line)
            if inside and m:
                names.append(m.group(1))
    return names


def run(argv, timeout=10):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def scenario_check_config(c, args, workdir):
    print("== scenario 2: --check-config", flush=True)
    shipped = os.path.join(args.source_dir, "conf", "ingot.yaml")
    rc, out = run([args.ingotd, "--check-config", f"--config.file={shipped}"])
    c.check("--check-config conf/ingot.yaml exits 0", rc == 0, f"exit {rc}: {out[:2000]}")
    names = feed_names(shipped)
    c.check("conf/ingot.yaml declares feeds", len(names) >= 3, f"{names}")
    missing = [n for n in names if n not in out]
    c.check("--check-config prints every feed name", not missing, f"missing {missing}")

    broken = os.path.join(workdir, "broken.yaml")
    with open(broken, "w") as f:
        f.write(BROKEN_CONFIG)
    rc, out = run([args.ingotd, "--check-config", f"--config.file={broken}"])
    c.check("--check-config on a broken config exits 1", rc == 1, f"exit {rc}: {out[:2000]}")
    c.check("the unknown key is reported at file:8:5", f"{broken}:8:5" in out, out[:2000])
    c.check("the bad format value is reported at file:12:column in the same pass",
            re.search(re.escape(broken) + r":12:\d+", out) is not None, out[:2000])

    rc, out = run([args.ingotd, "--version"])
    c.check("--version exits 0 and prints a version", rc == 0 and re.search(r"\d+\.\d+", out),
            f"exit {rc}: {out[:500]}")
    rc, out = run([args.ingotd, "--help"])
    c.check("--help exits 0 and lists --config.file", rc == 0 and "--config.file" in out,
            f"exit {rc}: {out[:500]}")


# --------------------------------------------------------------------------
# Scenario 3: the shipped demo

ARTICLE_TARGETS = {  # the reference article's 2025 numbers
    ("copper", "2025"): 280000, ("zinc", "2025"): 150000, ("aluminum", "2025"): 320000,
}


def scenario_demo(c, args, workdir):
    print("== scenario 3: shipped demo config and feeds", flush=True)
    shipped = os.path.join(args.source_dir, "conf", "ingot.yaml")
    demo_dir = os.path.join(args.source_dir, "conf", "demo")
    with open(shipped, encoding="utf-8") as f:
        text = f.read()
    server = FeedServer(demo_dir)
    daemon = None
    try:
        copy, n = re.subn(r"http://127\.0\.0\.1:8468/", f"http://127.0.0.1:{server.port}/", text)
        c.require("demo config: feed URLs point at 127.0.0.1:8468", n >= 1, "no URL rewritten")
        config = os.path.join(workdir, "demo.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(copy + "state_dir: state\n")  # beside the config, never /var/lib/ingot
        names = feed_names(shipped)
        port = free_port()  # --web.listen-address overrides the config's 8467
        daemon = Daemon(args.ingotd, [f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
                                      f"--time.now={DEMO_NOW}", "--log.level=debug"], workdir, "demo")
        start_and_wait_healthy(c, daemon, port, "demo")

        def all_up():
            s, _ = scrape(port)
            return s if all(s.get("ingot_feed_up", feed=n) == 1 and
                            s.get("ingot_feed_last_success_timestamp_seconds", feed=n) is not None
                            for n in names) else None
        s = wait_for(all_up, daemon=daemon)
        c.require(f"demo: all {len(names)} feeds up within 15 s ({', '.join(names)})", s is not None,
                  f"log tail:\n{daemon.log_tail()}")
        check_format(c, s, "demo")
        promtool_check(c, args.promtool, s.text, "demo")
        rejected = {(l.get("feed"), l.get("reason")): v for n, l, v, _ in s.samples
                    if n == "ingot_feed_records_rejected_total" and v != 0}
        c.check("demo: no record rejected", not rejected, f"{rejected}")
        for n in names:
            acc = s.get("ingot_feed_records_accepted_total", feed=n)
            c.check(f"demo: feed {n} accepted records", acc is not None and acc > 0, f"got {acc!r}")
        for (metal, year), want in ARTICLE_TARGETS.items():
            got = s.get("ingot_target_production_tonnes", metal=metal, year=year)
            c.check(f"demo: target {metal} {year} = {want} t (the article's)", got == want, f"got {got!r}")
            prod = s.get("ingot_national_production_tonnes", metal=metal, year=year)
            c.check(f"demo: national {metal} {year} production > 0", prod is not None and prod > 0,
                    f"got {prod!r}")
        c.check("demo: target output_vs_baseline 2025 = 2",
                s.get("ingot_target_output_vs_baseline_ratio", year="2025") == 2)
        for name in ("ingot_national_co2_intensity_tonnes_per_tonne",
                     "ingot_national_energy_intensity_mwh_per_tonne",
                     "ingot_national_waste_recycling_ratio"):
            c.check(f"demo: {name}{{year=\"2025\"}} exported",
                    s.get(name, year="2025") is not None)
        infos = [l for n, l, _, _ in s.samples if n == "ingot_plant_info"]
        c.check("demo: at least 4 plants with ingot_plant_info", len(infos) >= 4, f"{len(infos)}")
        c.check("demo: a plant name with a double quote comes through",
                any('"' in l.get("plant_name", "") for l in infos),
                f"{[l.get('plant_name') for l in infos]}")
        inits = s.series("ingot_initiative_progress_ratio", ("initiative",))
        c.check("demo: the three initiatives are exported",
                set(inits) == {("smelting_capacity",), ("green_plants",), ("workforce_certification",)},
                f"{sorted(inits)}")
        daemon.proc.send_signal(signal.SIGTERM)
        try:
            rc = daemon.proc.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        c.check("demo: SIGTERM exits 0 within 5 s", rc == 0, f"status {rc!r}")
    finally:
        if daemon is not None:
            daemon.kill()
        server.stop()


# --------------------------------------------------------------------------


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ingotd", required=True, help="the ingotd binary to test")
    ap.add_argument("--promtool", help="promtool (Debian package prometheus)")
    ap.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(here)),
                    help="the source tree holding conf/ (default: two levels above this script)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    args.ingotd = os.path.abspath(args.ingotd)
    args.source_dir = os.path.abspath(args.source_dir)

    c = Checks()
    ok = c.check("ingotd is an executable file", os.path.isfile(args.ingotd) and
                 os.access(args.ingotd, os.X_OK), args.ingotd)
    ok = c.check("promtool is given and executable",
                 bool(args.promtool) and os.path.isfile(args.promtool) and
                 os.access(args.promtool, os.X_OK), f"--promtool {args.promtool!r}") and ok
    if ok:
        workdir = tempfile.mkdtemp(prefix="ingot-it-")
        for scenario in (scenario_fleet, scenario_check_config, scenario_demo):
            try:
                scenario(c, args, workdir)
            except Abort:
                print(f"      ({scenario.__name__} stopped: the checks after that need it)", flush=True)
            except Exception:  # report, go on with the next scenario
                c.check(f"{scenario.__name__} ran without an exception", False, traceback.format_exc())
        if c.failed == 0 and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs and files kept in {workdir}", flush=True)
    print(f"{c.passed} passed, {c.failed} failed", flush=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
