#!/usr/bin/python3
"""Integration test of remote write into real receivers.

Usage:
    python3 test_remote_write.py --ingotd build/ingotd \
        --victoria-metrics /usr/bin/victoria-metrics --prometheus /usr/bin/prometheus [--slow 3]

Standard library only. Everything runs on 127.0.0.1 on free ports, in a
temporary directory (state_dir included: never /var/lib/ingot), with every
wait bounded; --slow (or INGOT_TEST_SLOW) multiplies the waits for
sanitizer builds. A feed server in this process serves one JSON document, a
fleet's history: five plants, three metals (one plant reports two), 30
months (2023-01..2025-06) of all five quantities, with ingotd's clock at
--time.now=2025-07-15T00:00:00Z. Expected values are the document's own.

1. ingotd writes into VictoriaMetrics (retention 100y) and Prometheus
   (--web.enable-remote-write-receiver, out_of_order_time_window 3650d in its
   config file, retention 100y) at once. VictoriaMetrics' /api/v1/export and
   Prometheus' /api/v1/query (a range selector over all of it) give back
   every monthly sample at the start of its month with exactly the fed value,
   labels exactly {__name__, country, granularity="month", metal, plant,
   source} (the external labels on every series); the national production
   and target series equal what /metrics exports, at the evaluation's time.
2. VictoriaMetrics stopped, a new plant's history fed meanwhile: the samples
   wait in the queue (ingot_remote_write_queue_samples), none fails or is
   dropped, Prometheus keeps receiving; VictoriaMetrics started again: all of
   them arrive.
3. VictoriaMetrics stopped again, another plant fed, ingotd stopped with
   SIGTERM: exit 0 and state_dir/remote-write-vm.pending (frame magic
   INGOTRW1); VictoriaMetrics and ingotd started again: the pending samples
   arrive, the file is gone, and the history restored from the snapshot is
   not sent twice (no duplicate timestamps in VictoriaMetrics).
4. A stub receiver (here, for error cases only) answers 500, then 429 with
   Retry-After: 1, then 400 "bad sample", then 204: the first batch is sent
   three times unchanged (after the backoff, after a second), then dropped
   and counted as failed, its message logged; every later batch is
   accepted, and every body is a snappy block of a WriteRequest whose series
   carry sorted labels with __name__ and no empty value (decoded here). A
   second remote that always answers 503 with a queue of 200 drops the
   oldest samples and counts them: sent + failed + dropped + queued adds up.
The last line is "N passed, M failed".
"""

import argparse
import calendar
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from decimal import Decimal
import http.server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FeedServer, check, free_port, summary, wait_until  # noqa: E402

