#!/usr/bin/python3
"""Integration test of snapshots: /snapshot, restarts, bad files, crashes and
facility-to-national aggregation.

Usage:
    python3 test_snapshot.py --ingotd build/ingotd --protoc /usr/bin/protoc \
        --source-dir . [--ingotctl build/ingotctl] [--slow 3] [--seed N] [--rounds 50]

Standard library only, plus the real protoc (Debian's protobuf-compiler) to
decode snapshots with nothing of ingot's own code. Everything runs on
127.0.0.1: a feed server (a ThreadingHTTPServer in this process) serves JSON
documents the test changes at will, every ingotd runs on a free port with
--time.now=2025-07-01T00:00:00Z and a state_dir in a temporary directory, and
every wait is bounded. --slow (or INGOT_TEST_SLOW) multiplies the waits, for
sanitizer builds. Every expected number is computed by hand beside it.

1. /snapshot decoded by protoc: plants, records (an absent co2 stays absent,
   not 0), attributes, metals, targets, national figures equal to the hand
   sums, the feed's status and counters. HTTP: gzip when accepted (and equal
   to the plain body once gunzipped), ETag, 304 without body or
   Content-Length on a matching If-None-Match (strong, weak, in a list, "*"),
   200 on another, HEAD, 405 with Allow on POST. One snapshot file written
   after the fetch and none while nothing changes; the ingot_snapshot_*
   metrics match the file.
2. Restart: SIGTERM exits 0 leaving a sound snapshot file (framing checked
   here, and by `ingotctl snapshot verify` when given), which decodes to the
   records served before; restarted with the feed pointing nowhere, ingotd
   serves the same national and plant figures from the restore alone,
   ingot_snapshot_restored_records is the record count, the log says so;
   restarted with a metal dropped from the config, its records are kept.
3. Bad files: the newest file truncated, too short, empty, garbage, with a
   flipped payload bit, with trailing bytes, framed but foreign, a directory,
   or soundly framed protobuf (encoded here by hand) that is not a sound
   snapshot (an invalid plant id, a NaN, no taken_at, a wrong wire type, a
   nested message cut short): each is logged "snapshot PATH skipped: REASON"
   with ingotd's exact reason (and refused by ingotctl) and the previous good
   file is restored. A snapshot from a later v1 (unknown fields of every wire
   type at every level) is taken. With only bad files ingotd starts empty and
   healthy; files not named like snapshots are ignored (and left alone); a
   relative state_dir is beside the config; a state_dir that is a regular
   file, or under a missing parent, disables snapshots (ingot_snapshot_enabled
   0) without stopping ingotd; one that vanishes while ingotd runs counts
   failed writes (result="error") and recovers when it is back.
4. Crash safety: --rounds (default 50) SIGKILLs at random moments (during
   start-up, around the first snapshot write, as soon as the writer's
   temporary shows, later) while the feed grows and restates every round and
   snapshots are written every second. After each kill every snapshot file
   is sound (framing here, ingotctl verify) and at most keep exist; after
   each checked restart every record of the newest file before it is
   served, with its stored value or the feed's newer one, and
   restored_records counts them. A last clean run leaves the newest round's
   data, no temporary, exactly keep files. --seed replays a run.
5. Facility to national: facilities A (kz-a1, kz-a2) and B (kz-b1) each
   ingest a JSON feed; a national ingotd pulls their /snapshot with
   `format: ingot-snapshot`, A's allowlist leaving kz-a2 out (rejected as
   plant_not_allowed, never counted); national sums equal the hand sums,
   intensities use matched records only; B configured twice (a reload) does
   not double count; a restatement at a facility reaches the national figure
   and changes the facility's ETag; facility A restarted without its feed
   serves its restored state, and the national figure stays.
6. The clock went back: with a sound snapshot named in 2099 in state_dir,
   the snapshots ingotd writes are named after it, and the next start
   restores the data written last, not the 2099 file.
The last line is "N passed, M failed"; the exit status is 1 when anything
failed.
"""

import argparse
import gzip
import http.client
import http.server
import json
import math
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib

import harness
from harness import FeedServer, check, free_port, summary, wait_until

NOW = "2025-07-01T00:00:00Z"
MAGIC = b"INGOTSN1"
HEADER = 20
SNAPSHOT_NAME = re.compile(r"^snapshot-\d{8}T\d{6}\.\d{3}Z\.pb$")
REASONS = ("invalid_plant", "plant_not_allowed", "unknown_metal", "invalid_period",
           "future_period", "invalid_value", "negative_value", "recycled_exceeds_waste",
           "granularity_conflict")

ARGS = None
SLOW = 1.0
PROCS = []  # every ingotd started, killed in main's finally


class Abort(Exception):
    """A check the rest of a scenario depends on failed."""


def require(name, ok, detail=""):
    if not check(name, ok, detail):
        raise Abort(name)
    return ok


def close(a, b):
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# --------------------------------------------------------------------------
# Feeds: documents set on harness.FeedServer, or a URL nobody serves.


def nowhere_url():
    """An HTTP URL on a port nobody listens on: every fetch fails at once."""
    return f"http://127.0.0.1:{free_port()}/gone.json"


# --------------------------------------------------------------------------
# ingotd processes


TARGETS = """targets:
  baseline_year: 2024
  years:
    - year: 2025
      output_vs_baseline: 2.0
      production_tonnes: {copper: 1000, zinc: 500}
      growth: {copper: 0.085}
      co2_intensity_tonnes_per_tonne: 0.9
  initiatives:
    - name: certification
      measure: workers_certified
      target: 1000
      start: 2024-01-01
      deadline: 2025-12-31
"""


def make_config(state_dir, feeds, snapshot="{interval: 1s, keep: 3}", metals="[copper, zinc]",
                targets=TARGETS):
    lines = [f"state_dir: {json.dumps(state_dir)}", f"snapshot: {snapshot}",
             f"metals: {metals}", "feeds:"]
    for f in feeds:
        lines += [f"  - name: {f['name']}", f"    url: {json.dumps(f['url'])}",
                  f"    format: {f.get('format', 'json')}",
                  f"    interval: {f.get('interval', '1s')}",
                  f"    plants: [{', '.join(f['plants'])}]"]
    return "\n".join(lines) + "\n" + targets


class Daemon:
    def __init__(self, tmp, name, config):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config_path = os.path.join(self.dir, "ingot.yaml")
        self.write_config(config)
        self.log_path = os.path.join(self.dir, "ingotd.log")
        self.port = free_port()
        self.proc = None
        self.log_file = None
        self.cwd = tmp  # never the test's own directory

    def write_config(self, config):
        with open(self.config_path, "w") as f:
            f.write(config)

    def start(self):
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [ARGS.ingotd, f"--config.file={self.config_path}",
             f"--web.listen-address=127.0.0.1:{self.port}", f"--time.now={NOW}"],
            stdout=subprocess.DEVNULL, stderr=self.log_file, cwd=self.cwd)
        PROCS.append(self.proc)
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def get(self, path, method="GET", headers=None, timeout=5):
        """(status, headers with lower-case names, body), or None."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                conn.request(method, path, headers=headers or {})
                r = conn.getresponse()
                body = r.read()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, body
            finally:
                conn.close()
        except (OSError, http.client.HTTPException):
            return None

    def status(self, path):
        r = self.get(path)
        return r[0] if r else None

    def metrics(self):
        r = self.get("/metrics")
        return r[2].decode() if r and r[0] == 200 else None

    def wait_healthy(self, timeout=10):
        return wait_until(lambda: self.proc.poll() is None and self.status("/-/healthy") == 200,
                          timeout * SLOW, 0.01)

    def wait_ready(self, timeout=10):
        return wait_until(lambda: self.status("/-/ready") == 200, timeout * SLOW, 0.02)

    def snapshot(self):
        r = self.get("/snapshot")
        return decode(r[2]) if r and r[0] == 200 else None

    def stop(self, timeout=5):
        """SIGTERM; the exit status, or None when it did not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            rc = None
        self.kill()
        return rc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()
        if self.log_file:
            self.log_file.close()
            self.log_file = None


# --------------------------------------------------------------------------
# Snapshots: protoc's text output parsed, files framed and checked