NOW = "2025-07-15T00:00:00Z"
MONTHS = [(2023 + i // 12, i % 12 + 1) for i in range(30)]
FIELDS = ["production_tonnes", "co2_tonnes", "energy_mwh", "waste_tonnes",
          "waste_recycled_tonnes"]
EXTERNAL = {"country": "kz", "source": "ingot_test"}
FLEET = [("kz-balkhash-cu", "copper", 11600), ("kz-zhezkazgan-cu", "copper", 8200),
         ("kz-ust-kamenogorsk-zn", "zinc", 6700), ("kz-ust-kamenogorsk-zn", "copper", 900),
         ("kz-ridder-zn", "zinc", 3900), ("kz-pavlodar-al", "aluminum", 21400)]
LATER = {"phase2": [("kz-ekibastuz-al", "aluminum", 9800)],
         "phase3": [("kz-shymkent-zn", "zinc", 2500)]}
ALL_PLANTS = sorted({p for p, _, _ in FLEET} | {p for v in LATER.values() for p, _, _ in v})

ARGS = None
SLOW = 1.0
PROCS = []


def ms_of(year, month):
    return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000


def series_values(plant, metal, base):
    """{(field, ms): value as a 1-decimal string} for 30 months of a plant."""
    out = {}
    for i, (y, m) in enumerate(MONTHS):
        production = Decimal(base) + Decimal(i * 37 % 101) + Decimal(len(plant) % 7) / 10
        waste = (production * Decimal("0.31")).quantize(Decimal("0.1"))
        values = {"production_tonnes": production,
                  "co2_tonnes": (production * Decimal("0.87")).quantize(Decimal("0.1")),
                  "energy_mwh": (production * Decimal("4.1")).quantize(Decimal("0.1")),
                  "waste_tonnes": waste,
                  "waste_recycled_tonnes": (waste * Decimal("0.8")).quantize(Decimal("0.1"))}
        for f in FIELDS:
            out[(f, ms_of(y, m))] = values[f]
    return out


def document(rows):
    plants = {}
    for plant, metal, base in rows:
        recs = plants.setdefault(plant, [])
        vals = series_values(plant, metal, base)
        for (y, m) in MONTHS:
            rec = {"metal": metal, "period": f"{y:04d}-{m:02d}"}
            for f in FIELDS:
                rec[f] = float(vals[(f, ms_of(y, m))])
            recs.append(rec)
    return {"schema": "ingot.feed.v1",
            "plants": [{"id": p, "records": r} for p, r in plants.items()]}


def expected(rows):
    """{(metric, plant, metal, ms): float} of every sample rows should give."""
    out = {}
    for plant, metal, base in rows:
        for (f, ms), v in series_values(plant, metal, base).items():
            out[(f"ingot_plant_{f}", plant, metal, ms)] = float(v)
    return out


# --------------------------------------------------------------------------
# Servers


def snappy_decompress(data):
    """A snappy block (not the framing format), decoded from its spec."""
    pos, length, shift = 0, 0, 0
    while True:
        b = data[pos]
        pos += 1
        length |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    out = bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:
            n = tag >> 2
            if n >= 60:
                extra = n - 59
                n = int.from_bytes(data[pos:pos + extra], "little")
                pos += extra
            n += 1
            out += data[pos:pos + n]
            pos += n
            continue
        if kind == 1:
            n, off = ((tag >> 2) & 7) + 4, ((tag >> 5) << 8) | data[pos]
            pos += 1
        elif kind == 2:
            n, off = (tag >> 2) + 1, int.from_bytes(data[pos:pos + 2], "little")
            pos += 2
        else:
            n, off = (tag >> 2) + 1, int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        for _ in range(n):
            out.append(out[-off])
    if len(out) != length:
        raise ValueError("snappy: length mismatch")
    return bytes(out)


def pb_fields(buf):
    """(number, wire type, value) of each field of a protobuf message."""
    pos = 0

    def varint():
        nonlocal pos
        v, shift = 0, 0
        while True:
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    while pos < len(buf):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, wire, varint()
        elif wire == 1:
            yield number, wire, buf[pos:pos + 8]
            pos += 8
        elif wire == 2:
            n = varint()
            yield number, wire, buf[pos:pos + n]
            pos += n
        elif wire == 5:
            pos += 4
        else:
            raise ValueError("bad wire type")


def write_request(plain):
    """[(labels as a list of (name, value), [(ms, value)])] of a WriteRequest."""
    import struct
    series = []
    for number, wire, ts in pb_fields(plain):
        if number != 1 or wire != 2:
            continue
        labels, samples = [], []
        for n2, w2, v in pb_fields(ts):
            if n2 == 1 and w2 == 2:
                d = {k: bytes(x).decode() for k, _, x in pb_fields(v) if _ == 2}
                labels.append((d.get(1, ""), d.get(2, "")))
            elif n2 == 2 and w2 == 2:
                value, stamp = 0.0, 0
                for n3, w3, x in pb_fields(v):
                    if n3 == 1 and w3 == 1:
                        value = struct.unpack("<d", x)[0]
                    elif n3 == 2 and w3 == 0:
                        stamp = x - (1 << 64) if x >= 1 << 63 else x
                samples.append((stamp, value))
        series.append((labels, samples))
    return series


class StubReceiver:
    """Answers /api/v1/write from a script (then 204) and /down with 503."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []  # (monotonic time, path, headers, body)
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.requests.append((time.monotonic(), self.path, dict(self.headers), body))
                    if self.path == "/down":
                        status, headers, text = 503, {}, "down"
                    elif outer.script:
                        status, headers, text = outer.script.pop(0)
                    else:
                        status, headers, text = 204, {}, ""
                data = text.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def writes(self):
        with self.lock:
            return [r for r in self.requests if r[1] == "/api/v1/write"]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Service:
    """A receiver process (VictoriaMetrics or Prometheus) on a fixed port."""

    def __init__(self, name, cmd, port, ready_path):
        self.name, self.cmd, self.port, self.ready_path = name, cmd, port, ready_path
        self.proc = None
        self.log = open(os.path.join(TMP, f"{name}.log"), "a")

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=self.log, cwd=TMP)
        PROCS.append(self.proc)
        ok = wait_until(lambda: http_get(self.port, self.ready_path) is not None, 30 * SLOW, 0.1)
        return check(f"{self.name} is up", ok)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def http_get(port, path, params=None, timeout=10):
    url = f"http://127.0.0.1:{port}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode()
    except OSError:
        return None


class Ingotd:
    def __init__(self, name, config):
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "ingot.yaml")
        with open(self.config, "w") as f:
            f.write(config)
        self.log_path = os.path.join(self.dir, "ingotd.log")
        self.port = free_port()
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [ARGS.ingotd, f"--config.file={self.config}",
             f"--web.listen-address=127.0.0.1:{self.port}", f"--time.now={NOW}"],
            stdout=subprocess.DEVNULL, stderr=log, cwd=self.dir)
        log.close()
        PROCS.append(self.proc)
        return wait_until(lambda: http_get(self.port, "/-/healthy") is not None, 10 * SLOW, 0.02)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def metrics(self):
        return http_get(self.port, "/metrics") or ""

    def sample(self, name, **labels):
        text = self.metrics()
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        prefix = f"{name}{{{want}}} " if want else f"{name} "
        for line in text.splitlines():
            if line.startswith(prefix):
                return float(line[len(prefix):])
        return None

    def remote(self, remote, text=None):
        """(sent, failed, dropped, queued) of a remote, from text or a scrape."""
        text = text if text is not None else self.metrics()
        out = []
        for result in ("sent", "failed", "dropped"):
            key = f'ingot_remote_write_samples_total{{remote="{remote}",result="{result}"}} '
            out.append(next((float(l[len(key):]) for l in text.splitlines()
                             if l.startswith(key)), None))
        key = f'ingot_remote_write_queue_samples{{remote="{remote}"}} '
        out.append(next((float(l[len(key):]) for l in text.splitlines() if l.startswith(key)),
                        None))
        return tuple(out)


def config(state_dir, feed_port, remotes, extra=""):
    lines = [f"state_dir: {json.dumps(state_dir)}", "snapshot: {interval: 1s}",
             "metals: [copper, zinc, aluminum]", "feeds:", "  - name: fleet",
             f"    url: http://127.0.0.1:{feed_port}/fleet.json", "    format: json",
             "    interval: 1s", f"    plants: [{', '.join(ALL_PLANTS)}]",
             "targets:", "  baseline_year: 2023", "  years:", "    - year: 2025",
             "      production_tonnes: {copper: 280000, zinc: 150000, aluminum: 320000}",
             "remote_write:"]
    for r in remotes:
        lines.append(f"  - url: {r.pop('url')}")
        lines += [f"    {k}: {v}" for k, v in r.items()]
    return "\n".join(lines) + "\n" + extra


# --------------------------------------------------------------------------
# Reading the receivers


def vm_export(port, match):
    """{(metric, plant, metal, ms): [values]} and the label sets seen."""
    text = http_get(port, "/api/v1/export", {"match[]": match, "start": "0"}, timeout=30)
    samples, labelsets = {}, []
    for line in (text or "").splitlines():
        row = json.loads(line)
        m = row["metric"]
        labelsets.append(m)
        for v, t in zip(row["values"], row["timestamps"]):
            samples.setdefault((m["__name__"], m.get("plant"), m.get("metal"), t), []).append(v)
    return samples, labelsets


def prom_range(port, selector):
    """Every raw sample of selector through a range selector at the wall clock."""
    text = http_get(port, "/api/v1/query",
                    {"query": f"{selector}[3650d]", "time": f"{time.time():.3f}"}, timeout=30)
    samples, labelsets = {}, []
    if not text:
        return samples, labelsets
    for row in json.loads(text)["data"]["result"]:
        m = row["metric"]
        labelsets.append(m)
        for t, v in row["values"]:
            key = (m["__name__"], m.get("plant"), m.get("metal"), int(round(float(t) * 1000)))
            samples.setdefault(key, []).append(float(v))
    return samples, labelsets


def compare(name, got, want):
    """Every wanted sample present once with exactly its value."""
    missing = [k for k in want if k not in got]
    wrong = [(k, got[k], want[k]) for k in want if k in got and got[k] != [want[k]]]
    check(f"{name}: all {len(want)} samples, each once, exactly", not missing and not wrong,
          f"missing {len(missing)} e.g. {missing[:2]}; wrong {len(wrong)} e.g. {wrong[:2]}")


def plant_labels_ok(labelsets):
    want_names = {"__name__", "country", "granularity", "metal", "plant", "source"}
    bad = [m for m in labelsets if m["__name__"].startswith("ingot_plant_") and
           (set(m) != want_names or m["granularity"] != "month" or
            any(m[k] != v for k, v in EXTERNAL.items()))]
    return not bad and labelsets, bad[:2]


# --------------------------------------------------------------------------


def main():
    global ARGS, SLOW, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingotd", required=True)
    ap.add_argument("--victoria-metrics", required=True)
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--slow", type=float, default=float(os.environ.get("INGOT_TEST_SLOW", "1")))
    ARGS = ap.parse_args()
    ARGS.ingotd = os.path.abspath(ARGS.ingotd)
    SLOW = ARGS.slow
    TMP = tempfile.mkdtemp(prefix="ingot-remote-write-")
    feed = FeedServer()
    stub = None
    try:
        stub = run(feed)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        feed.close()
        if stub:
            stub.close()
        shutil.rmtree(TMP, ignore_errors=True)
    return summary()


def run(feed):
    vm_port, prom_port = free_port(), free_port()
    vm = Service("victoria-metrics",
                 [ARGS.victoria_metrics, f"-storageDataPath={TMP}/vm",
                  f"-httpListenAddr=127.0.0.1:{vm_port}", "-retentionPeriod=100y",
                  "-search.disableCache", "-loggerLevel=WARN"], vm_port, "/health")
    with open(os.path.join(TMP, "prometheus.yml"), "w") as f:
        f.write("storage:\n  tsdb:\n    out_of_order_time_window: 3650d\n")
    prom = Service("prometheus",
                   [ARGS.prometheus, f"--config.file={TMP}/prometheus.yml",
                    f"--storage.tsdb.path={TMP}/prom",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--web.enable-remote-write-receiver", "--storage.tsdb.retention.time=100y",
                    "--log.level=warn"], prom_port, "/-/ready")
    if not (vm.start() and prom.start()):
        return None

    # 1. History into both.
    feed.set("/fleet.json", document(FLEET))
    want = expected(FLEET)
    labels = "{country: kz, source: ingot_test}"
    remotes = [
        {"url": f"http://127.0.0.1:{vm_port}/api/v1/write", "name": "vm",
         "external_labels": labels, "batch_max_samples": 500, "batch_deadline": "200ms",
         "min_backoff": "50ms", "max_backoff": "500ms"},
        {"url": f"http://127.0.0.1:{prom_port}/api/v1/write", "name": "prom",
         "external_labels": labels, "batch_deadline": "200ms"},
    ]
    state = os.path.join(TMP, "state")
    d = Ingotd("ingotd", config(state, feed.port, remotes))
    started = time.time()
    if not check("ingotd starts", d.start()):
        return None

    def delivered(remote, at_least):
        r = d.remote(remote)
        return r if r[0] is not None and r[0] >= at_least and r[3] == 0 else None

    for remote in ("vm", "prom"):
        r = wait_until(lambda: delivered(remote, len(want)), 60 * SLOW, 0.1)
        check(f"{remote}: every record sample sent, queue empty", r is not None, d.remote(remote))
        check(f"{remote}: nothing failed or dropped", r and r[1] == 0 and r[2] == 0, r)

    got = wait_until(lambda: (s := vm_export(vm_port, '{__name__=~"ingot_plant_.*"}'))[0]
                     and len(s[0]) >= len(want) and s, 30 * SLOW, 0.25)
    got = got or ({}, [])
    compare("VictoriaMetrics monthly history", got[0], want)
    ok, bad = plant_labels_ok(got[1])
    check("VictoriaMetrics: plant series carry exactly their labels and the external ones", ok,
          bad)

    national = {}
    for metal in ("copper", "zinc", "aluminum"):
        for year in ("2023", "2024", "2025"):
            national[(metal, year)] = d.sample("ingot_national_production_tonnes",
                                               metal=metal, year=year)
    hand = {}
    for (name, plant, metal, ms), v in want.items():
        if name == "ingot_plant_production_tonnes":
            year = time.gmtime(ms / 1000).tm_year
            hand[(metal, str(year))] = hand.get((metal, str(year)), Decimal(0)) + Decimal(str(v))
    check("/metrics national production equals the fed sums",
          all(national[k] == float(hand[k]) for k in national), (national, hand))

    text = wait_until(lambda: http_get(vm_port, "/api/v1/export",
                                       {"match[]": "ingot_national_production_tonnes",
                                        "start": "0"}), 30 * SLOW, 0.25) or ""
    latest = {}
    for line in text.splitlines():
        row = json.loads(line)
        i = max(range(len(row["timestamps"])), key=lambda j: row["timestamps"][j])
        latest[(row["metric"]["metal"], row["metric"]["year"])] = (
            row["values"][i], row["timestamps"][i], row["metric"])
    check("VictoriaMetrics national production equals /metrics, exactly",
          all(latest.get(k, (None,))[0] == v for k, v in national.items()),
          {k: latest.get(k, (None,))[0] for k in national})
    stamps_ok = latest and all(started * 1000 - 1000 <= t <= time.time() * 1000
                               for _, t, _ in latest.values())
    check("national samples carry the evaluation's wall-clock time", stamps_ok)
    check("national series carry the external labels",
          latest and all(all(m.get(k) == v for k, v in EXTERNAL.items())
                         for _, _, m in latest.values()))
    tt = http_get(vm_port, "/api/v1/export",
                  {"match[]": 'ingot_target_production_tonnes{metal="copper",year="2025"}',
                   "start": "0"}) or ""
    check("VictoriaMetrics has the production target",
          tt and json.loads(tt.splitlines()[0])["values"][-1] == 280000, tt[:200])

    pgot = wait_until(lambda: (s := prom_range(prom_port, '{__name__=~"ingot_plant_.*"}'))[0]
                      and len(s[0]) >= len(want) and s, 30 * SLOW, 0.25) or ({}, [])
    compare("Prometheus monthly history", pgot[0], want)
    ok, bad = plant_labels_ok(pgot[1])
    check("Prometheus: plant series carry exactly their labels and the external ones", ok, bad)
    ptext = http_get(prom_port, "/api/v1/query", {"query": "ingot_national_production_tonnes"})
    pnat = {}
    for row in (json.loads(ptext)["data"]["result"] if ptext else []):
        pnat[(row["metric"]["metal"], row["metric"]["year"])] = float(row["value"][1])
    check("Prometheus national production equals /metrics, exactly",
          all(pnat.get(k) == v for k, v in national.items()), pnat)

    # 2. VictoriaMetrics down for a while: nothing lost.
    vm.stop()
    sent_before = d.remote("vm")[0]
    prom_before = d.remote("prom")[0]
    feed.set("/fleet.json", document(FLEET + LATER["phase2"]))
    want2 = expected(LATER["phase2"])
    queued = wait_until(lambda: (r := d.remote("vm"))[3] >= len(want2) and r, 30 * SLOW, 0.1)
    check("receiver down: the new samples wait in the queue", queued, d.remote("vm"))
    check("receiver down: Prometheus keeps receiving",
          wait_until(lambda: d.remote("prom")[0] >= prom_before + len(want2), 30 * SLOW, 0.1))
    time.sleep(2 * SLOW)  # several retries
    r = d.remote("vm")
    check("receiver down: retried, nothing failed or dropped",
          r[1] == 0 and r[2] == 0 and r[0] == sent_before, r)
    check("receiver down: the failure is logged", "remote write vm: " in d.log())
    if not vm.start():
        return None
    check("receiver back: the queue drains",
          wait_until(lambda: d.remote("vm")[3] == 0, 60 * SLOW, 0.1), d.remote("vm"))
    got = wait_until(lambda: (s := vm_export(vm_port, '{plant="kz-ekibastuz-al"}'))[0]
                     and len(s[0]) >= len(want2) and s, 30 * SLOW, 0.25) or ({}, [])
    compare("receiver back: the history fed while it was down", got[0], want2)

    # 3. A planned restart with samples pending, the receiver still down.
    vm.stop()
    feed.set("/fleet.json", document(FLEET + LATER["phase2"] + LATER["phase3"]))
    want3 = expected(LATER["phase3"])
    check("before the restart: samples pending",
          wait_until(lambda: d.remote("vm")[3] >= len(want3), 30 * SLOW, 0.1), d.remote("vm"))
    rc = d.stop()
    check("SIGTERM exits 0", rc == 0, rc)
    pending = os.path.join(state, "remote-write-vm.pending")
    magic = open(pending, "rb").read(8) if os.path.exists(pending) else b""
    check("the pending samples are saved in state_dir", magic == b"INGOTRW1", magic)
    check("the save is logged", "pending samples saved to " + pending in d.log())
    if not vm.start():
        return None
    d.start()
    check("after the restart: the pending file is read and removed",
          wait_until(lambda: not os.path.exists(pending), 10 * SLOW, 0.05))
    check("the restore is logged", "pending samples restored from " + pending in d.log())
    check("after the restart: the queue drains",
          wait_until(lambda: (r := d.remote("vm"))[0] and r[3] == 0, 60 * SLOW, 0.1),
          d.remote("vm"))
    got = wait_until(lambda: (s := vm_export(vm_port, '{plant="kz-shymkent-zn"}'))[0]
                     and len(s[0]) >= len(want3) and s, 30 * SLOW, 0.25) or ({}, [])
    compare("after the restart: what was pending arrived", got[0], want3)
    sent_after = d.remote("vm")[0]
    check("after the restart: the restored history is not sent again",
          sent_after is not None and sent_after < len(want), sent_after)
    s, _ = vm_export(vm_port, '{__name__=~"ingot_plant_.*"}')
    compare("VictoriaMetrics: everything once", s, {**want, **want2, **want3})
    d.stop()
    vm.stop()
    prom.stop()

    # 4. Errors from a stub receiver.
    stub = StubReceiver([(500, {}, "storage unavailable"),
                         (429, {"Retry-After": "1"}, "slow down"),
                         (400, {}, "bad sample\nsecond line")])
    feed.set("/fleet.json", document(FLEET))
    remotes = [
        {"url": f"http://127.0.0.1:{stub.port}/api/v1/write", "name": "stub",
         "batch_max_samples": 100, "batch_deadline": "200ms", "min_backoff": "100ms",
         "max_backoff": "1s", "retry_on_http_429": "true"},
        {"url": f"http://127.0.0.1:{stub.port}/down", "name": "down",
         "batch_max_samples": 100, "queue_max_samples": 200, "min_backoff": "100ms",
         "max_backoff": "200ms"},
    ]
    e = Ingotd("errors", config(os.path.join(TMP, "state-errors"), feed.port, remotes))
    if not check("ingotd starts against the stub", e.start()):
        return stub
    settled = wait_until(lambda: (r := e.remote("stub"))[0] and r[3] == 0 and
                         r[0] + r[1] >= len(want) and r, 60 * SLOW, 0.1)
    check("stub: every sample sent or failed", settled, e.remote("stub"))
    writes = stub.writes()
    check("stub: the first batch is sent three times", len(writes) >= 4, len(writes))
    if len(writes) >= 4:
        check("500 and 429: the same batch is retried unchanged",
              writes[0][3] == writes[1][3] == writes[2][3])
        check("500: retried after min_backoff", writes[1][0] - writes[0][0] >= 0.09,
              writes[1][0] - writes[0][0])
        check("429: retried after its Retry-After", writes[2][0] - writes[1][0] >= 0.95,
              writes[2][0] - writes[1][0])
        first = write_request(snappy_decompress(writes[0][3]))
        n_first = sum(len(s) for _, s in first)
        sent, failed, dropped, queued = e.remote("stub")
        check("400: the batch is dropped and counted as failed", failed == n_first == 100,
              (failed, n_first))
        accepted = 0
        headers_ok = body_ok = True
        for _, _, headers, body in writes:
            h = {k.lower(): v for k, v in headers.items()}
            headers_ok &= (h.get("content-encoding") == "snappy" and
                           h.get("content-type") == "application/x-protobuf" and
                           h.get("x-prometheus-remote-write-version") == "0.1.0" and
                           h.get("user-agent", "").startswith("ingot/"))
            for labels, samples in write_request(snappy_decompress(body)):
                names = [n for n, _ in labels]
                body_ok &= (names == sorted(names) and names[0] == "__name__" and
                            all(n and v for n, v in labels) and
                            [t for t, _ in samples] == sorted(t for t, _ in samples))
        for _, _, _, body in writes[3:]:
            accepted += sum(len(s) for _, s in write_request(snappy_decompress(body)))
        check("every request has the remote write headers", headers_ok)
        check("every body: sorted labels, __name__ first, no empty value, samples in order",
              body_ok)
        check("every later batch is accepted: the stub got what ingot counts as sent",
              accepted == sent, (accepted, sent))
        check("the receiver's message is logged once",
              e.log().count('HTTP 400: "bad sample"') == 1)
    down = wait_until(lambda: (r := e.remote("down"))[2] and r, 10 * SLOW, 0.1)
    # Both remotes queue the same samples: one scrape reads them together.
    text = e.metrics()
    stub_r, down_r = e.remote("stub", text), e.remote("down", text)
    produced = (stub_r[0] or 0) + (stub_r[1] or 0) + (stub_r[3] or 0)
    if down:
        sent, failed, dropped, queued = down_r
        check("a full queue drops the oldest samples and counts them",
              dropped > 0 and sent == 0 and failed == 0 and queued <= 300, (dropped, queued))
        check("sent + failed + dropped + queued adds up to every sample",
              sent + failed + dropped + queued == produced, (dropped, queued, produced))
        check("the full queue is logged", "remote write down: queue full" in e.log())
    else:
        check("a full queue drops the oldest samples and counts them", False, e.remote("down"))
    check("SIGTERM exits 0 with a remote down", e.stop() == 0)
    return stub


if __name__ == "__main__":
    sys.exit(main())