def parse_text_format(text):
    """protoc --decode output as nested dicts: field name -> list of values."""
    stack = [{}]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
        elif line.endswith("{"):
            child = {}
            stack[-1].setdefault(line[:-1].strip(), []).append(child)
            stack.append(child)
        else:
            name, _, value = line.partition(": ")
            if value.startswith('"'):
                value = (value[1:-1].encode("latin-1").decode("unicode_escape")
                         .encode("latin-1").decode("utf-8"))
            elif value in ("true", "false"):
                value = value == "true"
            else:
                try:
                    value = int(value, 0)
                except ValueError:
                    try:
                        value = float(value)
                    except ValueError:
                        pass  # an enum name; kept as it is spelt
            stack[-1].setdefault(name, []).append(value)
    if len(stack) != 1:
        raise ValueError("unbalanced braces in protoc output")
    return stack[0]


def decode(payload):
    """The Snapshot in payload, decoded by protoc and parsed; None when protoc
    refuses it."""
    proto_dir = os.path.join(ARGS.source_dir, "proto")
    r = subprocess.run([ARGS.protoc, "--decode=ingot.v1.Snapshot", "-I", proto_dir,
                        os.path.join(proto_dir, "ingot", "v1", "snapshot.proto")],
                       input=payload, capture_output=True, timeout=30 * SLOW)
    if r.returncode != 0:
        print("protoc: " + r.stderr.decode(errors="replace").strip(), flush=True)
        return None
    return parse_text_format(r.stdout.decode())


def one(msg, field, default=None):
    values = (msg or {}).get(field)
    return values[0] if values else default


def records_of(snap):
    """{(plant, metal, period): {quantity: value}} of a parsed Snapshot."""
    out = {}
    for plant in (snap or {}).get("plants", []):
        for series in plant.get("series", []):
            for rec in series.get("records", []):
                key = (one(plant, "id"), one(series, "metal"), one(rec, "period"))
                out[key] = {k: float(v[0]) if isinstance(v[0], (int, float)) else v[0]
                            for k, v in rec.items() if k != "period"}
    return out


def plant_of(snap, plant_id):
    for p in (snap or {}).get("plants", []):
        if one(p, "id") == plant_id:
            return p
    return None


def national_metal(snap, year, metal):
    for y in one(snap, "national", {}).get("years", []):
        if one(y, "year") == year:
            for m in y.get("metals", []):
                if one(m, "metal") == metal:
                    return m
    return None


def national_year(snap, year):
    for y in one(snap, "national", {}).get("years", []):
        if one(y, "year") == year:
            return y
    return None


# A protobuf encoder by hand, for snapshots ingotd never writes: from a later
# v1 (fields this reader does not know, at every level) or unsound ones.

def pb_varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def pb_tag(number, wire):
    return pb_varint(number << 3 | wire)


def pb_int(number, n):
    return pb_tag(number, 0) + pb_varint(n)


def pb_double(number, x):
    return pb_tag(number, 1) + struct.pack("<d", x)


def pb_bytes(number, data):
    data = data.encode() if isinstance(data, str) else data
    return pb_tag(number, 2) + pb_varint(len(data)) + data


def hand_snapshot(plant_id="kz-future", production=42.0, taken_at=True, extra=b""):
    """Snapshot{taken_at, version 1.99.0, one plant with one copper record},
    with unknown fields of every wire type in the snapshot, the plant, the
    series, the record and the national message."""
    record = (pb_bytes(1, "2025-03") + pb_double(2, production) + pb_double(77, 1.5) +
              pb_bytes(78, "later") + pb_int(79, 3) + pb_tag(80, 5) + b"\x01\x02\x03\x04")
    series = pb_bytes(1, "copper") + pb_int(9, 7) + pb_bytes(2, record)
    plant = (pb_bytes(1, plant_id) + pb_bytes(2, "Future plant") + pb_bytes(99, pb_int(1, 5)) +
             pb_bytes(7, series))
    national = pb_int(1, 1751328000) + pb_int(60, 1) + pb_bytes(61, "x")
    return ((pb_int(1, 1751328000123) if taken_at else b"") + pb_bytes(2, "1.99.0") +
            pb_int(200, 5) + pb_bytes(6, plant) + pb_bytes(7, national) +
            pb_bytes(201, pb_bytes(1, "a later message")) + pb_tag(202, 5) + b"abcd" + extra)


def frame(payload):
    return MAGIC + struct.pack("<QI", len(payload), zlib.crc32(payload)) + payload


def read_frame(path):
    """(payload, None) for a sound snapshot file, else (None, reason)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return None, str(e)
    if len(data) < HEADER:
        return None, f"{len(data)} bytes, shorter than the header"
    if data[:8] != MAGIC:
        return None, "bad magic"
    length, crc = struct.unpack("<QI", data[8:HEADER])
    payload = data[HEADER:]
    if len(payload) != length:
        return None, f"{len(payload)} payload bytes, the header says {length}"
    if zlib.crc32(payload) != crc:
        return None, "checksum mismatch"
    return payload, None


def ingotctl_verify(*paths):
    """`ingotctl snapshot verify paths...`: (exit status, stdout, stderr), or
    None without --ingotctl."""
    if not ARGS.ingotctl:
        return None
    r = subprocess.run([ARGS.ingotctl, "snapshot", "verify", *paths], capture_output=True,
                       timeout=30 * SLOW)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def snapshot_files(state_dir):
    return sorted(n for n in os.listdir(state_dir) if SNAPSHOT_NAME.match(n))


# --------------------------------------------------------------------------
# /metrics


LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def series(text, name):
    """{frozenset of (label, value): value} of one metric name in a scrape."""
    out = {}
    for m in re.finditer(r"^" + re.escape(name) + r"(?:\{([^}]*)\})? (\S+)$", text or "",
                         re.M):
        out[frozenset(LABEL.findall(m.group(1) or ""))] = float(m.group(2))
    return out


def sample(text, name, **labels):
    return series(text, name).get(frozenset(labels.items()))


# --------------------------------------------------------------------------
# Scenarios 1 and 2: /snapshot decoded, HTTP, restart


FEED1 = {"schema": "ingot.feed.v1", "plants": [
    {"id": "kz-a1", "name": "Alpha smelter", "region": "North",
     "capacity_tonnes_per_year": 1000, "green_operational": True, "workers_certified": 120,
     "records": [
         {"metal": "copper", "period": "2025-01", "production_tonnes": 100.5,
          "co2_tonnes": 90.25, "energy_mwh": 400, "waste_tonnes": 10,
          "waste_recycled_tonnes": 8},
         {"metal": "copper", "period": "2025-02", "production_tonnes": 200.25},
         {"metal": "copper", "period": "2024-01", "production_tonnes": 120},
         {"metal": "zinc", "period": "2025-01-15", "production_tonnes": 30}]},
    {"id": "kz-a2", "records": [
        {"metal": "copper", "period": "2025-01", "production_tonnes": 50, "co2_tonnes": None},
        {"metal": "zinc", "period": "2024-03", "production_tonnes": 12.5}]},
    {"id": "kz-x", "records": [
        {"metal": "copper", "period": "2025-01", "production_tonnes": 999}]}]}
FEED1_RECORDS = 6  # kz-x is not allowed


def scenario_decode_and_restart(ctx):
    server, tmp = ctx["server"], ctx["tmp"]
    server.set("/one.json", FEED1)
    state = os.path.join(tmp, "s1-state")
    feed = {"name": "f1", "url": server.url("/one.json"), "interval": "1h",
            "plants": ["kz-a1", "kz-a2"]}
    d = Daemon(tmp, "s1", make_config(state, [feed])).start()
    try:
        require("s1: ingotd ready", d.wait_ready())
        r = d.get("/snapshot")
        require("s1: GET /snapshot is 200 application/x-protobuf",
                r and r[0] == 200 and r[1].get("content-type") == "application/x-protobuf",
                r and (r[0], r[1]))
        status, headers, plain = r
        snap = decode(plain)
        require("s1: protoc decodes /snapshot as ingot.v1.Snapshot", snap is not None)

        # The store: plants, attributes, records, absent stays absent.
        check("s1: plant ids are kz-a1, kz-a2 (kz-x not allowed)",
              [one(p, "id") for p in snap.get("plants", [])] == ["kz-a1", "kz-a2"],
              [one(p, "id") for p in snap.get("plants", [])])
        a1 = plant_of(snap, "kz-a1")
        check("s1: kz-a1's attributes", one(a1, "name") == "Alpha smelter" and
              one(a1, "region") == "North" and one(a1, "capacity_tonnes_per_year") == 1000 and
              one(a1, "green_operational") is True and one(a1, "workers_certified") == 120, a1)
        check("s1: kz-a2 reported no attributes",
              not {"name", "region", "capacity_tonnes_per_year"} & set(plant_of(snap, "kz-a2")))
        recs = records_of(snap)
        check("s1: kz-a1 copper 2025-01 with every quantity",
              recs.get(("kz-a1", "copper", "2025-01")) ==
              {"production_tonnes": 100.5, "co2_tonnes": 90.25, "energy_mwh": 400,
               "waste_tonnes": 10, "waste_recycled_tonnes": 8},
              recs.get(("kz-a1", "copper", "2025-01")))
        check("s1: kz-a1 copper 2025-02: production 200.25, no co2 (absent, not 0)",
              recs.get(("kz-a1", "copper", "2025-02")) == {"production_tonnes": 200.25},
              recs.get(("kz-a1", "copper", "2025-02")))
        check("s1: kz-a2 copper 2025-01: co2 null in the feed is absent",
              recs.get(("kz-a2", "copper", "2025-01")) == {"production_tonnes": 50},
              recs.get(("kz-a2", "copper", "2025-01")))
        check("s1: a day record keeps its period", ("kz-a1", "zinc", "2025-01-15") in recs)
        check(f"s1: {FEED1_RECORDS} records in the snapshot", len(recs) == FEED1_RECORDS,
              sorted(recs))
        check("s1: records by period within a series",
              [one(r_, "period") for r_ in
               plant_of(snap, "kz-a1")["series"][0]["records"]] ==
              ["2024-01", "2025-01", "2025-02"])

        # Configuration: metals and targets.
        check("s1: metals [copper, zinc]", snap.get("metals") == ["copper", "zinc"],
              snap.get("metals"))
        targets = one(snap, "targets", {})
        years = targets.get("years", [])
        cu = [m for m in years[0].get("metals", []) if one(m, "metal") == "copper"] if years else []
        check("s1: targets: baseline 2024, 2025 copper 1000 t, growth 0.085",
              one(targets, "baseline_year") == 2024 and one(years[0], "year") == 2025 and
              cu and one(cu[0], "production_tonnes") == 1000 and
              one(cu[0], "growth_ratio") == 0.085, targets)
        check("s1: the initiative's target and dates",
              [(one(i, "name"), one(i, "measure"), one(i, "target"), one(i, "start_date"),
                one(i, "deadline_date")) for i in targets.get("initiatives", [])] ==
              [("certification", "workers_certified", 1000, "2024-01-01", "2025-12-31")])

        # National figures, by hand.
        cu25 = national_metal(snap, 2025, "copper")
        check("s1: national copper 2025 = 100.5 + 200.25 + 50 = 350.75",
              one(cu25, "production_tonnes") == 350.75, cu25)
        check("s1: national copper 2024 = 120",
              one(national_metal(snap, 2024, "copper"), "production_tonnes") == 120)
        check("s1: national zinc 2025 = 30, 2024 = 12.5",
              one(national_metal(snap, 2025, "zinc"), "production_tonnes") == 30 and
              one(national_metal(snap, 2024, "zinc"), "production_tonnes") == 12.5)
        # Like for like: Jan+Feb 2025 against Jan+Feb 2024 (only January).
        check("s1: copper growth 2025 = 350.75 / 120 - 1",
              close(one(cu25, "growth_ratio"), 350.75 / 120 - 1), cu25)
        check("s1: copper projected 2025 = 350.75 / 2 * 12",
              close(one(cu25, "projected_tonnes"), 350.75 / 2 * 12), cu25)
        check("s1: copper target progress 2025 = 350.75 / 1000",
              close(one(cu25, "target_progress_ratio"), 0.35075) and
              one(cu25, "target_production_tonnes") == 1000, cu25)
        y25 = national_year(snap, 2025)
        check("s1: output vs baseline 2025 = (350.75 + 30) / (120 + 12.5)",
              close(one(y25, "output_vs_baseline"), 380.75 / 132.5), y25)
        check("s1: CO2 intensity 2025 over the one matched record = 90.25 / 100.5",
              close(one(y25, "co2_intensity_tonnes_per_tonne"), 90.25 / 100.5), y25)
        check("s1: data quality 2025: 2 plants report copper, 1 reports zinc",
              one(cu25, "plants_reporting") == 2 and
              one(national_metal(snap, 2025, "zinc"), "plants_reporting") == 1, cu25)
        check("s1: emissions coverage 2025 = 100.5 / (350.75 + 30)",
              close(one(y25, "emissions_coverage_ratio"), 100.5 / 380.75), y25)
        initiatives = one(snap, "national", {}).get("initiatives", [])
        check("s1: initiative value 120, progress 0.12",
              initiatives and one(initiatives[0], "value") == 120 and
              close(one(initiatives[0], "progress_ratio"), 0.12), initiatives)
        check("s1: national evaluated at --time.now, current year 2025",
              one(one(snap, "national"), "evaluated_at_unix_s") == 1751328000 and
              one(one(snap, "national"), "current_year") == 2025)

        # The feed's status.
        feeds = snap.get("feeds", [])
        f1 = feeds[0] if feeds else {}
        rejected = {one(x, "reason"): one(x, "records") for x in f1.get("records_rejected", [])}
        check("s1: feed f1 up, 1 fetch ok, 0 errors, 6 accepted, 6 changed",
              len(feeds) == 1 and one(f1, "name") == "f1" and one(f1, "up") is True and
              one(f1, "fetches_ok") == 1 and one(f1, "fetches_error") == 0 and
              one(f1, "records_accepted") == FEED1_RECORDS and
              one(f1, "records_changed") == FEED1_RECORDS and
              one(f1, "last_success_unix_ms", 0) > 1.6e12, f1)
        check("s1: feed f1 rejected: every reason listed in order, plant_not_allowed 1",
              [one(x, "reason") for x in f1.get("records_rejected", [])] == list(REASONS) and
              rejected == {r_: (1 if r_ == "plant_not_allowed" else 0) for r_ in REASONS},
              rejected)
        check("s1: written by this ingot, taken recently",
              one(snap, "ingot_version") and
              abs(one(snap, "taken_at_unix_ms", 0) / 1000 - time.time()) < 600, snap.get(
                  "ingot_version"))
        metrics = d.metrics()
        check("s1: /metrics and /snapshot agree on national copper 2025",
              sample(metrics, "ingot_national_production_tonnes", metal="copper",
                     year="2025") == 350.75)

        # HTTP: gzip, ETag, conditional requests, HEAD, POST.
        etag = headers.get("etag")
        check("s1: ETag is a quoted entity tag", etag and re.fullmatch(r'"[^"]+"', etag), etag)
        check("s1: Vary names Accept-Encoding", "accept-encoding" in
              headers.get("vary", "").lower(), headers.get("vary"))
        check("s1: identity body carries no Content-Encoding",
              "content-encoding" not in headers)
        again = d.get("/snapshot")
        check("s1: unchanged data: same ETag, same bytes",
              again and again[1].get("etag") == etag and again[2] == plain)
        gz = d.get("/snapshot", headers={"Accept-Encoding": "gzip"})
        check("s1: Accept-Encoding gzip: Content-Encoding gzip",
              gz and gz[0] == 200 and gz[1].get("content-encoding") == "gzip", gz and gz[1])
        try:
            unzipped = gzip.decompress(gz[2]) if gz else None
        except OSError as e:
            unzipped = e
        check("s1: gunzipped body equals the plain body", unzipped == plain,
              f"{len(plain)} plain bytes vs {unzipped!r:.80}")
        gz_etag = gz[1].get("etag") if gz else None
        check("s1: the gzip body has its own ETag (RFC 9110 8.8.3)",
              gz_etag and gz_etag != etag and re.fullmatch(r'"[^"]+"', gz_etag), gz_etag)
        gz_nm = d.get("/snapshot", headers={"Accept-Encoding": "gzip", "If-None-Match": gz_etag or ""})
        check("s1: If-None-Match with the gzip ETag, gzip accepted: 304",
              gz_nm and gz_nm[0] == 304 and gz_nm[2] == b"", gz_nm and gz_nm[0])
        check("s1: gzip declined by q=0 gives identity",
              (lambda x: x and x[0] == 200 and "content-encoding" not in x[1] and
               x[2] == plain)(d.get("/snapshot", headers={"Accept-Encoding": "gzip;q=0"})))
        for desc, inm in (("the ETag", etag), ("its weak form", f"W/{etag}"),
                          ("a list holding it", f'"nope", {etag}'), ("*", "*")):
            nm = d.get("/snapshot", headers={"If-None-Match": inm})
            check(f"s1: If-None-Match {desc}: 304, empty body, no Content-Length, same ETag, "
                  "Vary and Cache-Control",
                  nm and nm[0] == 304 and nm[2] == b"" and "content-length" not in nm[1] and
                  nm[1].get("etag") == etag and nm[1].get("vary") == headers.get("vary") and
                  nm[1].get("cache-control") == headers.get("cache-control"),
                  nm and (nm[0], nm[1], nm[2][:40]))
        nm = d.get("/snapshot", headers={"If-None-Match": '"0123456789abcdef"'})
        check("s1: If-None-Match another ETag: 200 with the body",
              nm and nm[0] == 200 and nm[2] == plain, nm and nm[0])
        head = d.get("/snapshot", method="HEAD")
        check("s1: HEAD: 200, no body, the GET's Content-Length and ETag",
              head and head[0] == 200 and head[2] == b"" and
              head[1].get("content-length") == str(len(plain)) and
              head[1].get("etag") == etag, head and (head[0], head[1]))
        post = d.get("/snapshot", method="POST", headers={"Content-Length": "0"})
        check("s1: POST /snapshot: 405 with Allow GET, HEAD",
              post and post[0] == 405 and
              {m.strip() for m in post[1].get("allow", "").split(",")} >= {"GET", "HEAD"},
              post and (post[0], post[1]))

        # Snapshot files: one write after the fetch, none while nothing changes.
        def writes():
            t = d.metrics()
            return t if sample(t, "ingot_snapshot_writes_total", result="ok") else None
        text = wait_until(writes, 5 * SLOW)
        check("s1: a snapshot file is written within the 1s interval after the fetch", text)
        time.sleep(2.5)
        text = d.metrics()
        files = snapshot_files(state)
        check("s1: nothing changed for 2.5 s: still 1 write, 0 errors, 1 file",
              sample(text, "ingot_snapshot_writes_total", result="ok") == 1 and
              sample(text, "ingot_snapshot_writes_total", result="error") == 0 and
              len(files) == 1, (sample(text, "ingot_snapshot_writes_total", result="ok"), files))
        check("s1: ingot_snapshot_enabled 1, nothing restored into an empty state_dir",
              sample(text, "ingot_snapshot_enabled") == 1 and
              sample(text, "ingot_snapshot_restored_records") == 0)
        size = os.path.getsize(os.path.join(state, files[0])) if files else None
        check("s1: ingot_snapshot_last_write_bytes = the file's size less its 20-byte header",
              size is not None and sample(text, "ingot_snapshot_last_write_bytes") == size - 20,
              (sample(text, "ingot_snapshot_last_write_bytes"), size))
        ts = sample(text, "ingot_snapshot_last_write_success_timestamp_seconds")
        check("s1: ingot_snapshot_last_write_success_timestamp_seconds is a few seconds ago",
              ts is not None and 0 <= time.time() - ts < 30 * SLOW, ts)

        # Scenario 2: a clean stop leaves a sound file holding the records.
        before_metrics = d.metrics()
        rc = d.stop()
        check("s2: SIGTERM exits 0", rc == 0, f"rc={rc}")
        files = snapshot_files(state)
        require("s2: a snapshot file in state_dir after SIGTERM", files, os.listdir(state))
        newest = os.path.join(state, files[-1])
        payload, why = read_frame(newest)
        require("s2: the newest file's framing is sound (magic, length, CRC-32)",
                payload is not None, why)
        if ARGS.ingotctl:
            v = ingotctl_verify(newest)
            check("s2: ingotctl snapshot verify: ok, 2 plants, 6 records",
                  v[0] == 0 and re.fullmatch(re.escape(newest) + r": ok, taken \S+Z by ingot "
                                             r"\S+, 2 plants, 6 records\n", v[1]), v)
        check("s2: file mode 0640", (os.stat(newest).st_mode & 0o777) == 0o640,
              oct(os.stat(newest).st_mode))
        file_snap = decode(payload)
        check("s2: the file decodes to the records /snapshot served",
              records_of(file_snap) == recs, records_of(file_snap))
        ctx["good_file"] = newest
        ctx["good_records"] = recs

        # Restart with the feed pointing nowhere: only the restore has data.
        feed_nowhere = dict(feed, url=nowhere_url(), interval="1h")
        d.write_config(make_config(state, [feed_nowhere], snapshot="{interval: 1h}"))
        d.start()
        require("s2: restarted ingotd ready", d.wait_ready())
        after = d.metrics()
        check("s2: the feed is down after the restart (data can only come from the restore)",
              sample(after, "ingot_feed_up", feed="f1") == 0)
        for name in ("ingot_national_production_tonnes", "ingot_plant_production_tonnes",
                     "ingot_plant_co2_tonnes", "ingot_national_co2_intensity_tonnes_per_tonne",
                     "ingot_national_output_vs_baseline_ratio", "ingot_initiative_value",
                     "ingot_plant_capacity_tonnes_per_year", "ingot_plant_info",
                     "ingot_plant_green_operational", "ingot_plant_workers_certified",
                     "ingot_plant_last_period_timestamp_seconds",
                     "ingot_national_production_growth_ratio"):
            b, a = series(before_metrics, name), series(after, name)
            check(f"s2: {name} equal before and after the restart ({len(a)} series)",
                  a == b and a, f"before {b}, after {a}")
        check("s2: ingot_snapshot_restored_records is 6",
              sample(after, "ingot_snapshot_restored_records") == FEED1_RECORDS,
              sample(after, "ingot_snapshot_restored_records"))
        check("s2: the log says restored 6 records of 2 plants",
              "restored 6 records of 2 plants from the snapshot taken at" in d.log(),
              d.log()[-1500:])
        check("s2: /snapshot after the restart holds the same records",
              records_of(d.snapshot()) == recs)
        rc = d.stop()
        check("s2: SIGTERM exits 0 after the restore", rc == 0, f"rc={rc}")

        # Restored as stored, also for a metal the config no longer lists.
        copper_only = TARGETS.replace("{copper: 1000, zinc: 500}", "{copper: 1000}")
        d.write_config(make_config(state, [feed_nowhere], snapshot="{interval: 1h}",
                                   metals="[copper]", targets=copper_only))
        d.start()
        require("s2: restarted with metals [copper] only: ready", d.wait_ready())
        text = d.metrics()
        check("s2: metals [copper]: all 6 records restored, zinc's kept in /snapshot",
              sample(text, "ingot_snapshot_restored_records") == 6 and
              records_of(d.snapshot()) == recs)
        check("s2: metals [copper]: copper figures unchanged, no zinc series",
              sample(text, "ingot_national_production_tonnes", metal="copper",
                     year="2025") == 350.75 and
              not any(("metal", "zinc") in k
                      for k in series(text, "ingot_national_production_tonnes")))
        rc = d.stop()
        check("s2: SIGTERM exits 0", rc == 0, f"rc={rc}")
    finally:
        d.kill()


# --------------------------------------------------------------------------
# Scenario 6: the clock went back

def scenario_clock_back(ctx):
    """A sound snapshot named in 2099 (the clock was ahead when it was
    written, then stepped back): the snapshots written afterwards are named
    after it, so the next start restores them, not the old one."""
    server, tmp = ctx["server"], ctx["tmp"]
    require("s6: scenario 2 left a good snapshot file", ctx.get("good_file"))
    state = os.path.join(tmp, "s6-state")
    os.makedirs(state)
    future = "snapshot-20991231T235959.999Z.pb"
    shutil.copy(ctx["good_file"], os.path.join(state, future))
    newer = json.loads(json.dumps(FEED1))
    newer["plants"][0]["records"][0]["production_tonnes"] = 700.5
    server.set("/s6.json", newer)
    feed = {"name": "f1", "url": server.url("/s6.json"), "interval": "1h",
            "plants": ["kz-a1", "kz-a2"]}
    d = Daemon(tmp, "s6", make_config(state, [feed]))
    try:
        d.start()
        require("s6: ingotd ready", d.wait_ready())
        written = wait_until(lambda: (sample(d.metrics(), "ingot_snapshot_writes_total",
                                             result="ok") or 0) >= 1 or None, 10 * SLOW)
        check("s6: a snapshot of the new data is written", written)
        rc = d.stop()
        check("s6: SIGTERM exits 0", rc == 0, f"rc={rc}")
        files = snapshot_files(state)
        check("s6: the newest name is after the 2099 one", files and files[-1] > future,
              files)
        d.write_config(make_config(state, [dict(feed, url=nowhere_url())],
                                   snapshot="{interval: 1h}"))
        d.start()
        require("s6: restarted ingotd ready", d.wait_ready())
        check("s6: the restart restores the data written last, not the 2099 file",
              sample(d.metrics(), "ingot_plant_production_tonnes", plant="kz-a1",
                     metal="copper", year="2025") == 900.75,  # 700.5 + 200.25
              series(d.metrics(), "ingot_plant_production_tonnes"))
        rc = d.stop()
        check("s6: SIGTERM exits 0 after the restore", rc == 0, f"rc={rc}")
    finally:
        d.kill()


# --------------------------------------------------------------------------
# Scenario 3: bad files in state_dir


def scenario_bad_files(ctx):
    tmp = ctx["tmp"]
    require("s3: scenario 2 left a good snapshot file", ctx.get("good_file"))
    good_name = os.path.basename(ctx["good_file"])
    with open(ctx["good_file"], "rb") as f:
        good = f.read()
    payload = good[HEADER:]
    n = len(payload)
    flipped = bytearray(good)
    flipped[HEADER + n // 2] ^= 0x10
    garbage = bytes(random.Random(7).randrange(256) for _ in range(300))
    garbage = b"\x00" + garbage[1:]
    feed_text = json.dumps(FEED1).encode()
    bad_name = "snapshot-20991231T235959.999Z.pb"  # sorts newest
    variants = [
        ("truncated", good[:-7], re.escape(f"truncated: {n - 7} of {n} payload bytes")),
        ("cut inside the header", good[:12], re.escape("too short for a snapshot header")),
        ("empty", b"", re.escape("empty file")),
        ("garbage", garbage, re.escape("not a snapshot file (bad magic)")),
        ("a flipped payload bit", bytes(flipped), re.escape("checksum mismatch")),
        ("trailing bytes", good + b"xyz", re.escape("3 trailing bytes after the payload")),
        ("foreign: a JSON document", feed_text, re.escape("not a snapshot file (bad magic)")),
        ("foreign: framed, empty message", frame(b""),
         re.escape("not a snapshot: taken_at_unix_ms missing")),
        ("foreign: framed JSON", frame(feed_text), None),  # some decoding error
        ("a directory", None, "not a regular file"),
        ("sound protobuf, an invalid plant id", frame(hand_snapshot("Bad Id")),
         r'plant 1 \(byte \d+\): invalid id "Bad Id"'),
        ("sound protobuf, a NaN production", frame(hand_snapshot(production=math.nan)),
         r"plant kz-future, metal .?copper.?, period 2025-03: production_tonnes nan out of "
         r"range"),
        ("sound protobuf, no taken_at", frame(hand_snapshot(taken_at=False)),
         re.escape("not a snapshot: taken_at_unix_ms missing")),
        ("taken_at with the wrong wire type", frame(hand_snapshot(extra=pb_bytes(1, "x"))),
         r"byte \d+: field 1 \(taken_at_unix_ms\): wire type 2, expected 0"),
        ("a message cut short inside", frame(hand_snapshot() + pb_tag(6, 2) + pb_varint(50) +
                                            b"short"),
         r"byte \d+: field 6 \(plants\) truncated: 50 bytes of value, 5 left"),
    ]
    feed = {"name": "f1", "url": nowhere_url(), "interval": "1h", "plants": ["kz-a1", "kz-a2"]}
    for i, (desc, content, reason) in enumerate(variants):
        state = os.path.join(tmp, f"s3-state-{i}")
        os.makedirs(state)
        shutil.copy(ctx["good_file"], os.path.join(state, good_name))
        bad = os.path.join(state, bad_name)
        if content is None:
            os.mkdir(bad)
        else:
            with open(bad, "wb") as f:
                f.write(content)
        verdict = ingotctl_verify(bad)
        d = Daemon(tmp, f"s3-{i}", make_config(state, [feed], snapshot="{interval: 1h}"))
        try:
            d.start()
            ok = d.wait_ready()
            log = d.log()
            m = re.search(r"level=warn snapshot " + re.escape(bad) + r" skipped: (.*)", log)
            check(f"s3 {desc}: logged at warn as skipped with its reason",
                  m and (reason is None or re.fullmatch(reason, m.group(1))) and m.group(1),
                  m.group(1) if m else log[-1200:])
            if verdict and content is not None and content[:8] == MAGIC:
                check(f"s3 {desc}: ingotctl snapshot verify exits 1 with ingotd's reason",
                      verdict[0] == 1 and m and verdict[2] == f"{bad}: {m.group(1)}\n", verdict)
            elif verdict:
                # Without the magic ingotctl reads a file as a bare payload
                # (curl -o of /snapshot): refused too, in its own words.
                check(f"s3 {desc}: ingotctl snapshot verify exits 1 with a reason",
                      verdict[0] == 1 and verdict[1] == "" and
                      re.fullmatch(re.escape(bad) + r": .+\n", verdict[2]), verdict)
            text = d.metrics() if ok else None
            check(f"s3 {desc}: the previous file is restored (6 records, copper 2025 350.75)",
                  ok and sample(text, "ingot_snapshot_restored_records") == 6 and
                  sample(text, "ingot_national_production_tonnes", metal="copper",
                         year="2025") == 350.75 and
                  "restored 6 records of 2 plants" in log, text and
                  (sample(text, "ingot_snapshot_restored_records"), log[-800:]))
            rc = d.stop()
            check(f"s3 {desc}: SIGTERM exits 0", rc == 0, f"rc={rc}")
        finally:
            d.kill()

    # A snapshot from a later v1: fields this reader does not know, at every
    # level, are skipped, and the snapshot is taken (not the older good one).
    future = hand_snapshot()
    decoded = decode(future)
    check("s3 later v1: protoc reads the hand-made snapshot (unknown fields as numbers)",
          records_of(decoded) == {("kz-future", "copper", "2025-03"): {
              "production_tonnes": 42.0, "77": 0x3FF8000000000000, "78": "later", "79": 3,
              "80": 0x04030201}}, records_of(decoded) if decoded else None)
    state = os.path.join(tmp, "s3-later-v1")
    os.makedirs(state)
    shutil.copy(ctx["good_file"], os.path.join(state, good_name))
    with open(os.path.join(state, bad_name), "wb") as f:
        f.write(frame(future))
    if ARGS.ingotctl:
        v = ingotctl_verify(os.path.join(state, bad_name))
        check("s3 later v1: ingotctl snapshot verify accepts it (1 plant, 1 record)",
              v[0] == 0 and v[1].endswith(": ok, taken 2025-07-01T00:00:00Z by ingot 1.99.0, "
                                          "1 plants, 1 records\n"), v)
    d = Daemon(tmp, "s3-later-v1", make_config(state, [feed], snapshot="{interval: 1h}"))
    try:
        d.start()
        ok = d.wait_ready()
        log = d.log()
        text = d.metrics() if ok else None
        check("s3 later v1: taken, nothing skipped, logged with its version",
              "skipped" not in log and "restored 1 records of 1 plants from the snapshot taken "
              "at 2025-07-01T00:00:00Z by ingot 1.99.0" in log, log[-1000:])
        check("s3 later v1: its record is served (copper 2025 = 42, restored 1)",
              sample(text, "ingot_national_production_tonnes", metal="copper",
                     year="2025") == 42 and
              sample(text, "ingot_snapshot_restored_records") == 1 and
              sample(text, "ingot_plant_info", plant="kz-future",
                     plant_name="Future plant") == 1,
              text and series(text, "ingot_plant_production_tonnes"))
        check("s3 later v1: /snapshot holds exactly its record",
              records_of(d.snapshot()) == {("kz-future", "copper", "2025-03"):
                                           {"production_tonnes": 42.0}})
        rc = d.stop()
        check("s3 later v1: SIGTERM exits 0", rc == 0, f"rc={rc}")
    finally:
        d.kill()

    # Only bad files: start empty, stay healthy.
    state = os.path.join(tmp, "s3-only-bad")
    os.makedirs(state)
    bads = {"snapshot-20250101T000000.000Z.pb": good[:-1],
            "snapshot-20250102T000000.000Z.pb": b"",
            "snapshot-20250103T000000.000Z.pb": bytes(flipped)}
    for name, content in bads.items():
        with open(os.path.join(state, name), "wb") as f:
            f.write(content)
    d = Daemon(tmp, "s3-only-bad", make_config(state, [feed], snapshot="{interval: 1h}"))
    try:
        d.start()
        ok = d.wait_ready()
        log = d.log()
        check("s3 only bad files: each logged as skipped",
              all(f"snapshot {state}/{name} skipped: " in log for name in bads), log[-1500:])
        check("s3 only bad files: logs starting empty",
              f"no snapshot in {state}: starting empty" in log, log[-800:])
        check("s3 only bad files: /-/healthy 200", d.status("/-/healthy") == 200)
        text = d.metrics() if ok else None
        check("s3 only bad files: nothing restored, copper 2025 is 0, no plant series",
              sample(text, "ingot_snapshot_restored_records") == 0 and
              sample(text, "ingot_national_production_tonnes", metal="copper",
                     year="2025") == 0 and not series(text, "ingot_plant_production_tonnes"),
              text and sample(text, "ingot_snapshot_restored_records"))
        rc = d.stop()
        check("s3 only bad files: SIGTERM exits 0", rc == 0, f"rc={rc}")
    finally:
        d.kill()

    # Files not named like snapshots are ignored, and left alone.
    state = os.path.join(tmp, "s3-other-names")
    os.makedirs(state)
    shutil.copy(ctx["good_file"], os.path.join(state, good_name))
    others = ["snapshot-latest.pb", "snapshot-20991231T235959.99Z.pb",
              "snapshot-20991231T235959.999Z.pb.bak", "Snapshot-20991231T235959.999Z.pb",
              "notes.txt", ".snapshot-20991231T235959.999Z.pb.tmp"]
    for name in others:
        with open(os.path.join(state, name), "wb") as f:
            f.write(garbage)
    d = Daemon(tmp, "s3-other-names", make_config(state, [feed], snapshot="{interval: 1h}"))
    try:
        d.start()
        ok = d.wait_ready()
        log = d.log()
        check("s3 other names: none is looked at (nothing skipped)", "skipped" not in log,
              log[-1200:])
        text = d.metrics() if ok else None
        check("s3 other names: the snapshot is restored",
              sample(text, "ingot_snapshot_restored_records") == 6)
        rc = d.stop()  # the failed fetch changed the state: a last snapshot is written
        check("s3 other names: SIGTERM exits 0", rc == 0, f"rc={rc}")
        left = set(os.listdir(state))
        check("s3 other names: a snapshot was written at the stop, the foreign files stay",
              len(snapshot_files(state)) == 2 and set(others[:5]) <= left,
              sorted(left))
    finally:
        d.kill()

    # A state_dir that is a regular file, or whose parent is missing.
    for desc, state in (("a regular file", os.path.join(tmp, "s3-state-file")),
                        ("under a missing parent", os.path.join(tmp, "missing", "state"))):
        if desc == "a regular file":
            with open(state, "w") as f:
                f.write("not a directory\n")
        d = Daemon(tmp, "s3-" + desc.replace(" ", "-"),
                   make_config(state, [feed], snapshot="{interval: 1s}"))
        try:
            d.start()
            ok = d.wait_ready()
            text = d.metrics() if ok else None
            check(f"s3 state_dir {desc}: ingotd serves, ingot_snapshot_enabled 0",
                  ok and d.status("/-/healthy") == 200 and
                  sample(text, "ingot_snapshot_enabled") == 0,
                  text and sample(text, "ingot_snapshot_enabled"))
            check(f"s3 state_dir {desc}: logged as an error naming it",
                  re.search(r"level=error state_dir " + re.escape(state), d.log()),
                  d.log()[-800:])
            rc = d.stop()
            check(f"s3 state_dir {desc}: SIGTERM exits 0", rc == 0, f"rc={rc}")
        finally:
            d.kill()
    with open(os.path.join(tmp, "s3-state-file")) as f:
        check("s3 state_dir a regular file: left untouched", f.read() == "not a directory\n")
    check("s3 state_dir under a missing parent: not created",
          not os.path.exists(os.path.join(tmp, "missing")))

    # A relative state_dir is relative to the config file, not to the cwd.
    d = Daemon(tmp, "s3-relative", make_config("state", [feed], snapshot="{interval: 1h}"))
    try:
        d.start()
        d.wait_ready()
        rc = d.stop()
        check("s3 relative state_dir: SIGTERM exits 0", rc == 0, f"rc={rc}")
        where = os.path.join(d.dir, "state")
        check("s3 relative state_dir: the snapshot is beside the config, not in the cwd",
              os.path.isdir(where) and len(snapshot_files(where)) == 1 and
              not os.path.exists(os.path.join(d.cwd, "state")),
              os.listdir(d.dir))
    finally:
        d.kill()

    # A state_dir that goes away while ingotd runs: writes fail, are counted,
    # and are retried once it is back. (A failed fetch every second changes
    # the state every second.)
    state = os.path.join(tmp, "s3-vanishing-state")
    fast = dict(feed, interval="1s")
    d = Daemon(tmp, "s3-vanishing", make_config(state, [fast], snapshot="{interval: 1s}"))
    try:
        d.start()
        d.wait_ready()

        def writes(result, at_least):
            t = d.metrics()
            return t if (sample(t, "ingot_snapshot_writes_total", result=result) or 0) >= \
                at_least else None
        text = wait_until(lambda: writes("ok", 1), 5 * SLOW)
        check("s3 vanishing state_dir: a first snapshot written", text)
        shutil.rmtree(state)
        with open(state, "w") as f:
            f.write("in the way\n")
        text = wait_until(lambda: writes("error", 1), 5 * SLOW)
        check("s3 vanishing state_dir: the failed write is counted (result=error)", text)
        check("s3 vanishing state_dir: logged, ingotd still serving",
              "snapshot not written to " + state in d.log() and
              d.status("/-/healthy") == 200, d.log()[-800:])
        ok_before = sample(d.metrics(), "ingot_snapshot_writes_total", result="ok")
        os.remove(state)
        os.mkdir(state)
        text = wait_until(lambda: writes("ok", (ok_before or 0) + 1), 5 * SLOW)
        check("s3 vanishing state_dir: back again, the next write succeeds",
              text and snapshot_files(state), os.listdir(state))
        rc = d.stop()
        check("s3 vanishing state_dir: SIGTERM exits 0", rc == 0, f"rc={rc}")
    finally:
        d.kill()


# --------------------------------------------------------------------------
# Scenario 4: SIGKILL at random moments


def month(i):
    return f"{2019 + i // 12}-{i % 12 + 1:02d}"


def day(i):
    return time.strftime("%Y-%m-%d", time.gmtime(1609459200 + 86400 * i))  # from 2021-01-01


def crash_doc(r):
    """Round r's feed: kz-c1 reports one more month each round (its first month
    restated every round); kz-bulk restates 730 day records every round."""
    c1 = []
    for i in range(r + 1):
        rec = {"metal": "copper", "period": month(i),
               "production_tonnes": 1000 + r if i == 0 else 10 + i}
        if i % 2 == 0:
            rec["co2_tonnes"] = 5 + i * 0.25
        c1.append(rec)
    bulk = [{"metal": "zinc", "period": day(i), "production_tonnes": 1 + i % 50 + r * 0.25}
            for i in range(730)]
    return {"schema": "ingot.feed.v1", "plants": [
        {"id": "kz-c1", "name": f"Crash round {r}", "records": c1},
        {"id": "kz-bulk", "records": bulk}]}


def doc_records(doc):
    out = {}
    for p in doc["plants"]:
        for rec in p["records"]:
            out[(p["id"], rec["metal"], rec["period"])] = {
                k: float(v) for k, v in rec.items() if k not in ("metal", "period")}
    return out


def scenario_crash(ctx):
    server, tmp = ctx["server"], ctx["tmp"]
    rng = random.Random(ARGS.seed)
    keep = 3
    state = os.path.join(tmp, "s4-state")
    feed = {"name": "crash", "url": server.url("/crash.json"), "interval": "1s",
            "plants": ["kz-c1", "kz-bulk"]}
    config = make_config(state, [feed], snapshot=f"{{interval: 1s, keep: {keep}}}")
    expected = None      # the records of the newest file, after the last kill
    newest_seen = None
    advanced = 0         # rounds after which the newest file was a new one
    unsound = []         # (round, file, why)
    too_many = []        # (round, count)
    missing = []         # (round, key, why)
    restored_wrong = []  # (round, metric, expected)
    checked = 0
    killed_mid_write = 0
    temporaries_seen = set()
    unhealthy = []
    started = time.monotonic()
    modes = {"start-up": 0, "around the write": 0, "mid-write": 0, "later": 0}
    for r in range(ARGS.rounds):
        doc = crash_doc(r)
        server.set("/crash.json", doc)
        feed_now = doc_records(doc)
        roll = rng.random()
        mode = ("start-up" if roll < 0.25 else "around the write" if roll < 0.45 else
                "mid-write" if roll < 0.65 else "later")
        modes[mode] += 1
        d = Daemon(tmp, "s4", config)
        try:
            d.start()
            if mode == "start-up":
                time.sleep(rng.uniform(0, 0.3) * SLOW)
            else:
                if not d.wait_healthy():
                    unhealthy.append(r)
                # The snapshot timer is armed just before the loop serves.
                serving = time.monotonic()
                delay = rng.uniform(0, 1.3) if mode == "later" else rng.uniform(0.9, 1.15)
                if expected is not None:
                    checked += 1
                    got = records_of(d.snapshot())
                    for key, value in expected.items():
                        if key not in got:
                            missing.append((r, key, "absent"))
                        elif got[key] != value and got[key] != feed_now.get(key):
                            missing.append((r, key, f"{got[key]} is neither the stored "
                                                    f"{value} nor the feed's {feed_now.get(key)}"))
                    text = d.metrics()
                    n = sample(text, "ingot_snapshot_restored_records")
                    if n != len(expected):
                        restored_wrong.append((r, n, len(expected)))
                time.sleep(max(0.0, serving + delay - time.monotonic()))
                if mode == "mid-write":
                    # Kill as soon as the writer's temporary shows (between
                    # its creation and the rename), or give up after 0.4 s.
                    before = set(os.listdir(state)) if os.path.isdir(state) else set()
                    wait_until(lambda: os.path.isdir(state) and
                               set(os.listdir(state)) - before, 0.4, 0.0005)
            d.proc.kill()
        finally:
            d.kill()
        listing = set(os.listdir(state)) if os.path.isdir(state) else set()
        temporaries = {n for n in listing if n.endswith(".tmp")}
        if temporaries - temporaries_seen:
            killed_mid_write += 1  # the kill left a new temporary behind
        temporaries_seen |= temporaries
        files = snapshot_files(state) if listing else []
        if len(files) > keep:  # old files go before a new one is renamed in
            too_many.append((r, len(files)))
        for name in files:
            payload, why = read_frame(os.path.join(state, name))
            if payload is None:
                unsound.append((r, name, why))
        verdict = ingotctl_verify(*[os.path.join(state, n) for n in files]) if files else None
        if verdict and verdict[0] != 0:
            unsound.append((r, "ingotctl snapshot verify", verdict[2].strip()))
        if files and files[-1] != newest_seen:
            newest_seen = files[-1]
            payload, _ = read_frame(os.path.join(state, newest_seen))
            snap = decode(payload) if payload is not None else None
            if snap is None:
                unsound.append((r, newest_seen, "protoc cannot decode it"))
            expected = records_of(snap)
            advanced += 1
    elapsed = time.monotonic() - started
    print(f"     s4: seed {ARGS.seed}, {ARGS.rounds} rounds in {elapsed:.1f}s, modes {modes}, "
          f"{advanced} new newest files, {checked} checked restarts, "
          f"{killed_mid_write} kills caught the writer mid-write (left a temporary)",
          flush=True)
    check(f"s4: {ARGS.rounds} SIGKILLs: every snapshot file sound after every kill",
          not unsound, unsound[:5])
    check(f"s4: at most keep = {keep} snapshot files after every kill, however often",
          not too_many,
          too_many[:5])
    check("s4: ingotd healthy after every checked restart", not unhealthy, unhealthy[:5])
    enough = max(3, ARGS.rounds // 10)  # about 30 % of the rounds write one
    check(f"s4: snapshots kept being written (a new newest file in >= {enough} rounds: "
          f"{advanced})", advanced >= enough)
    check(f"s4: every record of the newest file served after each of {checked} restarts",
          checked >= enough and not missing, missing[:5] or f"{checked} checked")
    check("s4: ingot_snapshot_restored_records = the newest file's records at every restart",
          not restored_wrong, restored_wrong[:5])

    # A last, clean run: it catches up with the last round's feed and leaves
    # exactly that on disk, without temporaries.
    last = doc_records(crash_doc(ARGS.rounds - 1))
    d = Daemon(tmp, "s4", config)
    try:
        d.start()
        caught_up = wait_until(lambda: records_of(d.snapshot()) == last, 10 * SLOW, 0.1)
        check(f"s4: a clean run serves the last round's {len(last)} records", caught_up)
        rc = d.stop()
        check("s4: SIGTERM exits 0", rc == 0, f"rc={rc}")
    finally:
        d.kill()
    files = snapshot_files(state)
    left = os.listdir(state)
    check(f"s4: after the clean stop: exactly keep = {keep} snapshot files, no temporary",
          len(files) == keep and not any(n.endswith(".tmp") for n in left), sorted(left))
    payload, why = read_frame(os.path.join(state, files[-1])) if files else (None, "none")
    check("s4: the newest file holds exactly the last round's records",
          payload is not None and records_of(decode(payload)) == last, why)


# --------------------------------------------------------------------------
# Scenario 5: facilities to national


FEED_A = {"schema": "ingot.feed.v1", "plants": [
    {"id": "kz-a1", "name": "Alpha smelter", "region": "North", "records": [
        {"metal": "copper", "period": "2024-01", "production_tonnes": 100},
        {"metal": "copper", "period": "2025-01", "production_tonnes": 110.5, "co2_tonnes": 55},
        {"metal": "copper", "period": "2025-02", "production_tonnes": 120}]},
    {"id": "kz-a2", "records": [
        {"metal": "zinc", "period": "2025-01", "production_tonnes": 40},
        {"metal": "copper", "period": "2025-03", "production_tonnes": 60.25}]}]}
FEED_B = {"schema": "ingot.feed.v1", "plants": [
    {"id": "kz-b1", "name": "Bravo works", "records": [
        {"metal": "copper", "period": "2025-01", "production_tonnes": 300, "co2_tonnes": 270},
        {"metal": "zinc", "period": "2025-02", "production_tonnes": 80}]}]}


def scenario_national(ctx):
    server, tmp = ctx["server"], ctx["tmp"]
    server.set("/fa.json", FEED_A)
    server.set("/fb.json", FEED_B)
    a = Daemon(tmp, "s5-a", make_config(os.path.join(tmp, "s5-a", "state"), [
        {"name": "fa", "url": server.url("/fa.json"), "plants": ["kz-a1", "kz-a2"]}]))
    b = Daemon(tmp, "s5-b", make_config(os.path.join(tmp, "s5-b", "state"), [
        {"name": "fb", "url": server.url("/fb.json"), "plants": ["kz-b1"]}]))
    nat_a = {"name": "nat_a", "url": f"http://127.0.0.1:{a.port}/snapshot",
             "format": "ingot-snapshot", "plants": ["kz-a1"]}  # kz-a2 left out
    nat_b = {"name": "nat_b", "url": f"http://127.0.0.1:{b.port}/snapshot",
             "format": "ingot-snapshot", "plants": ["kz-b1"]}
    nat_b2 = dict(nat_b, name="nat_b2")
    nat_state = os.path.join(tmp, "s5-n", "state")
    n = Daemon(tmp, "s5-n", make_config(nat_state, [nat_a, nat_b]))
    try:
        a.start()
        b.start()
        require("s5: facilities A and B ready", a.wait_ready() and b.wait_ready())
        check("s5: facility A's own national copper 2025 = 110.5 + 120 + 60.25 = 290.75",
              sample(a.metrics(), "ingot_national_production_tonnes", metal="copper",
                     year="2025") == 290.75)
        n.start()
        require("s5: national ready", n.wait_ready())

        # copper 2025: 110.5 + 120 (kz-a1) + 300 (kz-b1); kz-a2's 60.25 and 40 excluded.
        want = {("copper", "2024"): 100, ("copper", "2025"): 530.5,
                ("zinc", "2024"): 0, ("zinc", "2025"): 80}

        def national(d):
            text = d.metrics()
            return {k: sample(text, "ingot_national_production_tonnes", metal=k[0], year=k[1])
                    for k in want}
        got = wait_until(lambda: (g := national(n)) == want and g, 10 * SLOW)
        check("s5: national production = the allowed plants' hand sums "
              "(copper 2025 530.5, copper 2024 100, zinc 2025 80)", got, national(n))
        text = n.metrics()
        ok_a = sample(text, "ingot_feed_fetches_total", feed="nat_a", result="ok")
        rej = sample(text, "ingot_feed_records_rejected_total", feed="nat_a",
                     reason="plant_not_allowed")
        acc = sample(text, "ingot_feed_records_accepted_total", feed="nat_a")
        check("s5: nat_a rejects kz-a2's 2 records per fetch as plant_not_allowed",
              ok_a and rej and rej > 0 and rej == 2 * ok_a, f"{rej} rejected, {ok_a} fetches")
        check("s5: nat_a accepts kz-a1's 3 records per fetch", acc == 3 * ok_a,
              f"{acc} accepted, {ok_a} fetches")
        plants = {dict(k)["plant"] for k in series(text, "ingot_plant_production_tonnes")}
        check("s5: national plants are kz-a1 and kz-b1 only", plants == {"kz-a1", "kz-b1"},
              plants)
        check("s5: plant attributes travel: kz-a1's name and region",
              sample(text, "ingot_plant_info", plant="kz-a1", plant_name="Alpha smelter",
                     plant_region="North") == 1, series(text, "ingot_plant_info"))
        # Matched records only: (55 + 270) / (110.5 + 300); kz-a1 2025-02 has no co2.
        check("s5: national CO2 intensity 2025 = (55 + 270) / (110.5 + 300)",
              close(sample(text, "ingot_national_co2_intensity_tonnes_per_tonne", year="2025"),
                    325 / 410.5),
              sample(text, "ingot_national_co2_intensity_tonnes_per_tonne", year="2025"))
        nsnap = n.snapshot()
        check("s5: the national snapshot keeps kz-a1 2025-02 without co2",
              records_of(nsnap).get(("kz-a1", "copper", "2025-02")) ==
              {"production_tonnes": 120.0}, records_of(nsnap).get(("kz-a1", "copper", "2025-02")))

        # The same facility twice: reload with nat_b2 also pulling B.
        n.write_config(make_config(nat_state, [nat_a, nat_b, nat_b2]))
        n.proc.send_signal(signal.SIGHUP)
        fetched = wait_until(lambda: (t := n.metrics()) and
                             (sample(t, "ingot_feed_records_accepted_total", feed="nat_b2")
                              or 0) >= 2 and t, 10 * SLOW)
        check("s5: nat_b2 (B a second time) fetched and accepted B's records", fetched)
        time.sleep(1.2 * SLOW)  # a few more fetches of both
        check("s5: B configured twice: national production unchanged", national(n) == want,
              national(n))
        check("s5: kz-b1 copper 2025 counted once (300)",
              sample(n.metrics(), "ingot_plant_production_tonnes", plant="kz-b1",
                     metal="copper", year="2025") == 300)
        check("s5: the national store holds 5 records",
              len(records_of(n.snapshot())) == 5, sorted(records_of(n.snapshot())))

        # A restatement at facility A reaches the national figure.
        etag_before = (a.get("/snapshot") or (0, {}, b""))[1].get("etag")
        restated = json.loads(json.dumps(FEED_A))
        restated["plants"][0]["records"][1]["production_tonnes"] = 115
        server.set("/fa.json", restated)
        want["copper", "2025"] = 535  # 115 + 120 + 300
        got = wait_until(lambda: national(n) == want, 10 * SLOW)
        check("s5: a restatement at A (110.5 -> 115) gives national copper 2025 = 535",
              got, national(n))
        r = a.get("/snapshot", headers={"If-None-Match": etag_before or '"x"'})
        check("s5: A's ETag changed with its data: the old one gets 200",
              r and r[0] == 200 and r[1].get("etag") not in (None, etag_before),
              r and (r[0], r[1].get("etag"), etag_before))

        # Facility A restarts without its feed: its restored snapshot keeps
        # the national figure (the restatement was in A's last snapshot).
        rc = a.stop()
        check("s5: A exits 0 on SIGTERM", rc == 0, f"rc={rc}")
        a.write_config(make_config(os.path.join(tmp, "s5-a", "state"), [
            {"name": "fa", "url": nowhere_url(), "plants": ["kz-a1", "kz-a2"]}]))
        a.start()
        require("s5: A restarted without its feed", a.wait_ready())
        check("s5: A restored its 5 records",
              sample(a.metrics(), "ingot_snapshot_restored_records") == 5)
        ok_then = sample(n.metrics(), "ingot_feed_fetches_total", feed="nat_a", result="ok")
        fetched = wait_until(lambda: (sample(t := n.metrics(), "ingot_feed_fetches_total",
                                             feed="nat_a", result="ok") or 0) > ok_then and
                             sample(t, "ingot_feed_up", feed="nat_a") == 1, 10 * SLOW)
        check("s5: national pulls the restarted A again", fetched)
        check("s5: national copper 2025 still 535 from A's restored state", national(n) == want,
              national(n))
        for desc, d in (("restarted A", a), ("B", b), ("national", n)):
            rc = d.stop()
            check(f"s5: {desc} exits 0 on SIGTERM", rc == 0, f"rc={rc}")
    finally:
        for d in (a, b, n):
            d.kill()


# --------------------------------------------------------------------------


def main():
    global ARGS, SLOW
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingotd", required=True)
    ap.add_argument("--protoc", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--ingotctl")
    ap.add_argument("--slow", type=float, default=float(os.environ.get("INGOT_TEST_SLOW", 1)),
                    help="multiplies every wait (3 for sanitizer builds)")
    ap.add_argument("--seed", type=int, default=random.SystemRandom().randrange(1 << 30))
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--only", help="comma-separated scenario numbers")
    ARGS = ap.parse_args()
    SLOW = ARGS.slow
    os.umask(0o022)  # files are created 0640, checked below
    tmp = tempfile.mkdtemp(prefix="ingot-snapshot-")
    print(f"     temporary directory {tmp}, seed {ARGS.seed}, slow {SLOW}", flush=True)
    server = FeedServer()
    ctx = {"server": server, "tmp": tmp}
    scenarios = [(1, scenario_decode_and_restart), (3, scenario_bad_files),
                 (4, scenario_crash), (5, scenario_national), (6, scenario_clock_back)]
    only = {int(x) for x in ARGS.only.split(",")} if ARGS.only else None
    started = time.monotonic()
    try:
        for number, fn in scenarios:
            if only and number not in only and not (number == 1 and only & {3, 6}):
                continue
            t = time.monotonic()
            try:
                fn(ctx)
            except Abort:
                pass
            except Exception:
                traceback.print_exc()
                check(f"{fn.__name__} ran to its end", False)
            print(f"     {fn.__name__}: {time.monotonic() - t:.1f}s", flush=True)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        server.close()
    print(f"     total {time.monotonic() - started:.1f}s", flush=True)
    if ARGS.keep or False in harness.results:
        print(f"     logs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
